"""The built-in SQL-table source adapter, on whichever database the tests run against."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from blauweknop.holder.models import SourceChange, SourceRecord
from blauweknop.holder.sources import SqlTableAdapter
from blauweknop.scheme import catalogue

pytestmark = pytest.mark.django_db
A = "00000001005165486000"


@pytest.fixture
def own_table():
    """A holder's own table, with its own column names."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE eigen_register (org VARCHAR(20), nummer VARCHAR(9), soort VARCHAR(40), doc TEXT)")
        cursor.execute(
            "INSERT INTO eigen_register VALUES (%s, %s, %s, %s)",
            [
                "00000001005165486000",
                "999993653",
                "studieschuld",
                '{"totaleSchuldInCenten": 1250000, "aflossingPerMaandInCenten": 4500, "fase": "aflossen"}',
            ],
        )
    return SqlTableAdapter(
        "eigen_register", holder_column="org", bsn_column="nummer", type_column="soort", data_column="doc"
    )


def test_it_finds_one_citizens_document_of_one_type(own_table):
    found = own_table.lookup("00000001005165486000", "999993653", catalogue.document_type("studieschuld"))
    assert found == {"totaleSchuldInCenten": 1250000, "aflossingPerMaandInCenten": 4500, "fase": "aflossen"}


def test_it_finds_nothing_for_another_citizen_type_or_holder(own_table):
    studieschuld = catalogue.document_type("studieschuld")
    assert own_table.lookup("00000001005165486000", "111222333", studieschuld) is None
    assert own_table.lookup("00000001005165486000", "999993653", catalogue.document_type("inkomen")) is None
    assert own_table.lookup("00000001823288444000", "999993653", studieschuld) is None


def test_values_never_become_sql(own_table):
    hostile = "999993653' OR '1'='1"
    assert own_table.lookup("00000001005165486000", hostile, catalogue.document_type("studieschuld")) is None


def test_replace_writes_the_whole_new_document_in_an_own_table(own_table):
    studieschuld = catalogue.document_type("studieschuld")
    new = {"totaleSchuldInCenten": 1, "aflossingPerMaandInCenten": 0, "fase": "aflossen"}
    own_table.replace("00000001005165486000", "999993653", studieschuld, new)
    own_table.replace("00000001005165486000", "111222333", studieschuld, {"fase": "studie"})  # a new row
    assert own_table.lookup("00000001005165486000", "999993653", studieschuld) == new
    assert own_table.lookup("00000001005165486000", "111222333", studieschuld) == {"fase": "studie"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM eigen_register")
        assert cursor.fetchone()[0] == 2


def _changes():
    return [(c.holder_oin, c.document_type, c.bsn) for c in SourceChange.objects.order_by("pk")]


def test_the_registry_logs_every_change_of_a_document_whoever_makes_it():
    adapter, inkomen = SqlTableAdapter(), catalogue.document_type("inkomen")
    adapter.replace(A, "999993653", inkomen, {"jaar": 2025})
    adapter.replace(A, "999993653", inkomen, {"jaar": 2026})
    adapter.replace(A, "999993653", inkomen, {"jaar": 2026})  # the same again: nothing changed, nothing logged
    assert _changes() == [(A, "inkomen", "999993653")] * 2
    SourceChange.objects.all().delete()
    with connection.cursor() as cursor:  # a document moved to another citizen: both were changed
        cursor.execute("UPDATE holder_bronregistratie SET bsn = %s WHERE holder_oin = %s", ["111222333", A])
        assert sorted(_changes()) == [(A, "inkomen", "111222333"), (A, "inkomen", "999993653")]
        SourceChange.objects.all().delete()
        cursor.execute("DELETE FROM holder_bronregistratie WHERE holder_oin = %s", [A])
    assert _changes() == [(A, "inkomen", "111222333")]
    assert SourceRecord.objects.count() == 0


def test_the_change_feed_reads_in_order_and_forgets_exactly_what_it_is_told():
    adapter, inkomen = SqlTableAdapter(), catalogue.document_type("inkomen")
    for n, bsn in enumerate(["999993653", "111222333", "123456782"]):
        adapter.replace(A, bsn, inkomen, {"jaar": n})
    first, second, third = adapter.changes(0, 10)
    assert [c.bsn for c in (first, second, third)] == ["999993653", "111222333", "123456782"]
    assert first.type_id == "inkomen" and first.changed_at.tzinfo is not None
    assert abs(first.changed_at - timezone.now()) < timedelta(minutes=1)  # the database's clock, in UTC
    assert "999993653" not in repr(first)
    assert adapter.changes(first.id, 1) == [second]
    assert first.seen_at is None
    seen, later = timezone.now(), timezone.now() + timedelta(minutes=3)
    adapter.see_changes([first.id], seen)
    adapter.see_changes([first.id, second.id], later)  # first seen is first seen: a later look does not move it
    assert [c.seen_at for c in adapter.changes(0, 10)] == [seen, later, None]
    assert adapter.forget_changes([first.id, third.id]) == 2
    assert [c.id for c in adapter.changes(0, 10)] == [second.id]


def test_an_adapter_without_a_change_table_reports_no_changes(own_table):
    quiet = SqlTableAdapter("eigen_register", holder_column="org", bsn_column="nummer", change_table=None)
    SqlTableAdapter().replace(A, "999993653", catalogue.document_type("inkomen"), {"jaar": 2025})
    quiet.see_changes([1], timezone.now())
    assert quiet.changes(0, 10) == [] and quiet.forget_changes([1]) == 0
