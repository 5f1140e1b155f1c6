"""The demo world of the debt overview (issue 9, item 5): a dozen fictional holders with debts, and how to pay."""

import hashlib
import io
import json
from collections import Counter
from datetime import date

import pytest
from django.core.management import call_command

from blauweknop import keystore
from blauweknop.demo import showcase
from blauweknop.demo.citizens import TODAY, iban, make_citizens
from blauweknop.demo.organisations import DEBT_HOLDERS, ORGANISATIONS
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol import scheme_document
from blauweknop.protocol.identifiers import is_valid_oin
from blauweknop.protocol.jwk import KeySet
from blauweknop.scheme import catalogue
from blauweknop.scheme.models import PublishedDocument
from blauweknop.scheme.publication import OPERATOR_KEY
from tests.holder.test_issue_credential import _ask, _assertion, _verify

# The documents the demo's holders had before the holders of issue 9 were added, and a fingerprint of them
# computed with that code (commit a20cb9a): the tests and the showcase pick on these citizens, so they must stay.
EARLIER = {
    ("gemeente-voorbeeldstad", "persoonsgegevens"),
    ("gemeente-voorbeeldstad", "vorderingen"),
    ("belastingkantoor", "inkomen"),
    ("belastingkantoor", "vorderingen"),
    ("boeteninning", "vorderingen"),
    ("toeslagendienst", "toeslagen"),
    ("studiefinanciering", "studieschuld"),
}
FIRST_FIVE = "764f65a33e49b4eea2688a0a93836749dcf2ac9c645e1807f9d7d5b3656c606e"
WHOLE_WORLD = "f906eb36caf998c4d5875e942cd3d59b35521d1c25162fafc0a3a86d3be28665"
OF_SEED_7 = "33a1bd1566e344caaba87d1d2e0a53bcd69e2702c674ba79c19069c6d4482054"
SLUGS = {spec["oin"]: spec["slug"] for spec in ORGANISATIONS}
NAMES = {spec["slug"]: spec["name"] for spec in ORGANISATIONS}


def _earlier_documents(citizens) -> str:
    """A fingerprint of each citizen's documents of :data:`EARLIER`, leaving out how to pay (added since)."""

    def without_how_to_pay(document):
        if "vorderingen" not in document:
            return document
        return {
            **document,
            "vorderingen": [{k: v for k, v in d.items() if k != "betaalwijze"} for d in document["vorderingen"]],
        }

    shown = [
        [c.bsn, c.name, {f"{h}/{t}": without_how_to_pay(d) for (h, t), d in c.documents.items() if (h, t) in EARLIER}]
        for c in citizens
    ]
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()


def _passes_mod_97(value: str) -> bool:
    # ISO 13616: the country and check digits moved to the end, letters as 10..35, the number mod 97 is 1.
    moved = value[4:] + value[:4]
    return int("".join(str(int(char, 36)) for char in moved)) % 97 == 1


def _debts(citizens):
    """(holder slug, debt) for every debt in ``citizens``."""
    return [
        (holder, debt)
        for citizen in citizens
        for (holder, type_id), document in citizen.documents.items()
        if type_id == "vorderingen"
        for debt in document["vorderingen"]
    ]


def test_existing_citizens_keep_the_documents_they_had_before_the_new_holders():
    world = make_citizens()
    assert _earlier_documents(world[:5]) == FIRST_FIVE
    assert _earlier_documents(world) == WHOLE_WORLD
    assert _earlier_documents(make_citizens(7, 30)) == OF_SEED_7


@pytest.mark.django_db
def test_at_least_twelve_holders_issue_debts_in_the_scheme_document():
    call_command("seed_demo", citizens=12, stdout=io.StringIO())
    token = PublishedDocument.objects.current().token
    document = scheme_document.verify(token, KeySet([keystore.signing_key(OPERATOR_KEY).public_jwk]))
    issuing = [p for p in document.organisations.values() if "vorderingen" in p.document_types and p.is_certified]
    assert len(issuing) >= 12
    assert all(p.endpoints["issuer"].endswith("/" + SLUGS[p.oin]) for p in issuing)
    for participant in issuing:
        contact = participant.info["contact"]
        assert contact["telefoon"].startswith("0800 000 00") and contact["website"].endswith(".example/hulp")
    versions = {t["id"]: t["version"] for t in document.document_types}
    assert versions["vorderingen"] == 3


def test_two_municipalities_issue_the_same_kind_of_debt():
    municipal = {holder for holder, debt in _debts(make_citizens()) if debt["soort"] == "gemeentelijkeBelastingen"}
    assert {"gemeente-voorbeeldstad", "gemeente-rivierdorp"} <= municipal


def test_every_demo_debt_keeps_to_version_3_of_the_catalogue_and_says_how_to_pay():
    world = make_citizens()
    debts_type = catalogue.document_type("vorderingen")
    assert debts_type.version == 3 and debts_type.vct.endswith("/vorderingen/3")
    for citizen in world:
        for (_holder, type_id), document in citizen.documents.items():
            catalogue.document_type(type_id).validate(document)
    for holder, debt in _debts(world):
        paying = debt["betaalwijze"]
        assert _passes_mod_97(paying["rekeningnummer"]), paying
        assert paying["rekeningnummer"][4:8] == "VBNK"  # a made-up bank: no demo payment reaches anyone
        assert paying["tenNameVan"] == debt["schuldeiser"] == NAMES[holder]
        assert len(paying["betalingskenmerk"]) == 16 and paying["betalingskenmerk"].isdigit()


def test_the_demo_shows_every_kind_of_debt_and_every_situation():
    debts = [debt for _holder, debt in _debts(make_citizens())]
    kinds = catalogue.document_type("vorderingen").schema["properties"]["vorderingen"]["items"]["properties"]["soort"]
    assert set(Counter(debt["soort"] for debt in debts)) == set(kinds["enum"])
    assert any(date.fromisoformat(debt["vervaldatum"]) < TODAY for debt in debts)  # overdue
    assert any(date.fromisoformat(debt["vervaldatum"]) >= TODAY for debt in debts)
    assert any("betalingsregeling" in debt for debt in debts) and any("betalingsregeling" not in debt for debt in debts)
    assert any(debt["openstaandBedragInCenten"] < debt["oorspronkelijkBedragInCenten"] for debt in debts)


def test_each_demo_organisation_has_its_own_oin_slug_and_phone_number():
    for key in ("oin", "slug", "name"):
        assert len({spec[key] for spec in ORGANISATIONS}) == len(ORGANISATIONS), key
    phones = [spec["contact"]["telefoon"] for spec in ORGANISATIONS]
    assert len(set(phones)) == len(phones) and all(phone.startswith("0800 000 00") for phone in phones)
    assert all(is_valid_oin(spec["oin"]) for spec in ORGANISATIONS)
    added = {spec["slug"] for spec in DEBT_HOLDERS}
    websites = {spec["slug"]: spec["contact"]["website"] for spec in ORGANISATIONS}
    assert all(websites[slug] == f"https://{slug}.example/hulp" for slug in added)  # .example reaches nobody


def test_iban_gives_the_check_digits_of_iso_13616():
    assert iban("ABNA", "0417164300") == "NL91ABNA0417164300"  # the example of the Dutch IBAN standard
    assert _passes_mod_97(iban("VBNK", "0000000001"))


def test_a_showcase_citizen_owes_six_organisations_or_more_and_says_so():
    examples = showcase.examples()
    first = examples[0]
    assert first.owed_to >= showcase.MANY_DEBTS
    assert "Goed om het overzicht van alle schulden te bekijken." in first.situation()
    assert all("overzicht van alle schulden" not in example.situation() for example in examples[1:])
    # The added holders did not crowd out the other situations: someone without debts is still on the list.
    assert len(examples) == showcase.SHOWN and any(example.owed_to == 0 for example in examples)


@pytest.mark.django_db(transaction=True)
def test_every_holder_with_debts_issues_them_as_a_certified_copy(demo_world, wallet):
    call_command("seed_demo", stdout=io.StringIO())  # the whole world: someone owes each of them
    issuing = {spec["oin"] for spec in ORGANISATIONS if "vorderingen" in spec.get("document_types", [])}
    debtors = SourceRecord.objects.filter(document_type="vorderingen", holder_oin__in=issuing)
    firsts = {oin: debtors.filter(holder_oin=oin).order_by("bsn").first() for oin in issuing}
    assert all(firsts.values()), [SLUGS[oin] for oin, record in firsts.items() if record is None]
    for oin, record in firsts.items():
        body = {
            "appbeheerderverklaring": _assertion(record.bsn, wallet, holder_oin=oin),
            "documentsoort": "vorderingen",
        }
        response = _ask(demo_world, body, slug=SLUGS[oin])
        assert response.status_code == 201, response.text
        assert response.json()["vct"].endswith("/vct/vorderingen/3")
        result = _verify(demo_world, response.json()["verklaring"])  # its key in the scheme, its status list
        assert result.iss == f"{demo_world.url}/{SLUGS[oin]}" and result.claims == record.data
