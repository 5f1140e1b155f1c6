"""Holders and portals build the catalogue from the verified scheme document, not from the operator's files."""

import pytest

from blauweknop import document_types
from blauweknop.protocol import scheme_document
from blauweknop.protocol.errors import InvalidInput
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk
from blauweknop.scheme import catalogue

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
    data = {"belastingjaar": 2025, "verzamelinkomenInCenten": 100, "toetsingsinkomenInCenten": 100}
    first.document_type("inkomen").validate(data)
    with pytest.raises(InvalidInput) as caught:
        newer.validate(data)
    assert caught.value.code == "bad_claims"
