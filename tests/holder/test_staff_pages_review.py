"""The holder staff's pages after the newcomer's browser review (issue 12): an item of a list in words, the value
in the source now on the confirm step (and a warning when it changed, or the new amount is far off), amounts that
could be read two ways refused, the new deadline on the extend step, reasons of a sentence, and English help with
English examples."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from blauweknop.holder.models import SourceRecord
from tests.holder.test_staff_pages import BELASTING, BELASTING_SLUG, HOME, correction, logged_in, tenant, text

pytestmark = pytest.mark.django_db
AMOUNT = "vorderingen.openstaandBedragInCenten"


def debts() -> SourceRecord:
    return SourceRecord.objects.filter(holder_oin=BELASTING, document_type="vorderingen").order_by("pk").first()


@pytest.fixture
def debt_request(demo_world):
    """An open request about the amount still to pay of a citizen's first debt at the tax office, and staff."""
    record = debts()
    item = record.data["vorderingen"][0]
    fields = {"document_type": "vorderingen", "path": AMOUNT, "position": 0, "item": item}
    ours = correction("BK-DEBT", tenant(BELASTING, BELASTING_SLUG), bsn=record.bsn, **fields)
    ours.current_value = item["openstaandBedragInCenten"]
    ours.save()
    return ours, logged_in("anna", BELASTING), item


def test_the_queue_and_the_request_name_the_debt_in_words_not_its_number(debt_request):
    ours, client, item = debt_request
    for page in (HOME, f"{HOME}verzoeken/{ours.reference}/"):
        words = text(client.get(page))
        assert f"Nog te betalen ({item['kenmerk']}" in words or f", {item['kenmerk']}, €" in words, words
        assert "(nummer 1)" not in words


def test_the_confirm_step_shows_the_source_now_and_warns_of_a_far_off_amount(debt_request):
    ours, client, item = debt_request
    record = debts()
    record.data["vorderingen"] = [*record.data["vorderingen"][1:], item]  # reordered outside the portal
    record.save()
    url = f"{HOME}verzoeken/{ours.reference}/aanpassen/"
    old = item["openstaandBedragInCenten"]
    confirm = client.post(url, {"value": str(old * 20 // 100)})
    assert "Weet u het zeker?" in text(confirm)
    assert "Let op: dit is veel meer dan nu. Klopt het bedrag?" in text(confirm)
    assert 'name="nu"' in confirm.content.decode()
    less = client.post(url, {"value": "0,01"}) if old > 10 else None
    assert less is None or "veel minder dan nu" in text(less)

    item_now = {**item, "openstaandBedragInCenten": old + 100}
    record.data["vorderingen"][-1] = item_now
    record.save()
    changed = client.post(url, {"value": "1,00"})
    assert "veranderd sinds het verzoek" in text(changed) and 'id="id_value-fout"' in changed.content.decode()
    ours.refresh_from_db()
    assert ours.state == "ontvangen"


@pytest.mark.parametrize(("typed", "words"), [("331,135", "op twee manieren"), ("-5", "niet negatief")])
def test_an_amount_read_two_ways_or_negative_is_refused_before_the_confirm_step(debt_request, typed, words):
    ours, client, _item = debt_request
    response = client.post(f"{HOME}verzoeken/{ours.reference}/aanpassen/", {"value": typed})
    assert "Weet u het zeker?" not in text(response) and words in text(response)


def test_the_extend_step_shows_the_new_date_and_reasons_take_a_sentence(debt_request):
    ours, client, _item = debt_request
    ours.received_at = timezone.make_aware(timezone.datetime(2026, 12, 28, 10))
    ours.deadline = ours.received_at + timedelta(days=31)
    ours.save()
    url = f"{HOME}verzoeken/{ours.reference}/verlengen/"
    assert "minstens 10 tekens" in text(client.post(url, {"months": "1", "reason": "Druk."}))
    confirm = text(client.post(url, {"months": "1", "reason": "Wij wachten op uw werkgever."}))
    assert "Nieuwe uiterste datum 28 februari 2027" in confirm
    reject = client.post(f"{HOME}verzoeken/{ours.reference}/afwijzen/", {"reason": "Nee hoor."})
    assert "minstens 10 tekens" in text(reject) and "Weet u het zeker?" not in text(reject)


def test_a_date_that_does_not_exist_says_so(demo_world):
    from blauweknop.holder import corrections
    from blauweknop.holder.corrections import _document_type

    document_type = _document_type("vorderingen")[1]
    field = document_type.field("vorderingen.vervaldatum")
    with pytest.raises(corrections.BadValue) as refused:
        corrections.value_of(document_type, field, "31-02-2026")
    assert refused.value.message == "Deze datum bestaat niet."


def test_english_pages_give_english_examples(debt_request):
    ours, client, _item = debt_request
    client.cookies["django_language"] = "en"
    form = text(client.get(f"{HOME}verzoeken/{ours.reference}/aanpassen/"))
    assert "1,234.56" in form and "1.234,56" not in form and "31-03-2026" not in form, form
    refused = text(client.post(f"{HOME}verzoeken/{ours.reference}/aanpassen/", {"value": "twelve"}))
    assert "1,234.56" in refused and "1.234,56" not in refused
