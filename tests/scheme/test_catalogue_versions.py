"""Catalogue versions (issue 11, item 4): the operator publishes a new version of a document type, and
copies of the older version keep verifying and showing their own fields with their own words."""

import copy
import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from blauweknop import cli, document_types
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol.encoding import b64url_decode
from blauweknop.scheme import audit, catalogue, publication
from blauweknop.scheme.catalogue import versions
from blauweknop.scheme.catalogue.versions import PublishRefused, publish_version
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import AuditEntry, PublishedDocument, PublishedDocumentType
from tests.concurrency import at_once
from tests.portal.conftest import BELASTING, GEMEENTE, download_form, log_in

V3 = "https://stelsel.blauweknop.example/vct/vorderingen/3"
V4 = "https://stelsel.blauweknop.example/vct/vorderingen/4"
OLD_LABEL, NEW_LABEL = "Kenmerk", "Betalingskenmerk"


@pytest.fixture(autouse=True)
def _forget_catalogues():
    # The catalogue is built once per scheme version; the next test's version 2 has no vorderingen 4.
    yield
    document_types.forget()


def vorderingen_v4() -> dict:
    """Vorderingen version 4: one more optional field per debt, and new words for the reference."""
    definition = copy.deepcopy(catalogue.document_type("vorderingen").publish())
    definition.update(version=4, vct=V4)
    debt = definition["schema"]["properties"]["vorderingen"]["items"]
    debt["properties"]["toelichting"] = {"type": "string", "maxLength": 500}
    definition["fields"].append(
        {
            "path": "vorderingen.toelichting",
            "kind": "text",
            "sensitivity": "normaal",
            "label": {"nl": "Toelichting", "en": "Explanation"},
            "help": {"nl": "Wat de organisatie over deze betaling zegt.", "en": "What the organisation says about it."},
        }
    )
    for field in definition["fields"]:
        if field["path"] == "vorderingen.kenmerk":
            field["label"] = {"nl": NEW_LABEL, "en": "Payment reference"}
    return definition


def _listed(type_id: str) -> list[tuple[int, str]]:
    """The versions of ``type_id`` in the newest published scheme document, as (version, vct)."""
    newest = PublishedDocument.objects.order_by("-version").first()
    payload = json.loads(b64url_decode(newest.token.split(".")[1]))
    return [(t["version"], t["vct"]) for t in payload["document_types"] if t["id"] == type_id]


# The service ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_publishing_stores_the_version_writes_the_audit_trail_and_lists_both_versions():
    publication.publish()
    stored = publish_version(vorderingen_v4(), actor="beheerder-anna")
    assert (stored.type_id, stored.version, stored.published_by) == ("vorderingen", 4, "beheerder-anna")
    assert _listed("vorderingen") == [(3, V3), (4, V4)]
    assert [t.version for t in catalogue.every_version([stored.definition]) if t.id == "inkomen"] == [2]
    entry = AuditEntry.objects.get(action="catalogue_published")
    assert (entry.actor, entry.subject, entry.details["version"]) == ("beheerder-anna", "catalogus/vorderingen", 4)
    assert audit.verify_chain() is None
    listed = [v for v in versions.listed() if v.document_type.id == "vorderingen"]
    shown = [(v.document_type.version, v.published_by) for v in listed]
    assert shown == [(3, ""), (4, "beheerder-anna")]


def _with(**changes) -> dict:
    return {**vorderingen_v4(), **changes}


def _bad_schema() -> dict:
    definition = vorderingen_v4()
    definition["schema"]["properties"]["naam"]["properties"]["voornamen"] = {"$ref": "#"}
    return definition


def _unexplained_field() -> dict:
    definition = vorderingen_v4()
    definition["fields"] = [f for f in definition["fields"] if f["path"] != "vorderingen.toelichting"]
    return definition


def _one_language() -> dict:
    definition = vorderingen_v4()
    definition["fields"][0]["label"] = {"nl": "Burgerservicenummer"}
    return definition


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("definition", "code", "words"),
    [
        (lambda: _with(version=3, vct=V3), "not_higher", "De nieuwste versie van vorderingen is 3"),
        (lambda: _with(version=2, vct=V3[:-1] + "2"), "not_higher", "Kies een hoger nummer"),
        (lambda: _with(id="paspoort"), "unknown_type", "De documentsoort paspoort bestaat niet"),
        (lambda: _with(vct=V3), "wrong_vct", V4),
        (lambda: _with(vct="https://elders.example/vorderingen/4"), "wrong_vct", V4),
        (_bad_schema, "invalid", "Het schema gebruikt iets wat houders en portalen niet aannemen"),
        (_unexplained_field, "invalid", "Kijk bij: vorderingen.toelichting"),
        (_one_language, "invalid", "Bij fields.0.label ontbreekt: en"),
        (lambda: _with(extra=1), "invalid", "staat iets wat niet hoort: extra"),
        (lambda: _with(version="4"), "invalid", "Bij version hoort een heel getal"),
        (lambda: [1, 2], "invalid", "Bij het begin hoort een object"),
        (lambda: _with(description={"nl": "x" * 70_000, "en": "x"}), "too_big", "te groot"),
    ],
    ids=[
        "equal",
        "lower",
        "other-id",
        "old-vct",
        "foreign-vct",
        "bad-schema",
        "field-not-explained",
        "one-language",
        "unknown-part",
        "version-as-text",
        "not-an-object",
        "too-big",
    ],
)
def test_a_wrong_version_is_refused_with_words_that_name_what_is_wrong(definition, code, words):
    publication.publish()
    with pytest.raises(PublishRefused) as refused:
        publish_version(definition(), actor="beheerder-anna")
    assert refused.value.code == code
    assert words in refused.value.message
    assert not PublishedDocumentType.objects.exists() and not AuditEntry.objects.exists()
    assert PublishedDocument.objects.count() == 1


@pytest.mark.django_db
def test_a_definition_nested_without_end_is_refused_not_a_crash():
    deep: list = []
    for _ in range(5_000):
        deep = [deep]
    with pytest.raises(PublishRefused) as refused:
        publish_version(_with(description=deep), actor="beheerder-anna")
    assert refused.value.code == "invalid"


@pytest.mark.django_db
def test_a_version_above_a_published_one_must_be_higher_than_that_one_too():
    publication.publish()
    publish_version(vorderingen_v4(), actor="beheerder-anna")
    with pytest.raises(PublishRefused) as refused:
        publish_version(vorderingen_v4(), actor="beheerder-bram")
    assert refused.value.code == "not_higher" and "is 4" in refused.value.message
    publish_version(_with(version=5, vct=V4[:-1] + "5"), actor="beheerder-bram")
    assert [v for v, _vct in _listed("vorderingen")] == [3, 4, 5]


@pytest.mark.django_db(transaction=True)
def test_two_operators_publishing_the_same_version_at_once_one_wins_the_other_is_told():
    publication.publish()
    results, failures = at_once(lambda: publish_version(vorderingen_v4(), actor="beheerder"))
    assert len(results) == 1 and len(failures) == 1
    assert isinstance(failures[0], PublishRefused) and failures[0].code == "not_higher"
    assert PublishedDocumentType.objects.count() == 1 and AuditEntry.objects.count() == 1
    assert _listed("vorderingen") == [(3, V3), (4, V4)]


# How every role reads the versions --------------------------------------------------------------


def test_the_catalogue_uses_the_newest_version_for_new_data_and_finds_every_version_by_vct():
    v3 = catalogue.document_type("vorderingen")
    v4 = catalogue.check(vorderingen_v4())
    listed = document_types.Catalogue.listing([v4, catalogue.document_type("inkomen"), v3])
    assert listed.get("vorderingen") is v4 and listed.by_vct(V3) is v3 and listed.by_vct(V4) is v4
    assert list(listed.by_id) == ["vorderingen", "inkomen"]
    v4.validate({**_subject(), "vorderingen": [{**_debt(), "toelichting": "Betaald in termijnen."}]})
    # The same version listed twice with other contents: which one is meant cannot be told, so neither.
    clash = document_types.Catalogue.listing([v3, v4, catalogue.check({**vorderingen_v4(), "vct": V4 + "b"})])
    assert clash.get("vorderingen") is None and clash.by_vct(V3) is None


def test_the_built_in_files_pass_the_same_check_as_a_published_version():
    for path in sorted(Path(catalogue.__file__).parent.glob("*.json")):
        if path.name != "legal_bases.json":
            definition = json.loads(path.read_text(encoding="utf-8"))
            assert catalogue.check(definition) == catalogue.document_type(definition["id"])


def _subject() -> dict:
    return {
        "burgerservicenummer": "999990019",
        "naam": {"voornamen": "Sam", "geslachtsnaam": "Jansen"},
        "geboorte": {"datum": "1990-01-02"},
    }


def _debt() -> dict:
    return {
        "schuldeiser": "X",
        "kenmerk": "K1",
        "oorspronkelijkBedragInCenten": 100,
        "openstaandBedragInCenten": 50,
        "vervaldatum": "2026-01-01",
    }


# End to end: two holders, a citizen, the verify page and the CLI -----------------------------------


@pytest.fixture
def debtor_bsns(demo_world):
    """Two citizens with debts at both the tax office and the municipality."""
    debts = SourceRecord.objects.filter(document_type="vorderingen")
    both = set(debts.filter(holder_oin=BELASTING).values_list("bsn", flat=True)) & set(
        debts.filter(holder_oin=GEMEENTE).values_list("bsn", flat=True)
    )
    assert len(both) >= 2
    return sorted(both)[:2]


def _copy(client, holder_oin: str, also: str) -> bytes:
    """A copy with the reference and ``also``: each press its own choice, or the portal takes it for a double click."""
    client.post(f"/organisaties/{holder_oin}/blauwe-knop/")
    form = download_form("vorderingen", ["vorderingen.0.kenmerk", f"vorderingen.0.{also}"], "sdjwt")
    response = client.post(f"/organisaties/{holder_oin}/downloaden/", form)
    assert response.status_code == 200
    return response.content


def _vct(copy_: bytes) -> str:
    return json.loads(b64url_decode(copy_.decode().split("~")[0].split(".")[1]))["vct"]


def _verify_page(client, copy_: bytes) -> str:
    page = client.post("/controleren/", {"bestand": SimpleUploadedFile("kopie.sdjwt", copy_)}).content.decode()
    assert "Echt en geldig" in page
    return page


def _label_of(page: str, path: str) -> str:
    found = re.search(r'<th[^>]*>(?:\d+\. )?([^<]+)</th><td[^>]*data-path="' + re.escape(path) + '"', page)
    assert found, path
    return found.group(1)


def test_an_old_copy_keeps_verifying_with_its_own_words_and_a_new_copy_is_the_new_version(
    client, debtor_bsns, deployment, tmp_path, capsys
):
    citizens = []
    for bsn in debtor_bsns:
        citizen = client.__class__()
        log_in(citizen, bsn)
        citizens.append(citizen)
    pressed = {BELASTING: "schuldeiser", GEMEENTE: "vervaldatum"}
    old = {(n, oin): _copy(citizen, oin, also) for n, citizen in enumerate(citizens) for oin, also in pressed.items()}
    assert {_vct(c) for c in old.values()} == {V3}

    publish_version(vorderingen_v4(), actor="beheerder-anna")
    scheme_client.forget()  # every role's next refresh of the scheme document

    verifier = client.__class__()  # anyone: the verify page needs no login
    for copy_ in old.values():
        page = _verify_page(verifier, copy_)
        assert _label_of(page, "vorderingen.0.kenmerk") == OLD_LABEL
    stored = tmp_path / "oud.sdjwt"
    stored.write_bytes(old[0, BELASTING])
    scheme = deployment.url + "/stelsel/api/v1/stelseldocument"
    assert cli.main(["verify", str(stored), "--scheme-document", scheme, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["vct"] == V3

    pressed = {BELASTING: "oorspronkelijkBedragInCenten", GEMEENTE: "openstaandBedragInCenten"}
    new = {(n, oin): _copy(citizen, oin, also) for n, citizen in enumerate(citizens) for oin, also in pressed.items()}
    assert {_vct(c) for c in new.values()} == {V4}
    for copy_ in new.values():
        assert _label_of(_verify_page(verifier, copy_), "vorderingen.0.kenmerk") == NEW_LABEL
    data_page = citizens[0].get(f"/organisaties/{BELASTING}/gegevens/").content.decode()
    assert NEW_LABEL in data_page
