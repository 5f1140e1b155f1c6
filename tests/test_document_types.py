"""Holders and portals build the catalogue from the verified scheme document, not from the operator's files."""

import pytest

from blauweknop import document_types
from blauweknop.protocol import scheme_document
from blauweknop.protocol.errors import InvalidInput
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk
from blauweknop.scheme import catalogue

INCOME = {
    "burgerservicenummer": "999990019",
    "naam": {"voornamen": "Sam", "geslachtsnaam": "Jansen"},
    "geboorte": {"datum": "1990-01-02"},
    "belastingjaar": 2025,
    "verzamelinkomenInCenten": 100,
    "toetsingsinkomenInCenten": 100,
}

KEY = SigningKey(generate_jwk())


def _scheme(version: int, types: list[dict]) -> scheme_document.SchemeDocument:
    payload = scheme_document.build(
        iss="https://stelsel.example", version=version, organisations=[], document_types=types
    )
    return scheme_document.verify(scheme_document.sign(payload, KEY), KeySet([KEY.public_jwk]))


def test_the_published_catalogue_reads_back_as_the_operators_own():
    published = [t.publish() for t in catalogue.document_types().values()]
    assert document_types.of(_scheme(1, published)).by_id == catalogue.document_types()


def test_it_leaves_out_an_entry_it_cannot_use_and_keeps_the_others():
    good = catalogue.document_type("inkomen").publish()
    broken = [{"id": "kapot"}, {**good, "id": "geen-schema", "schema": {"type": 12}}, {**good, "version": True}]
    built = document_types.of(_scheme(2, [good, *broken]))
    assert list(built.by_id) == ["inkomen"]
    assert built.by_vct(good["vct"]) is built.get("inkomen")


def test_it_builds_once_per_scheme_version_and_validates_with_the_published_schema():
    entry = catalogue.document_type("inkomen").publish()
    first, again = document_types.of(_scheme(3, [entry])), document_types.of(_scheme(3, [entry]))
    assert first is again
    narrower = {**entry, "version": entry["version"] + 1, "schema": {**entry["schema"], "required": ["nieuwVeld"]}}
    newer = document_types.of(_scheme(4, [narrower])).document_type("inkomen")
    data = INCOME
    first.document_type("inkomen").validate(data)
    with pytest.raises(InvalidInput) as caught:
        newer.validate(data)
    assert caught.value.code == "bad_claims"


def _with_schema(type_id: str, schema: dict) -> dict:
    return {
        **catalogue.document_type("inkomen").publish(),
        "id": type_id,
        "vct": f"urn:test:{type_id}",
        "schema": schema,
    }


def _nested(depth: int) -> dict:
    schema: dict = {"type": "object"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


@pytest.mark.parametrize(
    "schema",
    [
        _nested(300),  # RecursionError once escaped and took every type with it
        {"$ref": "http://127.0.0.1:9/evil.json"},
        {"$ref": "#/$defs/nope"},
        {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
        {"type": "object", "properties": {"plaats": {"type": "string", "pattern": "^(\\w|\\w|\\w|\\w)*!$"}}},
        {"type": "object", "properties": {"plaats": {"type": "string", "pattern": "(a+)+$"}}},
        {"type": "object", "properties": {"plaats": {"type": "string", "pattern": "\\w*\\w*\\w*!"}}},
        {"type": "object", "properties": {"plaats": {"type": "string", "pattern": "(a)\\1"}}},
    ],
    ids=[
        "deep",
        "remote-ref",
        "dangling-ref",
        "ref-loop",
        "alternation-star",
        "nested-plus",
        "adjacent-stars",
        "backref",
    ],
)
def test_it_leaves_out_a_type_whose_schema_it_cannot_check_quickly_and_keeps_the_others(schema):
    good = catalogue.document_type("inkomen").publish()
    built = document_types.of(_scheme(10, [good, _with_schema("kapot", schema)]))
    assert list(built.by_id) == ["inkomen"]


def test_the_catalogues_own_patterns_are_allowed():
    assert list(document_types.of(_scheme(11, [t.publish() for t in catalogue.document_types().values()])).by_id)


def test_it_leaves_out_a_type_whose_words_lack_a_language():
    # Pages show a label in Dutch or English; a label in one language only once gave a 500 on the verify page.
    entry = catalogue.document_type("inkomen").publish()
    one_language = {**entry, "fields": [{**entry["fields"][0], "label": {"nl": "Jaar"}}, *entry["fields"][1:]]}
    assert document_types.of(_scheme(12, [one_language])).by_id == {}
    assert document_types.of(_scheme(13, [{**entry, "name": {"nl": "Inkomen"}}])).by_id == {}


def test_it_validates_against_the_schema_of_the_scheme_version_in_force_even_under_the_same_type_version():
    # A corrected schema published under the same type version must be the one used, not the first one seen.
    entry = catalogue.document_type("inkomen").publish()
    data = INCOME
    wrong = {**entry, "schema": {**entry["schema"], "required": ["nope"]}}
    with pytest.raises(InvalidInput):
        document_types.of(_scheme(14, [wrong])).document_type("inkomen").validate(data)
    document_types.of(_scheme(15, [entry])).document_type("inkomen").validate(data)


def test_it_leaves_out_every_type_whose_id_appears_twice():
    entry = catalogue.document_type("inkomen").publish()
    other = catalogue.document_type("toeslagen").publish()
    built = document_types.of(_scheme(16, [entry, {**entry, "vct": "urn:test:tweede"}, other]))
    assert list(built.by_id) == ["toeslagen"]


def test_words_for_coded_values_travel_in_the_scheme_document_and_a_bad_set_leaves_the_type_out():
    entry = catalogue.document_type("toeslagen").publish()
    built = document_types.of(_scheme(30, [entry])).document_type("toeslagen")
    assert built.field("toeslagen.0.soort").words("zorgtoeslag", "en") == "Health care allowance"
    fields = [{**f, "values": ["zorgtoeslag"]} if f["path"] == "toeslagen.soort" else f for f in entry["fields"]]
    assert document_types.of(_scheme(31, [{**entry, "fields": fields}])).get("toeslagen") is None
