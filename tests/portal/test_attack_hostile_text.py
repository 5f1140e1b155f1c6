"""A holder whose answer holds a lone surrogate (JSON's ``\\ud800``) leaves the access log standing.

No page can be encoded with a lone surrogate in it, so the portal reads holders' JSON as strictly
as the protocol core does. Found by attacking the running demo (issue 6, item 9).
"""

import pytest

from .conftest import GEMEENTE
from .test_holder_failures import JSON, _warnings, hostile_holder  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_refuses_access_records_with_a_lone_surrogate(citizen, hostile_holder, caplog):  # noqa: F811
    record = (
        b'{"tijdstip": "2026-11-01T10:00:00+00:00", "kenmerk": "0123456789abcdef", '
        b'"gevraagdDoor": "\\ud800", "documentsoort": "x", '
    )
    hostile_holder.answer = (200, JSON, b'{"inzages": [' + record + b'"activiteit": "x"}]}')
    response = citizen.get("/mijn-inzage/")
    assert response.status_code == 200
    assert "Kijk later nog eens: Gemeente Voorbeeldstad" in response.content.decode()
    assert _warnings(caplog, GEMEENTE)
