"""``manage.py admit_participant <file.json> [--publish]``: the scheme operator admits one participant.

The file describes the participant (see ``blauweknop.scheme.management.admission``): OIN, name,
slug, base_url, roles, document_types, jwks (its public keys), description and contact. A new
participant is admitted as certified from today; an admitted one is updated and keeps its
certification. Keys in the file that are new are added (the first one signs; later ones wait
for a rotation); keys left out of the file stay until the operator retires or revokes them.
With ``--publish`` a new scheme document is signed in the same transaction, so the change is
published whole or not at all. Bad input exits with code 2 and writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from blauweknop.scheme import keys, publication
from blauweknop.scheme.management.admission import ROLES, Admission, Refused, admission
from blauweknop.scheme.models import Organisation

MAX_FILE = 1024 * 1024  # a participant's description is a few kilobytes; anything far larger is a mistake
BAD_INPUT = 2


class Command(BaseCommand):
    help = "Admit one participant to the scheme, or update it, from a JSON file; --publish signs a new scheme document."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The JSON file that describes the participant.")
        parser.add_argument("--publish", action="store_true", help="Publish a new scheme document afterwards.")

    def handle(self, *args: Any, file: Path, publish: bool, **options: Any) -> None:
        admitted = _checked(_read(file))
        created, version = _store(admitted, publish=publish)
        roles = ", ".join(role for role, flag in ROLES.items() if admitted.fields[flag])
        what = "Admitted" if created else "Updated"
        self.stdout.write(f"{what} {admitted.fields['name']} (OIN {admitted.oin}) as {roles}.")
        if version is None:
            self.stdout.write("Nothing is published yet: run again with --publish, or publish later.")
        else:
            self.stdout.write(f"Published scheme document version {version}.")


def _refuse(*problems: str) -> CommandError:
    return CommandError("Nothing was changed.\n" + "\n".join(f"- {p}" for p in problems), returncode=BAD_INPUT)


def _read(file: Path) -> Any:
    """The parsed JSON of ``file``, read up to MAX_FILE bytes."""
    try:
        with file.open("rb") as handle:
            content = handle.read(MAX_FILE + 1)
    except OSError as exc:
        raise _refuse(f"The file {file} cannot be read ({exc.strerror or type(exc).__name__}).") from None
    if len(content) > MAX_FILE:
        raise _refuse(f"The file {file} is larger than {MAX_FILE // 1024} KB.")
    try:
        return json.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise _refuse(f"The file {file} is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise _refuse(
            f"The file {file} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from None
    except RecursionError:
        raise _refuse(f"The file {file} is nested too deeply.") from None
    except ValueError:  # e.g. a number of thousands of digits, which Python refuses to convert
        raise _refuse(f"The file {file} is not valid JSON: it holds a value that is far too large.") from None


def _checked(raw: Any) -> Admission:
    try:
        return admission(raw)
    except Refused as refused:
        raise _refuse(*refused.problems) from None


@transaction.atomic
def _store(admitted: Admission, *, publish: bool) -> tuple[bool, int | None]:
    """Create or update the Organisation row (and publish); whether it was new, and the version published."""
    slug_taken = Organisation.objects.filter(slug=admitted.fields["slug"]).exclude(oin=admitted.oin)
    if slug_taken.exists():
        raise _refuse(f"The slug {admitted.fields['slug']!r} belongs to another participant already; choose another.")
    organisation = Organisation.objects.select_for_update().filter(oin=admitted.oin).first()
    created = organisation is None
    if created:
        organisation = Organisation(
            oin=admitted.oin, certification=Organisation.Certification.CERTIFIED, certified_since=timezone.localdate()
        )
    for name, value in admitted.fields.items():
        setattr(organisation, name, value)
    organisation.save()
    for jwk in admitted.jwks["keys"]:
        try:
            keys.add(admitted.oin, jwk)
        except keys.KeyRefused as refused:  # e.g. more keys than one owner may publish, with those it has
            raise _refuse(f"Key {jwk['kid']!r}: {refused.message}") from None
    return created, publication.publish().version if publish else None
