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


def test_accept_after_the_source_reordered_its_list_changes_the_same_item_never_the_other(demo_world, debtor, wallet):
    first, second = _two_debts(debtor)
    kenmerk = _submit(demo_world, debtor, wallet).json()["kenmerk"]  # about the first debt, at position 0
    record = _source(debtor)
    record.data["vorderingen"] = [second, first]  # a change outside the portal: the list's order
    record.save()
    corrections.accept(_request(kenmerk), "medewerker", "12,34")
    now = _source(debtor).data["vorderingen"]
    assert now[0] == second, "the other debt is untouched"
    assert now[1] == {**first, "openstaandBedragInCenten": 1234}


@pytest.mark.parametrize("change", ["gone", "twice", "changed"])
def test_accept_is_refused_when_the_item_is_gone_twice_there_or_changed(demo_world, debtor, wallet, change):
    first, second = _two_debts(debtor)
    kenmerk = _submit(demo_world, debtor, wallet).json()["kenmerk"]
    record = _source(debtor)
    record.data["vorderingen"] = {
        "gone": [second],
        "twice": [second, first, first],
        "changed": [{**first, "openstaandBedragInCenten": 1}, second],
    }[change]
    record.save()
    before = _source(debtor).data
    with pytest.raises(DecisionRefused) as refused:
        corrections.accept(_request(kenmerk), "medewerker", "12,34")
    assert refused.value.code == "item_changed" and "Bekijk het verzoek opnieuw" in str(refused.value.message)
    assert _source(debtor).data == before and _request(kenmerk).state == "ontvangen"


def test_accept_of_a_field_whose_value_changed_says_then_and_now_unless_staff_saw_it(demo_world, debtor, wallet):
    kenmerk = _submit(demo_world, debtor, wallet, veld="naam.geslachtsnaam", positie=None).json()["kenmerk"]
    then = _request(kenmerk).current_value
    record = _source(debtor)
    record.data["naam"]["geslachtsnaam"] = "Anders"
    record.save()
    with pytest.raises(DecisionRefused) as refused:
        corrections.accept(_request(kenmerk), "medewerker", "Jansen")
    assert refused.value.code == "value_changed"
    assert str(refused.value.message) == (
        f"Dit gegeven is veranderd sinds het verzoek: toen {then}, nu Anders. Bekijk het verzoek opnieuw."
    )
    assert corrections.in_source(_request(kenmerk)) == "Anders"
    corrections.accept(_request(kenmerk), "medewerker", "Jansen", expected="Anders")  # what the confirm step showed
    assert _source(debtor).data["naam"]["geslachtsnaam"] == "Jansen"


def _field(type_id, path):
    from blauweknop.holder.corrections import _document_type

    document_type = _document_type(type_id)[1]
    return document_type, document_type.field(path)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("331,135", "op twee manieren"),
        ("1.234", "op twee manieren"),
        ("12,345", "op twee manieren"),
        ("1,2345", "1 of 2 cijfers"),
        ("331.135,001", "1 of 2 cijfers"),
        ("-5", "niet negatief"),
        ("99999999999999", "te groot"),
    ],
)
def test_an_amount_still_to_pay_that_is_ambiguous_negative_or_huge_is_refused(demo_world, typed, words):
    document_type, field = _field("vorderingen", AMOUNT)
    with pytest.raises(corrections.BadValue) as refused:
        corrections.value_of(document_type, field, typed)
    assert words in str(refused.value.message)


def test_an_income_may_be_negative_where_the_catalogue_allows_it(demo_world):
    document_type, field = _field("inkomen", "verzamelinkomenInCenten")
    assert corrections.value_of(document_type, field, "-1.234,56") == -123456
    assert corrections.value_of(document_type, field, "331.135,00") == 33113500


def test_a_new_amount_far_off_the_one_now_is_flagged(demo_world):
    _document_type, field = _field("vorderingen", AMOUNT)
    assert corrections.far_off(field, 33113, 33113500) == "more"
    assert corrections.far_off(field, 33113500, 33113) == "less"
    assert corrections.far_off(field, 33113, 33000) is None
    assert corrections.far_off(field, 0, 5000) is None
