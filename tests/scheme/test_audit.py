"""The operator's audit trail: append-only in the database, chained so that an edit made around the database is seen."""

from __future__ import annotations

import base64
import importlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection, transaction

from blauweknop.protocol.scheme_document import AuditAnchor
from blauweknop.scheme import audit, publication
from blauweknop.scheme.models import AuditEntry, PublishedDocument
from tests.concurrency import at_once

OIN = "00000009876543210000"
OTHER = "00000009876543211000"
# The statements that make the trail append-only, and those that take that away again, per database.
TRIGGERS = importlib.import_module("blauweknop.scheme.migrations.0002_operator")


def _three() -> list[AuditEntry]:
    return [
        audit.record(actor="aanvrager", action="applied", subject=OIN, details={"naam": "Waterschap Voorbeeld"}),
        audit.record(actor="beheerder-1", action="certified", subject=OIN, reason="Alle controles goed."),
        audit.record(actor="beheerder-2", action="suspended", subject=OTHER, reason="Lek gemeld."),
    ]


def _run(statements: dict[str, list[str]]) -> None:
    with connection.cursor() as cursor:
        for statement in statements.get(connection.vendor, []):
            cursor.execute(statement)


@contextmanager
def _without_the_triggers() -> Iterator[None]:
    """As someone with the database owner's rights could: the triggers gone while the block runs."""
    _run(TRIGGERS.DROP)
    try:
        yield
    finally:
        _run(TRIGGERS.APPEND_ONLY)


def _refused(sql: str, params: list) -> None:
    with (
        pytest.raises(DatabaseError, match="the audit trail cannot be changed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_each_entry_follows_from_the_one_before_it_and_the_history_is_per_subject():
    first, second, third = _three()
    assert first.previous == audit.GENESIS
    assert (second.previous, third.previous) == (first.digest, second.digest)
    assert audit.verify_chain() is None
    assert [e.action for e in audit.history(OIN)] == ["certified", "applied"]  # newest first
    assert [e.actor for e in audit.history(OTHER)] == ["beheerder-2"]
    assert audit.history("00000000000000000000") == []


@pytest.mark.django_db
def test_the_model_refuses_to_change_or_remove_an_entry():
    entry, *_ = _three()
    entry.reason = "iets anders"
    with pytest.raises(ValueError, match="cannot be changed"):
        entry.save()
    with pytest.raises(ValueError, match="cannot be removed"):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).reason == ""


@pytest.mark.django_db
def test_the_database_refuses_an_update_made_with_raw_sql():
    entry, *_ = _three()
    _refused("UPDATE scheme_auditentry SET reason = %s WHERE id = %s", ["weggepoetst", entry.pk])
    _refused("UPDATE scheme_auditentry SET actor = %s", ["iemand anders"])
    assert AuditEntry.objects.get(pk=entry.pk).reason == ""
    assert audit.verify_chain() is None


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite lets Django's test flush delete rows")
def test_postgresql_refuses_a_delete_made_with_raw_sql():
    _, second, _ = _three()
    _refused("DELETE FROM scheme_auditentry WHERE id = %s", [second.pk])
    assert AuditEntry.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("UPDATE scheme_auditentry SET reason = %s WHERE id = %s", ["Alle controles goed?"]),
        ("UPDATE scheme_auditentry SET actor = %s WHERE id = %s", ["beheerder-3"]),
        ("UPDATE scheme_auditentry SET details = %s WHERE id = %s", ['{"naam": "Iemand"}']),
        ("UPDATE scheme_auditentry SET at = %s WHERE id = %s", ["2020-01-01 00:00:00+00:00"]),
        ("DELETE FROM scheme_auditentry WHERE id = %s", []),
    ],
    ids=["reason", "actor", "details", "time", "removal"],
)
def test_the_chain_shows_an_edit_made_around_the_triggers(sql, params):
    _first, second, third = _three()
    with _without_the_triggers(), connection.cursor() as cursor:
        cursor.execute(sql, [*params, second.pk])
    # A changed entry no longer matches its digest; after a removal the next one no longer follows.
    assert audit.verify_chain() == (third.pk if sql.startswith("DELETE") else second.pk)
    _refused("UPDATE scheme_auditentry SET reason = %s WHERE id = %s", ["weer terug", third.pk])  # triggers back


@pytest.mark.django_db
def test_an_edit_that_also_rewrites_the_digest_breaks_the_link_to_the_next_entry():
    first, second, third = _three()
    forged = audit._digest(first.digest, second.at.isoformat(), "beheerder-1", "certified", OIN, "Anders.", {})
    with _without_the_triggers(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE scheme_auditentry SET reason = %s, digest = %s WHERE id = %s", ["Anders.", forged, second.pk]
        )
    assert audit.verify_chain() == third.pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("before", [0, 1], ids=["the-first-two", "after-an-entry"])
def test_two_records_at_once_chain_one_after_the_other(before):
    for n in range(before):
        audit.record(actor="systeem", action="document_published", subject="stelsel", details={"n": n})

    def slow_action() -> AuditEntry:
        # An action that records and then takes its time to commit: the other one must wait for it.
        with transaction.atomic():
            entry = audit.record(actor="beheerder-1", action="suspended", subject=OIN, reason="Tegelijk.")
            time.sleep(0.3)
            return entry

    results, failures = at_once(slow_action)
    assert failures == []
    assert len(results) == 2 and AuditEntry.objects.count() == before + 2
    assert audit.verify_chain() is None
    assert len({entry.previous for entry in AuditEntry.objects.all()}) == before + 2


@pytest.mark.django_db
def test_entries_cannot_be_removed_or_changed_in_bulk_either():
    _first, second, third = _three()
    for attempt in (
        lambda: AuditEntry.objects.filter(pk=third.pk).delete(),
        lambda: AuditEntry.objects.all().delete(),
        lambda: AuditEntry.objects.filter(pk=second.pk).update(reason="Anders."),
        lambda: AuditEntry.objects.bulk_update([second], ["reason"]),
    ):
        with pytest.raises(ValueError, match="Audit entries cannot be"):
            attempt()
    assert AuditEntry.objects.count() == 3 and AuditEntry.objects.get(pk=second.pk).reason == "Alle controles goed."


def _published() -> int:
    return publication.publish().version


def _with_claim(token: str, count: int, head: str) -> str:
    """``token`` with another audit claim and its old signature, as someone editing the database could make it."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["audit"] = {"count": count, "head": head}
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{edited}.{signature}"


@pytest.mark.django_db
def test_each_scheme_document_vouches_for_the_trail_and_a_cut_at_the_end_is_seen():
    *_older, third = _three()
    version = _published()
    assert audit.head() == AuditAnchor(3, third.digest)
    assert audit.missing_since() is None
    audit.record(actor="aanvrager", action="applied", subject=OTHER)  # after the document: not vouched for, fine
    assert audit.missing_since() is None
    with _without_the_triggers(), connection.cursor() as cursor:
        # The newest entries removed around the database: the chain that is left is whole.
        cursor.execute("DELETE FROM scheme_auditentry WHERE id >= %s", [third.pk])
    assert audit.verify_chain() is None
    assert audit.missing_since() == version


@pytest.mark.django_db
def test_a_rewritten_tail_and_an_edited_claim_are_seen_too():
    _first, second, third = _three()
    version = _published()
    forged = audit._digest(second.digest, third.at.isoformat(), "beheerder-2", "suspended", OTHER, "Anders.", {})
    with _without_the_triggers(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE scheme_auditentry SET reason = %s, digest = %s WHERE id = %s", ["Anders.", forged, third.pk]
        )
    assert audit.verify_chain() is None  # the newest entry, rewritten with its digest: the chain cannot tell
    assert audit.missing_since() == version
    document = PublishedDocument.objects.get(version=version)
    PublishedDocument.objects.filter(pk=document.pk).update(token=_with_claim(document.token, 3, forged))
    assert audit.missing_since() == version  # the claim edited to match: its signature no longer holds


@pytest.mark.parametrize(
    "reason",
    ["ok\u202eko", "rood \x1b[31m", "a\u2066b", "nul\x00", "tab\tweg", "los\rteken", "half \ud800"],
    ids=["bidi-override", "escape", "isolate", "nul", "tab", "carriage-return", "surrogate"],
)
def test_a_reason_with_a_control_or_direction_character_is_refused_in_words(reason):
    with pytest.raises(audit.BadReason, match="teken dat we niet bewaren"):
        audit.checked_reason(reason)


def test_a_reason_may_have_lines_and_any_language():
    assert (
        audit.checked_reason("  Eerste regel.\r\nTweede: café, 日本, مرحبا.  ")
        == "Eerste regel.\nTweede: café, 日本, مرحبا."
    )
    for blank in ("", "  \n", None, 3):
        with pytest.raises(audit.BadReason, match="Schrijf een reden op"):
            audit.checked_reason(blank)
    with pytest.raises(audit.BadReason, match="te lang"):
        audit.checked_reason("x" * 1001)


@pytest.mark.django_db
def test_a_document_published_while_the_trail_is_empty_leaves_nothing_missing_and_the_page_opens(client):
    """9b85a81: a document vouching for an empty trail (count 0, as the demo published right after seed_demo) made
    missing_since slice the queryset at index -1, and the audit trail page answered 500."""
    from tests.scheme.test_operator_pages import log_in, make_operator

    assert not AuditEntry.objects.exists()
    _published()
    assert audit.missing_since() is None
    log_in(client, "olga", make_operator("olga"))
    response = client.get("/stelsel/beheer/logboek/")
    assert response.status_code == 200 and "Het logboek is compleet" in response.content.decode()
