"""The data catalogue: every field explained in both languages, schemas that catch bad data."""

import pytest

from blauweknop.portal.selection import ticked_by_default
from blauweknop.protocol.errors import InvalidInput
from blauweknop.scheme import catalogue

SUBJECT = {
    "burgerservicenummer": "999990019",
    "naam": {"voornamen": "Sam", "geslachtsnaam": "Jansen"},
    "geboorte": {"datum": "1990-01-02"},
}
SUBJECT_PATHS = ("burgerservicenummer", "naam.voornamen", "naam.voorvoegsel", "naam.geslachtsnaam", "geboorte.datum")


def test_the_catalogue_has_the_five_first_document_types():
    types = catalogue.document_types()
    assert set(types) == {"persoonsgegevens", "inkomen", "vorderingen", "toeslagen", "studieschuld"}
    for document_type in types.values():
        assert document_type.vct.startswith("https://") and document_type.version >= 1
        for field in document_type.fields:
            assert field.label["nl"] and field.label["en"] and field.help["nl"] and field.help["en"]
            assert len(field.help["nl"]) <= 120  # short enough to read at a glance


def test_money_is_always_whole_cents():
    for document_type in catalogue.document_types().values():
        for field in document_type.fields:
            if field.kind == "money":
                assert field.path.endswith("InCenten")


def test_concrete_paths_find_their_field():
    vorderingen = catalogue.document_type("vorderingen")
    assert vorderingen.field("vorderingen.2.openstaandBedragInCenten").label["nl"] == "Nog te betalen"
    assert vorderingen.field("vorderingen.0.betalingsregeling.actief").kind == "boolean"
    assert vorderingen.field("vorderingen.0.onbekend") is None


@pytest.mark.parametrize(
    ("type_id", "data", "where"),
    [
        (
            "inkomen",
            {
                **SUBJECT,
                "belastingjaar": 2025,
                "verzamelinkomenInCenten": "veel",
                "toetsingsinkomenInCenten": 1,
            },
            "verzamelinkomenInCenten",
        ),
        (
            "vorderingen",
            {**SUBJECT, "vorderingen": [{"schuldeiser": "X"}]},
            "vorderingen.0",
        ),
        ("persoonsgegevens", {"extra": 1}, "(top)"),
    ],
)
def test_data_that_does_not_match_is_refused_with_its_place(type_id, data, where):
    with pytest.raises(InvalidInput) as caught:
        catalogue.document_type(type_id).validate(data)
    assert where in caught.value.message


def test_an_unknown_document_type_is_bad_input():
    with pytest.raises(InvalidInput):
        catalogue.document_type("paspoort")


@pytest.mark.parametrize("type_id", sorted(catalogue.document_types()))
def test_every_document_type_names_its_subject_as_the_personal_details_do(type_id):
    # A receiver matches a copy to the person in front of them by name and date of birth (issue 8, item 3).
    person = catalogue.document_type("persoonsgegevens")
    document_type = catalogue.document_type(type_id)
    for path in SUBJECT_PATHS:
        assert document_type.field(path) == person.field(path)
    assert {"burgerservicenummer", "naam", "geboorte"} <= set(document_type.schema["required"])


@pytest.mark.parametrize("type_id", sorted(catalogue.document_types()))
def test_name_and_date_of_birth_start_ticked_and_the_bsn_does_not(type_id):
    ticked = ticked_by_default(catalogue.document_type(type_id), list(SUBJECT_PATHS))
    assert ticked == set(SUBJECT_PATHS) - {"burgerservicenummer"}


def test_it_refuses_a_document_that_does_not_say_whom_it_is_about():
    income = {"belastingjaar": 2025, "verzamelinkomenInCenten": 1, "toetsingsinkomenInCenten": 1}
    with pytest.raises(InvalidInput):
        catalogue.document_type("inkomen").validate(income)
    catalogue.document_type("inkomen").validate({**income, **SUBJECT})


def test_every_coded_value_has_words_in_dutch_and_english():
    # A citizen reads "Kindgebonden budget" or "Child budget", never the stored code kindgebondenBudget.
    for document_type in catalogue.document_types().values():
        for field in document_type.fields:
            leaf = document_type.schema
            for part in field.path.split("."):
                leaf = leaf.get("items", leaf)["properties"][part]
            assert set(field.values) == set(leaf.get("enum", [])), field.path
