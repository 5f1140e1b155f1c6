"""The data catalogue: every field explained in both languages, schemas that catch bad data."""

import pytest

from blauweknop.protocol.errors import InvalidInput
from blauweknop.scheme import catalogue


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
            {"belastingjaar": 2025, "verzamelinkomenInCenten": "veel", "toetsingsinkomenInCenten": 1},
            "verzamelinkomenInCenten",
        ),
        ("vorderingen", {"vorderingen": [{"schuldeiser": "X"}]}, "vorderingen.0"),
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
