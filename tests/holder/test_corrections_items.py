"""Which list item a correction is about (browser review of issue 12): the holder keeps the whole item, names it in
words (``onderdeel``), refuses a second open request about the same field of the same item (409 already_asked),
and on accept finds the item again in the source, wherever it stands now, or refuses."""

# ruff: noqa: F401, F811 - debtor and other_debtor are fixtures, imported to be used as such

import httpx
import pytest

from blauweknop.holder import corrections
from blauweknop.holder.corrections import DecisionRefused
from blauweknop.holder.models import SourceRecord
from tests.holder.test_corrections import AMOUNT, _mine, _problem, _request, _submit, other_debtor
from tests.holder.test_issue_credential import BELASTING
from tests.holder.test_supersession import GEMEENTE, debtor

pytestmark = pytest.mark.django_db(transaction=True)


def _source(bsn):
    return SourceRecord.objects.get(holder_oin=BELASTING, document_type="vorderingen", bsn=bsn)


def _two_debts(bsn):
    """The citizen owes two different debts at the tax office; the items as the source has them."""
    record = _source(bsn)
    first = record.data["vorderingen"][0]
    second = {**first, "kenmerk": first["kenmerk"] + "-2", "openstaandBedragInCenten": 777}
    record.data["vorderingen"] = [first, second]
    record.save()
    return first, second


def test_the_list_answer_names_the_item_in_words(demo_world, debtor, wallet):
    first, _second = _two_debts(debtor)
    assert _submit(demo_world, debtor, wallet).status_code == 201
    assert _submit(demo_world, debtor, wallet, veld="naam.geslachtsnaam", positie=None).status_code == 201
    listed = {r["veld"]: r["onderdeel"] for r in _mine(demo_world, debtor, wallet)}
    assert listed["naam.geslachtsnaam"] is None
    words = listed[AMOUNT]
    assert first["kenmerk"] in words and "€" in words, words
    stored = _request(next(r["kenmerk"] for r in _mine(demo_world, debtor, wallet) if r["veld"] == AMOUNT))
    assert stored.item == first


def test_a_second_open_request_about_the_same_field_is_409_with_the_first_kenmerk(
    demo_world, debtor, other_debtor, wallet
):
    _two_debts(debtor)
    first = _submit(demo_world, debtor, wallet).json()["kenmerk"]
    again = _submit(demo_world, debtor, wallet, voorgesteldeWaarde="Toch iets anders")
    _problem(again, 409, "already_asked")
    assert again.json()["kenmerk"] == first and first in again.json()["detail"]
    assert len(_mine(demo_world, debtor, wallet)) == 1, "nothing stored"
    # Another item, another field, another holder, another citizen: all fine.
    assert _submit(demo_world, debtor, wallet, positie=1).status_code == 201
    assert _submit(demo_world, debtor, wallet, veld="vorderingen.vervaldatum").status_code == 201
    assert _submit(demo_world, debtor, wallet, GEMEENTE).status_code == 201
    assert _submit(demo_world, other_debtor, wallet).status_code == 201
    # Once decided, the field may be asked about again.
    corrections.reject(_request(first), "medewerker", "Het bedrag klopt, zie de aanslag.")
    assert _submit(demo_world, debtor, wallet).status_code == 201


def test_the_same_item_elsewhere_in_the_list_is_the_same_request(demo_world, debtor, wallet):
    first, second = _two_debts(debtor)
    kenmerk = _submit(demo_world, debtor, wallet).json()["kenmerk"]
    record = _source(debtor)
    record.data["vorderingen"] = [second, first]
    record.save()
    again = _submit(demo_world, debtor, wallet, positie=1)
    _problem(again, 409, "already_asked")
    assert again.json()["kenmerk"] == kenmerk


def test_the_openapi_documents_already_asked_and_onderdeel(demo_world):
    openapi = httpx.get(f"{demo_world.url}/belastingkantoor/api/v1/openapi.json", timeout=30).json()
    schemas = openapi["components"]["schemas"]
    assert "onderdeel" in schemas["Correctieverzoek"]["properties"]
    assert "kenmerk" in schemas["AlGevraagd"]["properties"]
    assert "409" in openapi["paths"]["/belastingkantoor/api/v1/correctieverzoeken"]["post"]["responses"]
