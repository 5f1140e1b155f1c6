"""``manage.py seed_demo``: the demo world, for the roles this deployment plays.

With the scheme role: the demo organisations, their public keys, and a published scheme document.
With the holder role: the demo source records of this deployment's tenants (``BLAUWEKNOP_HOLDER_OINS``)
and nothing else: a holder learns the rest from the scheme document. With the requester role: a staff
login per requester of this deployment (``BLAUWEKNOP_REQUESTER_OINS``) for the staff pages at /vragers/,
its password and TOTP key derived from the deployment's secret key (the demo's first run makes it; never in
git), so a second run prints the same logins; with the scheme role, likewise a login for the operator's staff
(/stelsel/beheer/); with the holder role, one for the staff of two holders, who decide on correction requests
(/gegevenshouder/beheer/). The demo plays every role.

Outside the demo (``BLAUWEKNOP_DEMO`` off) it refuses unless ``--fictional-data`` says the operator
knows it writes fictional organisations and citizens (a trial deployment). It never deletes a
source row it did not make: a second run replaces only the rows of the demo citizens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from blauweknop import keystore
from blauweknop.demo.citizens import DEFAULT_COUNT, DEFAULT_SEED, Citizen, make_citizens
from blauweknop.demo.organisations import ORGANISATIONS
from blauweknop.scheme import catalogue

DEMO_BSNS_SHOWN = 3
OPERATOR = "stelsel"  # what the operator's demo login is derived for (an OIN for a requester's staff)
OPERATOR_USERNAME = "beheerder"
OPERATOR_NAME = "Beheerder van het stelsel"
# The demo holders with a staff login for their correction requests (two, so that each sees only its own).
HOLDER_STAFF = {"00000001003214345000": "medewerker", "00000001005165486000": "medewerker-studiefinanciering"}
DEMO_REASON = "Demo"  # the reason of the demo organisations' certification in the audit trail
BSNS_PER_DELETE = 500  # well under SQLite's limit on the parameters of one statement


def register_organisations() -> int:
    """The demo organisations in the operator's register, then a newly published scheme document; its version."""
    from blauweknop.scheme import audit, keys, publication
    from blauweknop.scheme.models import Key, Organisation

    for spec in ORGANISATIONS:
        key = keystore.signing_key(spec["oin"])  # made at first run, outside git
        _organisation, created = Organisation.objects.update_or_create(
            oin=spec["oin"], defaults={**spec, "certified_since": date(2026, 1, 5)}
        )
        if created:  # its certification in the audit trail, so its page shows a history; once, not per re-seed
            audit.record(actor=keys.SYSTEM, action="certified", subject=spec["oin"], reason=DEMO_REASON)
        added = keys.add(spec["oin"], key.public_jwk)
        if added.state != Key.State.CURRENT:  # a key folder made anew: the demo signs with what it has on disk
            Key.objects.filter(owner=spec["oin"], state=Key.State.CURRENT).update(state=Key.State.RETIRED)
            Key.objects.filter(pk=added.pk).update(state=Key.State.CURRENT)
    return publication.publish().version


def fill_sources(people: list[Citizen], oins: list[str]) -> int:
    """The demo source records of the holders ``oins``, replacing earlier demo rows of these people; how many."""
    from blauweknop.holder.models import SourceRecord

    slugs = {spec["slug"]: spec["oin"] for spec in ORGANISATIONS if spec["oin"] in oins}
    records = [
        SourceRecord(holder_oin=slugs[slug], document_type=type_id, bsn=person.bsn, data=data)
        for person in people
        for (slug, type_id), data in person.documents.items()
        if slug in slugs
    ]
    for record in records:  # the generator must keep to the catalogue, like any real source
        catalogue.document_type(record.document_type).validate(record.data)
    # Only the rows of the demo's own citizens: whatever else the table holds is someone's registry.
    bsns = [person.bsn for person in people]
    for start in range(0, len(bsns), BSNS_PER_DELETE):
        SourceRecord.objects.filter(
            holder_oin__in=slugs.values(), bsn__in=bsns[start : start + BSNS_PER_DELETE]
        ).delete()
    SourceRecord.objects.bulk_create(records)
    return len(records)


@dataclass(frozen=True)
class StaffLogin:
    """How a person logs in as staff of a demo requester, a demo holder or the scheme operator."""

    organisation: str  # its name
    username: str
    password: str
    totp_secret: str  # base32, in groups of four, as an authenticator app asks it to be typed
    totp_url: str  # otpauth://, for a QR code or a link


def staff_login(secret_key: str, oin: str) -> tuple[str, str]:
    """The demo login of the requester ``oin``'s staff member, derived from the deployment's secret key: a
    password (``xxxx-xxxx-xxxx-xxxx``, 80 bits) and a TOTP key (20 bytes, hex). Nothing of the key can be
    learnt from them, and the same key gives the same login."""

    def derive(purpose: str) -> bytes:
        message = f"blauweknop.demo.staff.{purpose}:{oin}".encode()
        return hmac.new(secret_key.encode(), message, hashlib.sha256).digest()

    letters = base64.b32encode(derive("password")[:10]).decode().lower()
    password = "-".join(letters[i : i + 4] for i in range(0, len(letters), 4))
    return password, derive("totp")[:20].hex()


def _demo_login(name: str, username: str, derived_for: str, command: str, *args: str) -> StaffLogin:
    """A staff login made by ``command`` (``requester_staff``, ``operator_staff``), its password and TOTP key derived
    for ``derived_for``."""
    from blauweknop.staff.login import secret, totp_device

    password, totp_key = staff_login(settings.SECRET_KEY, derived_for)
    call_command(command, *args, username, password=password, stdout=io.StringIO())
    # The TOTP key is derived, not random: after a new database the authenticator app still works.
    device = totp_device(get_user_model().objects.get(username=username))
    if device.key != totp_key or not device.confirmed:
        device.key, device.confirmed = totp_key, True
        device.save(update_fields=["key", "confirmed"])
    return StaffLogin(name, username, password, secret(device), device.config_url)


def make_staff() -> list[StaffLogin]:
    """A staff member (password and a confirmed authenticator app) for each demo requester of this deployment."""
    return [
        _demo_login(spec["name"], spec["slug"], spec["oin"], "requester_staff", spec["oin"])
        for spec in ORGANISATIONS
        if spec.get("is_requester") and spec["oin"] in settings.REQUESTER_OINS
    ]


def make_holder_staff() -> list[StaffLogin]:
    """A staff member of each demo holder in :data:`HOLDER_STAFF` this deployment serves, derived like the others."""
    return [
        _demo_login(
            spec["name"], HOLDER_STAFF[spec["oin"]], f"holder:{spec['oin']}", "holder_staff", "--holder", spec["oin"]
        )
        for spec in ORGANISATIONS
        if spec["oin"] in HOLDER_STAFF and spec["oin"] in settings.HOLDER_OINS
    ]


def make_operator() -> StaffLogin:
    """The demo's member of the scheme operator's staff, derived like the requesters' staff."""
    return _demo_login(OPERATOR_NAME, OPERATOR_USERNAME, OPERATOR, "operator_staff")


class Command(BaseCommand):
    help = "Create or refresh the demo world (idempotent) for this deployment's roles."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--citizens", type=int, default=DEFAULT_COUNT)
        parser.add_argument(
            "--fictional-data",
            action="store_true",
            help="Outside the demo: yes, write fictional organisations and citizens (a trial deployment only).",
        )

    def handle(self, *args: Any, seed: int, citizens: int, fictional_data: bool, **options: Any) -> None:
        roles = set(settings.BLAUWEKNOP_ROLES)
        if not roles & {"scheme", "holder", "requester"}:
            raise CommandError(
                "seed_demo fills the scheme, holder and requester roles; this deployment plays none of them."
            )
        if not (settings.DEMO or fictional_data):
            raise CommandError(
                "Nothing was changed: this is not the demo (BLAUWEKNOP_DEMO is off), and seed_demo writes fictional "
                "organisations and citizens into the scheme's register and the holders' source tables. "
                "For a trial deployment without real data, run it again with --fictional-data."
            )
        people = make_citizens(seed, citizens)
        with transaction.atomic():  # everything at once, or nothing: a half-seeded demo confuses more than an error
            sources = fill_sources(people, settings.HOLDER_OINS) if "holder" in roles else 0
            version = register_organisations() if "scheme" in roles else None
            logins = make_staff() if "requester" in roles else []
            holder_staff = make_holder_staff() if "holder" in roles else []
            operator = make_operator() if "scheme" in roles else None
        done = [f"{len(people)} citizens"]
        if version is not None:
            done += [f"{len(ORGANISATIONS)} organisations", f"scheme document version {version}"]
        if "holder" in roles:
            done.append(f"{sources} source documents for {len(settings.HOLDER_OINS)} holders")
        self.stdout.write(f"Demo world ready: {', '.join(done)}.")
        if "holder" in roles:
            self.show_bsns(people, set(settings.HOLDER_OINS))
        if "requester" in roles:
            self.show_staff(logins)
        if operator is not None:
            self.stdout.write("The scheme operator's login, at /stelsel/beheer/inloggen/:")
            self.show_login(operator)
        if holder_staff:  # last: what comes before the operator's login are the requesters' logins, as read so far
            self.stdout.write(
                "Staff logins of the holders, for correction requests, at /gegevenshouder/beheer/inloggen/:"
            )
            for login in holder_staff:
                self.show_login(login)

    def show_bsns(self, people: list[Citizen], oins: set[str]) -> None:
        """The citizens with the most documents at these holders, to log in with."""
        slugs = {spec["slug"] for spec in ORGANISATIONS if spec["oin"] in oins}
        held = {p.bsn: sum(slug in slugs for slug, _ in p.documents) for p in people}
        rich = sorted(people, key=lambda p: -held[p.bsn])[:DEMO_BSNS_SHOWN]
        self.stdout.write("Demo BSNs (fictional test numbers), with the most data first:")
        for person in rich:
            self.stdout.write(f"  {person.bsn}  {person.name}  ({held[person.bsn]} documents)")

    def show_staff(self, logins: list[StaffLogin]) -> None:
        """The staff logins to try the requester portal with."""
        self.stdout.write(
            "Staff logins of the requesters, at /vragers/inloggen/ (add the TOTP secret to an authenticator app):"
        )
        for login in logins:
            self.show_login(login)

    def show_login(self, login: StaffLogin) -> None:
        """One staff login: whose, the username and password, and the TOTP secret."""
        self.stdout.write(f"  {login.organisation}: username {login.username}, password {login.password}")
        self.stdout.write(f"    TOTP secret {login.totp_secret}  {login.totp_url}")
