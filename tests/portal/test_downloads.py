"""The CSV download as spreadsheet programs read it: labels, words, numbers in the language's way, text kept text."""

import csv
import io

from django.utils import translation

from blauweknop.portal.downloads import csv_text
from blauweknop.scheme.catalogue import document_types

DEBTS = {
    "naam": {"geslachtsnaam": "Jansen"},
    "vorderingen": [
        {"kenmerk": "BEL-2025-001", "soort": "inkomstenbelasting", "openstaandBedragInCenten": 123456},
        {"kenmerk": "12-3", "soort": "verkeersboete", "vervaldatum": "2026-03-01"},
    ],
}


def _table(text: str, separator: str) -> list[list[str]]:
    assert text.startswith("\ufeff")  # the mark that makes spreadsheet programs read UTF-8
    return list(csv.reader(io.StringIO(text[1:]), delimiter=separator))


def test_it_heads_the_columns_with_labels_and_gives_one_row_per_item():
    table = _table(csv_text(document_types()["vorderingen"], DEBTS, "nl"), ";")
    assert table == [
        ["Achternaam", "Kenmerk", "Soort", "Nog te betalen", "Betalen voor"],
        ["Jansen", "BEL-2025-001", "Inkomstenbelasting", "1234,56", ""],
        ["Jansen", "'12-3", "Verkeersboete", "", "2026-03-01"],  # "12-3" stays text, not 12 March
    ]


def test_it_writes_an_english_csv_with_commas_between_cells_and_a_decimal_point():
    with translation.override("en"):
        table = _table(csv_text(document_types()["vorderingen"], DEBTS, "en"), ",")
    assert table[0] == ["Surname", "Reference", "Kind", "Still to pay", "Pay before"]
    assert table[1] == ["Jansen", "BEL-2025-001", "Income tax", "1234.56", ""]


def test_it_writes_one_row_for_a_type_without_a_list():
    income = {"belastingjaar": 2025, "verzamelinkomenInCenten": 4000000, "burgerservicenummer": "012345672"}
    table = _table(csv_text(document_types()["inkomen"], income, "nl"), ";")
    assert table == [["Burgerservicenummer (BSN)", "Jaar", "Verzamelinkomen"], ["'012345672", "2025", "40000,00"]]


def test_it_refuses_to_let_a_text_value_run_as_a_formula_or_turn_into_a_number():
    debts = {"vorderingen": [{"omschrijving": text} for text in ("=1+2", "@SUM(A1)", "3,5", "1/2", "1234 AB")]}
    table = _table(csv_text(document_types()["vorderingen"], debts, "nl"), ";")
    assert [row[0] for row in table[1:]] == ["'=1+2", "'@SUM(A1)", "'3,5", "'1/2", "1234 AB"]
