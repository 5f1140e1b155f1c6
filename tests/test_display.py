"""Credential data in people's words: coded values never reach people as they are stored (issue 8, item 7)."""

import pytest
from django.utils import translation

from blauweknop.display import rows
from blauweknop.scheme import catalogue


@pytest.mark.parametrize(
    ("language", "expected"),
    [("nl", ["Kindgebonden budget", "Definitief"]), ("en", ["Child budget", "Final"])],
)
def test_it_shows_coded_values_in_words_of_the_page_language(language, expected):
    claims = {
        "toeslagen": [
            {"soort": "kindgebondenBudget", "jaar": 2026, "bedragPerMaandInCenten": 1, "status": "definitief"}
        ]
    }
    with translation.override(language):
        shown = {row.path: row.value for row in rows(catalogue.document_type("toeslagen"), claims)}
    assert [shown["toeslagen.0.soort"], shown["toeslagen.0.status"]] == expected


def test_a_value_without_words_is_shown_as_it_is():
    claims = {"toeslagen": [{"soort": "nieuweToeslag", "jaar": 2026, "bedragPerMaandInCenten": 1}]}
    shown = {row.path: row.value for row in rows(catalogue.document_type("toeslagen"), claims)}
    assert shown["toeslagen.0.soort"] == "nieuweToeslag"
