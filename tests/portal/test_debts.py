"""The debt overview's rows, totals, late marks, order and filters, from claims and a day: no request, no database."""

import dataclasses
from datetime import date

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from blauweknop.document_types import Catalogue
from blauweknop.portal import debts
from blauweknop.protocol.jwk import KeySet
from blauweknop.protocol.scheme_document import Participant
from blauweknop.scheme.catalogue import document_types

TODAY = date(2026, 3, 10)
CITY, FINES, STUDY, TAX = "00000001823288444000", "00000001002564440000", "00000001005165486000", "00000001003214345000"


@pytest.fixture(autouse=True)
def _dutch():
    """The words these tests expect are Dutch, whatever language a test before left active on this thread."""
    with translation.override("nl"):
        yield


def _holder(oin, name, types, info=None):
    return Participant(oin, name, frozenset({"holder"}), "certified", None, {}, KeySet([]), tuple(types), info or {})


HOLDERS = {
    CITY: _holder(CITY, "Gemeente Voorbeeldstad", ["vorderingen"], {"contact": {"telefoon": "0800 000 0001"}}),
    FINES: _holder(
        FINES,
        "Boeteninning Voorbeeldland",
        ["vorderingen"],
        {"contact": {"telefoon": "0800 000 0004", "website": "https://boeteninning.example/hulp"}},
    ),
    STUDY: _holder(STUDY, "Studiefinanciering Voorbeeldland", ["studieschuld"]),
    TAX: _holder(TAX, "Belastingkantoor Voorbeeldland", ["inkomen", "vorderingen"]),
}


def _debt(kenmerk, owed, due, **more):
    return {"kenmerk": kenmerk, "openstaandBedragInCenten": owed, "vervaldatum": due, **more}


CITY_DEBTS = {
    "vorderingen": [
        _debt(
            "GEM-1",
            10000,
            "2026-03-09",
            soort="gemeentelijkeBelastingen",
            oorspronkelijkBedragInCenten=20000,
            betalingsregeling={"actief": True, "bedragPerMaandInCenten": 2500},
            betaalwijze={"rekeningnummer": "NL00BANK0123456789", "tenNameVan": "Gemeente", "betalingskenmerk": "42"},
            bezwaarVia="https://gemeente.example/bezwaar",
            bezwaarTot="2026-03-09",
        ),
        _debt("GEM-2", 5000, "2026-03-10", omschrijving="Hondenbelasting", bezwaarTot="2026-03-10"),
    ]
}
FINE_DEBTS = {"vorderingen": [_debt("CJ-1", 9900, "2026-01-01", soort="verkeersboete")]}
STUDY_DEBT = {"totaleSchuldInCenten": 1500000, "aflossingPerMaandInCenten": 12000, "fase": "aflossen"}
COPIES = {(CITY, "vorderingen"): CITY_DEBTS, (FINES, "vorderingen"): FINE_DEBTS, (STUDY, "studieschuld"): STUDY_DEBT}
EVERYONE = {CITY: "opgehaald", FINES: "opgehaald", STUDY: "opgehaald", TAX: "geen"}
DELIVERED = {CITY: {"vorderingen"}, FINES: {"vorderingen"}, STUDY: {"studieschuld"}}


CATALOGUE = Catalogue.listing(list(document_types().values()))


def _overview(query=None, copies=COPIES, outcomes=EVERYONE, delivered=DELIVERED, today=TODAY):
    return debts.overview(HOLDERS, CATALOGUE, copies, outcomes, delivered, query or {}, today)


def _by_reference(overview):
    return {d.reference: d for d in overview.debts}


def test_it_makes_one_row_per_debt_with_every_fact_in_cents():
    found = _by_reference(_overview())
    first = found["GEM-1"]
    assert (first.creditor, first.what_for, first.original, first.outstanding) == (
        "Gemeente Voorbeeldstad",
        "Gemeentelijke belastingen",
        20000,
        10000,
    )
    assert (first.due, first.arrangement, first.monthly) == (date(2026, 3, 9), True, 2500)
    assert first.pay_to == debts.PayTo("NL00BANK0123456789", "Gemeente", "42")
    assert first.pay_to.account_text == "NL00 BANK 0123 4567 89"
    assert (first.phone, first.website) == ("0800 000 0001", None)
    assert first.object_via == "https://gemeente.example/bezwaar"
    assert found["GEM-2"].what_for == "Hondenbelasting"  # no kind: its own description
    assert found["CJ-1"].website == "https://boeteninning.example/hulp"


def test_it_names_the_kind_in_the_page_language():
    with translation.override("en"):
        assert _by_reference(_overview())["GEM-1"].what_for == "Municipal taxes"


def test_it_makes_one_line_of_a_study_debt_with_its_monthly_repayment():
    (study,) = [d for d in _overview().debts if d.type_id == "studieschuld"]
    assert (study.creditor, study.outstanding, study.monthly, study.arrangement) == (
        "Studiefinanciering Voorbeeldland",
        1500000,
        12000,
        True,
    )
    assert study.due is None and not study.overdue


def test_it_adds_up_per_creditor_and_overall():
    overview = _overview()
    assert [(c.name, c.count, c.outstanding) for c in overview.creditors] == [
        ("Boeteninning Voorbeeldland", 1, 9900),
        ("Gemeente Voorbeeldstad", 2, 15000),
        ("Studiefinanciering Voorbeeldland", 1, 1500000),
    ]
    assert overview.total == overview.shown_total == 9900 + 15000 + 1500000
    assert overview.total_text == "€ 15.249,00"


def test_it_marks_a_debt_late_only_from_the_day_after_its_due_date():
    found = _by_reference(_overview(today=date(2026, 1, 2)))
    assert found["CJ-1"].overdue and found["CJ-1"].late_since == date(2026, 1, 2)  # due yesterday
    assert not _by_reference(_overview(today=date(2026, 1, 1)))["CJ-1"].overdue  # due today: still in time
    found = _by_reference(_overview())
    assert found["GEM-1"].object_passed and not found["GEM-2"].object_passed


def test_it_does_not_call_a_debt_late_that_is_paid_by_an_active_arrangement():
    found = _by_reference(_overview())
    arranged = found["GEM-1"]  # due yesterday, paid month by month
    assert arranged.late_since == TODAY and not arranged.overdue
    assert arranged.paying_by_arrangement == "U betaalt met een regeling: € 25,00 per maand."
    assert found["CJ-1"].overdue and found["CJ-1"].paying_by_arrangement is None
    assert [d.reference for d in _overview({"te-laat": "1"}).debts] == ["CJ-1"]


def test_it_says_which_amount_to_pay_and_whom_to_call_when_objecting_is_too_late():
    found = _by_reference(_overview())
    assert found["GEM-1"].what_to_pay == "Betaal elke maand € 25,00, zoals in uw regeling."
    assert found["CJ-1"].what_to_pay == "Betaal het openstaande bedrag: € 99,00."
    assert found["GEM-1"].too_late_to_object == (
        "Dat kon tot 9 maart 2026. Die datum is voorbij. Toch niet eens met het bedrag? Bel 0800 000 0001."
    )
    assert found["GEM-2"].too_late_to_object is None  # the last day to object is today


def test_it_does_not_call_a_paid_debt_late():
    paid = {(CITY, "vorderingen"): {"vorderingen": [_debt("GEM-9", 0, "2020-01-01")]}}
    assert not _overview(copies=paid).debts[0].overdue


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("vervaldatum", ["CJ-1", "GEM-1", "GEM-2", None]),  # no due date last
        ("bedrag", [None, "GEM-1", "CJ-1", "GEM-2"]),
        ("schuldeiser", ["CJ-1", "GEM-1", "GEM-2", None]),
    ],
)
def test_it_sorts_by_due_date_amount_or_creditor(sort, order):
    assert [d.reference for d in _overview({"sorteer": sort}).debts] == order


def test_it_filters_by_creditor_lateness_and_arrangement():
    assert [d.reference for d in _overview({"schuldeiser": CITY}).debts] == ["GEM-1", "GEM-2"]
    assert [d.reference for d in _overview({"te-laat": "1"}).debts] == ["CJ-1"]
    assert [d.reference for d in _overview({"regeling": "met"}).debts] == ["GEM-1", None]
    assert [d.reference for d in _overview({"regeling": "zonder"}).debts] == ["CJ-1", "GEM-2"]
    filtered = _overview({"schuldeiser": FINES, "te-laat": "1"})
    assert filtered.view.filtered and filtered.shown_total == 9900 and filtered.total == 1524900
    assert filtered.count == 4


@pytest.mark.parametrize(
    "query",
    [
        {"sorteer": "__class__"},
        {"sorteer": "bedrag'; DROP TABLE"},
        {"schuldeiser": "00000000000000000000"},  # not among the creditors
        {"schuldeiser": "9" * 10_000},
        {"regeling": "misschien"},
        {"te-laat": "ja"},
        {"sorteer": ["bedrag"]},  # not a string
    ],
)
def test_it_refuses_a_hostile_parameter_and_shows_the_default(query):
    overview = _overview(query)
    assert overview.view == debts.View()
    assert len(overview.debts) == overview.count == 4


@given(st.dictionaries(st.sampled_from(["sorteer", "schuldeiser", "regeling", "te-laat", "x"]), st.text(max_size=50)))
def test_it_never_fails_on_any_parameters(query):
    view = debts.choose(query, [CITY])
    assert view.sort in debts.SORTS and view.arrangement in debts.ARRANGEMENTS and view.creditor in ("", CITY)


def test_it_leaves_out_what_is_missing_or_malformed_without_failing():
    odd = {
        (CITY, "vorderingen"): {
            "vorderingen": [
                {"kenmerk": "ONLY-OWED", "openstaandBedragInCenten": 100},  # every optional field missing
                {"kenmerk": "NO-AMOUNT"},
                "not a debt",
                _debt("BOOL", True, "2026-01-01"),
                _debt(
                    "ODD", 7, "not a date", betalingsregeling="yes", betaalwijze=[1], bezwaarVia="javascript:alert(1)"
                ),
            ]
        },
        (FINES, "vorderingen"): {"vorderingen": "not a list"},
        (STUDY, "studieschuld"): {"totaleSchuldInCenten": -5},
        ("00000009999999999000", "vorderingen"): FINE_DEBTS,  # not a holder in the scheme
    }
    only, odd_one = _overview(copies=odd).debts  # no due date, then by creditor, then the larger amount first
    assert (only.reference, only.outstanding, only.due, only.pay_to, only.object_via) == (
        "ONLY-OWED",
        100,
        None,
        None,
        None,
    )
    assert only.original_text == "—" and not only.arrangement
    assert (odd_one.reference, odd_one.due, odd_one.arrangement, odd_one.pay_to, odd_one.object_via) == (
        "ODD",
        None,
        False,
        None,
        None,
    )


def test_it_names_every_holder_that_did_not_answer_completely():
    outcomes = {CITY: "opgehaald", FINES: "onbereikbaar", STUDY: "opgehaald"}  # the tax office never asked
    delivered = {CITY: {"vorderingen"}, STUDY: set()}  # the study debt did not come
    assert _overview(outcomes=outcomes, delivered=delivered).missing == [
        "Belastingkantoor Voorbeeldland",
        "Boeteninning Voorbeeldland",
        "Studiefinanciering Voorbeeldland",
    ]


def test_it_tells_a_holder_not_asked_apart_from_one_that_did_not_answer():
    outcomes = {CITY: "opgehaald", FINES: "onbereikbaar", STUDY: "opgehaald"}  # the tax office never asked
    copies = {(CITY, "vorderingen"): CITY_DEBTS}
    overview = _overview(copies=copies, outcomes=outcomes, delivered={CITY: {"vorderingen"}, STUDY: set()})
    assert overview.answers.not_asked == ["Belastingkantoor Voorbeeldland"]
    assert overview.answers.unanswered == ["Boeteninning Voorbeeldland", "Studiefinanciering Voorbeeldland"]
    assert overview.who_said_what == [
        "Met schulden: Gemeente Voorbeeldstad.",
        "Gaven nu geen antwoord: Boeteninning Voorbeeldland, Studiefinanciering Voorbeeldland.",
        "Nog niet gevraagd: Belastingkantoor Voorbeeldland.",
    ]


def test_it_names_who_is_left_out_of_the_total_of_an_incomplete_overview():
    assert _overview().total_label == "Alles bij elkaar"
    assert _overview().who_said_what[-1] == "Zonder schulden bij u: Belastingkantoor Voorbeeldland."
    copies = {key: claims for key, claims in COPIES.items() if key[0] != FINES}
    incomplete = _overview(copies=copies, outcomes={**EVERYONE, FINES: "onbereikbaar"})
    assert incomplete.total_label == "Samen, zonder Boeteninning Voorbeeldland"
    assert incomplete.organisations() == {
        "metSchulden": ["Gemeente Voorbeeldstad", "Studiefinanciering Voorbeeldland"],
        "zonderSchulden": ["Belastingkantoor Voorbeeldland"],
        "geenAntwoord": ["Boeteninning Voorbeeldland"],
        "nietGevraagd": [],
    }


def test_a_suspended_holder_is_named_missing_and_its_copies_are_left_out():
    suspended = {**HOLDERS, CITY: dataclasses.replace(HOLDERS[CITY], certification="suspended")}
    overview = debts.overview(suspended, CATALOGUE, COPIES, EVERYONE, DELIVERED, {}, TODAY)
    assert overview.missing == ["Gemeente Voorbeeldstad"]
    assert {d.holder_oin for d in overview.debts} == {FINES, STUDY}


def test_a_holder_that_has_nothing_is_not_missing():
    delivered = {**DELIVERED, TAX: {"vorderingen"}}
    assert _overview(outcomes={**EVERYONE, TAX: "opgehaald"}, delivered=delivered).missing == []
    assert _overview().missing == []  # "geen": nothing at all about the citizen


@pytest.mark.parametrize(
    ("claims", "said"),
    [
        ({"naam": {"voornamen": "Amin", "voorvoegsel": "van der", "geslachtsnaam": "Berg"}}, "Amin van der Berg"),
        ({"naam": {"voornamen": "Amin"}, "geboorte": {"datum": "1969-07-23"}}, "Amin, geboren op 23 juli 1969"),
        ({"naam": {"voornamen": "Amin"}, "geboorte": {"datum": "23-07-1969"}}, "Amin"),  # not a date: left out
        ({"naam": "Amin", "geboorte": []}, None),
        ({}, None),
    ],
)
def test_the_bundle_names_whom_it_is_about_without_failing_on_odd_claims(claims, said):
    with translation.override("nl"):
        assert debts.subject(claims) == said
