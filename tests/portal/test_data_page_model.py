"""The data page's pure view of a copy: the total still owed and late payments, whatever the claims hold."""

from datetime import date

import pytest

from blauweknop.portal.data_page import late_since, total_owed
from blauweknop.scheme.catalogue import document_types

TODAY = date(2026, 11, 29)


def _debt(owed, due):
    return {"kenmerk": "K", "openstaandBedragInCenten": owed, "vervaldatum": due}


def test_it_adds_up_what_is_still_owed_per_category():
    catalogue = document_types()
    debts = {"vorderingen": [_debt(10000, "2026-01-01"), _debt(2345, "2027-01-01"), _debt(0, "2026-01-01")]}
    assert total_owed(catalogue["vorderingen"], debts) == 12345
    assert total_owed(catalogue["studieschuld"], {"totaleSchuldInCenten": 500000}) == 500000
    assert total_owed(catalogue["inkomen"], {"verzamelinkomenInCenten": 4000000}) is None  # income is no debt
    assert total_owed(catalogue["toeslagen"], {"toeslagen": [{"bedragPerMaandInCenten": 100}]}) is None


def test_a_payment_is_late_from_the_day_after_its_last_day_while_money_is_owed():
    debts = {"vorderingen": [_debt(100, "2026-11-28"), _debt(100, "2026-11-29"), _debt(0, "2026-01-01")]}
    assert late_since(debts, TODAY) == {"vorderingen.0.vervaldatum": date(2026, 11, 29)}


@pytest.mark.parametrize(
    ("claims", "owed"),
    [
        ({"vorderingen": [_debt(True, "2026-01-01")]}, 0),  # a boolean is no amount
        ({"vorderingen": [_debt("100", "2026-01-01")]}, 0),
        ({"vorderingen": [_debt(100, "2026-13-01")]}, 100),
        ({"vorderingen": [_debt(100, 20260101)]}, 100),
        ({"vorderingen": [{"vervaldatum": "2026-01-01"}]}, 0),
        ({"vorderingen": "geen lijst"}, 0),
        ({"vorderingen": [["2026-01-01"]]}, 0),
        ({}, 0),
    ],
)
def test_it_refuses_to_call_a_payment_late_on_claims_it_cannot_read(claims, owed):
    assert late_since(claims, TODAY) == {}
    assert total_owed(document_types()["vorderingen"], claims) == owed
