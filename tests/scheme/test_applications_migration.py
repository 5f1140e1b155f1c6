"""Migration 0004: an applicant stored as a participant before applications were kept apart becomes an application,
so its OIN, slug and keys no longer block the real organisation (attack review A11)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from blauweknop.protocol.jwk import generate_jwk, public_jwk

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE, AFTER = [("scheme", "0003_kind")], [("scheme", "0004_applications_apart")]
APPLICANT, CERTIFIED = "00000009876543210000", "00000009876543211000"


def test_a_waiting_applicant_becomes_an_application_and_a_participant_stays():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    for oin, state in ((APPLICANT, "applied"), (CERTIFIED, "certified")):
        old.get_model("scheme", "Organisation").objects.create(
            oin=oin, name=f"Deelnemer {state}", slug=f"deelnemer-{state}", is_holder=True, certification=state
        )
        jwk = public_jwk(generate_jwk())
        old.get_model("scheme", "Key").objects.create(owner=oin, kid=jwk["kid"], public_jwk=jwk, state="current")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Organisation, Key, Application = (new.get_model("scheme", name) for name in ("Organisation", "Key", "Application"))
    assert list(Organisation.objects.values_list("oin", flat=True)) == [CERTIFIED]
    assert list(Key.objects.values_list("owner", flat=True)) == [CERTIFIED]
    moved = Application.objects.get()
    assert (moved.oin, moved.slug, moved.state, moved.fields["is_holder"]) == (
        APPLICANT,
        "deelnemer-applied",
        "waiting",
        True,
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
