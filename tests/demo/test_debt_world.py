"""The demo world of the debt overview (issue 9, item 5): a dozen fictional holders with debts, and how to pay."""

import hashlib
import io
import json
from collections import Counter
from datetime import date, datetime

import faker.providers.date_time
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
# Recomputed once when birth dates stopped following the machine's clock (they count from the demo's TODAY since).
FIRST_FIVE = "cc7e0fb5c156cd73c00f4ad5b210592e5bfa43769d568157da2118d237b87b88"
WHOLE_WORLD = "056acd0b2e0bb345ccdddc10cbe2a8eeeb9f575a427c0b1915bc8b0a8b2432d7"
OF_SEED_7 = "6da04e28453264c877c6f70776bf06500e181c6608719c11553e52253d139b7f"
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


def test_the_demo_world_is_the_same_on_any_day(monkeypatch):
    before = make_citizens(count=20)

    class NextYear(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2027, 8, 15, 12, tzinfo=tz)

    # Faker reads the clock through its own module's name for datetime; the demo must not depend on it.
    monkeypatch.setattr(faker.providers.date_time, "datetime", NextYear)
    assert [(c.bsn, c.name, c.documents) for c in make_citizens(count=20)] == [
        (c.bsn, c.name, c.documents) for c in before
    ]


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
