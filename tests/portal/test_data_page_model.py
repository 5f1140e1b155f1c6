"""The data page's pure view of a copy: the total still owed and late payments, whatever the claims hold."""

from datetime import date

import pytest
from django.utils import translation

from blauweknop.portal.data_page import category, late_since, nothing_of, total_owed
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


def _debt_item(**fields):
    return {"vorderingen": [{**_debt(60500, "2026-01-01"), **fields}]}


def test_it_names_an_item_by_its_kind_reference_and_amount():
    catalogue = document_types()
    debts = _debt_item(soort="inkomstenbelasting", kenmerk="BEL-2025-001", oorspronkelijkBedragInCenten=90000)
    item = category(catalogue["vorderingen"], debts, set(), TODAY).items[0]
    assert item.name == "Inkomstenbelasting, BEL-2025-001, € 605,00"  # what is still owed, not the first amount
    allowance = {"toeslagen": [{"soort": "huurtoeslag", "jaar": 2026, "bedragPerMaandInCenten": 31200}]}
    assert category(catalogue["toeslagen"], allowance, set(), TODAY).items[0].name == "Huurtoeslag, 2026, € 312,00"
    with translation.override("en"):
        item = category(catalogue["vorderingen"], debts, set(), TODAY).items[0]
    assert item.name == "Income tax, BEL-2025-001, € 605.00"


def test_it_leaves_an_item_unnamed_when_its_type_has_nothing_to_name_it_by():
    debts = {"vorderingen": [{"omschrijving": "iets"}]}
    assert category(document_types()["vorderingen"], debts, set(), TODAY).items[0].name is None


def test_it_marks_a_last_day_to_object_that_has_passed():
    debts = {"vorderingen": [_debt(0, "2026-01-01") | {"bezwaarTot": day} for day in ("2026-11-28", "2026-11-29")]}
    debts["vorderingen"].append(_debt(0, "2026-01-01") | {"bezwaarTot": "2026-02-30"})
    items = category(document_types()["vorderingen"], debts, set(), TODAY).items
    passed = [[f.row.path for f in item.fields if f.passed] for item in items]
    assert passed == [["vorderingen.0.bezwaarTot"], [], []]  # the last day itself is still open


@pytest.mark.parametrize(
    ("type_id", "said"),
    [
        ("toeslagen", "U krijgt geen toeslag van Dienst X."),
        ("vorderingen", "U hoeft niets te betalen aan Dienst X."),
        ("studieschuld", "U heeft geen studieschuld bij Dienst X."),
    ],
)
def test_it_says_in_the_type_s_own_words_that_an_organisation_has_none_of_it(type_id, said):
    assert nothing_of(document_types()[type_id], "Dienst X") == said
