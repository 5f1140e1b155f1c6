"""``manage.py seed_demo``: the demo world, for the roles this deployment plays.

With the scheme role: the demo organisations, their public keys, and a published scheme document.
With the holder role: the demo source records of this deployment's tenants (``BLAUWEKNOP_HOLDER_OINS``)
and nothing else: a holder learns the rest from the scheme document. The demo plays both.

Outside the demo (``BLAUWEKNOP_DEMO`` off) it refuses unless ``--fictional-data`` says the operator
knows it writes fictional organisations and citizens (a trial deployment). It never deletes a
source row it did not make: a second run replaces only the rows of the demo citizens.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from blauweknop import keystore
from blauweknop.demo.citizens import DEFAULT_COUNT, DEFAULT_SEED, Citizen, make_citizens
from blauweknop.demo.organisations import ORGANISATIONS
from blauweknop.protocol.jwk import jwks
from blauweknop.scheme import catalogue

DEMO_BSNS_SHOWN = 3
BSNS_PER_DELETE = 500  # well under SQLite's limit on the parameters of one statement


def register_organisations() -> int:
    """The demo organisations in the operator's register, then a newly published scheme document; its version."""
    from blauweknop.scheme import publication
    from blauweknop.scheme.models import Organisation

    for spec in ORGANISATIONS:
        key = keystore.signing_key(spec["oin"])  # made at first run, outside git
        Organisation.objects.update_or_create(
            oin=spec["oin"],
            defaults={**spec, "certified_since": date(2026, 1, 5), "public_jwks": jwks([key.public_jwk])},
        )
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
        if not roles & {"scheme", "holder"}:
            raise CommandError("seed_demo fills the scheme and holder roles; this deployment plays neither.")
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
        done = [f"{len(people)} citizens"]
        if version is not None:
            done += [f"{len(ORGANISATIONS)} organisations", f"scheme document version {version}"]
        if "holder" in roles:
            done.append(f"{sources} source documents for {len(settings.HOLDER_OINS)} holders")
        self.stdout.write(f"Demo world ready: {', '.join(done)}.")
        if "holder" in roles:
            self.show_bsns(people, set(settings.HOLDER_OINS))

    def show_bsns(self, people: list[Citizen], oins: set[str]) -> None:
        """The citizens with the most documents at these holders, to log in with."""
        slugs = {spec["slug"] for spec in ORGANISATIONS if spec["oin"] in oins}
        held = {p.bsn: sum(slug in slugs for slug, _ in p.documents) for p in people}
        rich = sorted(people, key=lambda p: -held[p.bsn])[:DEMO_BSNS_SHOWN]
        self.stdout.write("Demo BSNs (fictional test numbers), with the most data first:")
        for person in rich:
            self.stdout.write(f"  {person.bsn}  {person.name}  ({held[person.bsn]} documents)")
