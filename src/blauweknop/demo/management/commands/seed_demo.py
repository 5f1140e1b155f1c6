"""``manage.py seed_demo``: the demo organisations, their keys and sources, and a scheme document."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from blauweknop import keystore
from blauweknop.demo.citizens import DEFAULT_COUNT, DEFAULT_SEED, Citizen, make_citizens
from blauweknop.demo.organisations import ORGANISATIONS
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol.jwk import jwks
from blauweknop.scheme import catalogue, publication
from blauweknop.scheme.models import Organisation

DEMO_BSNS_SHOWN = 3


class Command(BaseCommand):
    help = "Create or refresh the demo world (idempotent) and publish a scheme document."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--citizens", type=int, default=DEFAULT_COUNT)

    def handle(self, *args: Any, seed: int, citizens: int, **options: Any) -> None:
        people, version = self.seed(seed, citizens)
        self.stdout.write(
            f"Demo world ready: {len(ORGANISATIONS)} organisations, {len(people)} citizens, "
            f"{SourceRecord.objects.count()} source documents, scheme document version {version}."
        )
        rich = sorted(people, key=lambda p: -len(p.documents))[:DEMO_BSNS_SHOWN]
        self.stdout.write("Demo BSNs (fictional test numbers), with the most data first:")
        for person in rich:
            self.stdout.write(f"  {person.bsn}  {person.name}  ({len(person.documents)} documents)")

    @transaction.atomic
    def seed(self, seed: int, citizens: int) -> tuple[list[Citizen], int]:
        """Everything at once, or nothing: a half-seeded demo would confuse more than an error."""
        organisations = {}
        for spec in ORGANISATIONS:
            key = keystore.signing_key(spec["oin"])  # made at first run, outside git
            organisation, _ = Organisation.objects.update_or_create(
                oin=spec["oin"],
                defaults={**spec, "certified_since": date(2026, 1, 5), "public_jwks": jwks([key.public_jwk])},
            )
            organisations[organisation.slug] = organisation
        people = make_citizens(seed, citizens)
        records = [
            SourceRecord(holder=organisations[slug], document_type=type_id, bsn=person.bsn, data=data)
            for person in people
            for (slug, type_id), data in person.documents.items()
        ]
        for record in records:  # the generator must keep to the catalogue, like any real source
            catalogue.document_type(record.document_type).validate(record.data)
        SourceRecord.objects.filter(holder__in=organisations.values()).delete()
        SourceRecord.objects.bulk_create(records)
        return people, publication.publish().version
