"""The built-in SQL-table source adapter, on whichever database the tests run against."""

import pytest
from django.db import connection

from blauweknop.holder.sources import SqlTableAdapter
from blauweknop.scheme import catalogue

pytestmark = pytest.mark.django_db


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
