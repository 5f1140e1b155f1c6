"""Regression tests for the attacker review of correction requests at the holder (issue 12, review findings).

Each test failed on the code before the fix: a lost answer filed again made a second request, one citizen could
file any number of 4 MiB requests, a refused request gave its assertion back, an attachment was decoded for a
caller with no assertion, staff could write an amount no JSON reader reads exactly (or a rounded one), an
invisible character reached the source, and a holder gone from the scheme made accept a KeyError.
"""

# ruff: noqa: F401, F811 - debtor and other_debtor are fixtures, imported to be used as such

import base64
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import httpx
import pytest
from django.utils import timezone

from blauweknop import attachments, document_types
from blauweknop.holder import corrections
from blauweknop.holder.corrections import DecisionRefused
from blauweknop.holder.models import CorrectionRequest, SourceRecord, UsedAssertion
from blauweknop.scheduler import SCHEDULE
from tests.holder.test_corrections import (
    FOUR_MIB_PDF,
    _body,
    _mine,
    _problem,
    _request,
    _submit,
    _url,
    other_debtor,
)
from tests.holder.test_issue_credential import BELASTING
from tests.holder.test_supersession import GEMEENTE, debtor
from tests.test_attachments import PDF

pytestmark = pytest.mark.django_db(transaction=True)
KEY = "a" * 64


# Different fields: requests about one and the same field may be refused as asked before, whatever the caps say.
PLACES = (
    [
        {"veld": path, "positie": None}
        for path in ("naam.voornamen", "naam.voorvoegsel", "naam.geslachtsnaam", "geboorte.datum")
    ]
    + [
        {"veld": f"vorderingen.{path}", "positie": 0}
        for path in ("schuldeiser", "kenmerk", "soort", "omschrijving", "oorspronkelijkBedragInCenten", "vervaldatum")
    ]
    + [{"veld": "vorderingen.bezwaarTot", "positie": 0}, {"veld": "vorderingen.bezwaarVia", "positie": 0}]
)


def _bijlage(data=FOUR_MIB_PDF):
    return {"bestandsnaam": "bewijs.pdf", "mediatype": "application/pdf", "inhoud": base64.b64encode(data).decode()}


# Finding 2: a request sent again after a lost answer is the same request.


def test_the_same_key_sent_again_by_the_same_citizen_answers_the_same_kenmerk(demo_world, debtor, other_debtor, wallet):
    first = _submit(demo_world, debtor, wallet, verzoeksleutel=KEY)
    assert first.status_code == 201, first.text
    again = _submit(demo_world, debtor, wallet, verzoeksleutel=KEY, voorgesteldeWaarde="iets anders")
    assert again.status_code == 200 and again.json()["kenmerk"] == first.json()["kenmerk"]
    for moment in ("ontvangenOp", "uiterlijkeBeslisdatum"):
        assert datetime.fromisoformat(again.json()[moment]) == datetime.fromisoformat(first.json()[moment])
    assert CorrectionRequest.objects.count() == 1
    # Another citizen, or the same citizen at another holder, with that key: requests of their own.
    assert _submit(demo_world, other_debtor, wallet, verzoeksleutel=KEY).status_code == 201
    assert _submit(demo_world, debtor, wallet, GEMEENTE, verzoeksleutel=KEY).status_code == 201
    assert CorrectionRequest.objects.count() == 3
    assert [r["verzoeksleutel"] for r in _mine(demo_world, debtor, wallet)] == [KEY]


def test_the_same_key_sent_at_once_makes_one_request(demo_world, debtor, wallet):
    bodies = [_body(debtor, wallet, verzoeksleutel=KEY) for _ in range(4)]
    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda body: client.post(_url(demo_world, BELASTING), json=body), bodies))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()["kenmerk"] for a in answers}) == 1 and CorrectionRequest.objects.count() == 1


@pytest.mark.parametrize("key", ["kort", "x" * 65, "met spatie en meer tekens", "a/b" * 10])
def test_a_key_that_is_no_key_is_refused(demo_world, debtor, wallet, key):
    assert _submit(demo_world, debtor, wallet, verzoeksleutel=key).status_code == 400
    assert CorrectionRequest.objects.count() == 0


# Finding 3: caps on requests per citizen, and attachments deleted 90 days after the decision.


def test_one_citizen_has_at_most_five_open_requests_at_a_holder(demo_world, debtor, other_debtor, wallet):
    statuses = [_submit(demo_world, debtor, wallet, bijlage=_bijlage(), **PLACES[n]).status_code for n in range(7)]
    assert statuses == [201] * corrections.MAX_OPEN + [429, 429]
    refused = _submit(demo_world, debtor, wallet, **PLACES[7])
    _problem(refused, 429, "too_many_requests")
    assert "not decided yet" in refused.json()["detail"]
    assert CorrectionRequest.objects.count() == corrections.MAX_OPEN
    # Another citizen, and the same citizen at another holder, are not held back.
    assert _submit(demo_world, other_debtor, wallet).status_code == 201
    assert _submit(demo_world, debtor, wallet, GEMEENTE).status_code == 201


def test_one_citizen_sends_at_most_ten_requests_to_a_holder_in_a_day(demo_world, debtor, wallet):
    for _ in range(corrections.MAX_PER_DAY):
        kenmerk = _submit(demo_world, debtor, wallet).json()["kenmerk"]
        corrections.reject(_request(kenmerk), "medewerker", "Dit klopt wel.")
    refused = _submit(demo_world, debtor, wallet)
    _problem(refused, 429, "too_many_requests")
    assert "24 hours" in refused.json()["detail"]
    CorrectionRequest.objects.update(received_at=timezone.now() - timedelta(days=1, minutes=1))
    assert _submit(demo_world, debtor, wallet).status_code == 201


def test_twelve_requests_at_once_store_five(demo_world, debtor, wallet):
    bodies = [_body(debtor, wallet, **place) for place in PLACES[:12]]
    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda body: client.post(_url(demo_world, BELASTING), json=body), bodies))
    assert sorted(a.status_code for a in answers) == [201] * corrections.MAX_OPEN + [429] * 7
    assert CorrectionRequest.objects.count() == corrections.MAX_OPEN


def test_attachments_are_deleted_90_days_after_the_decision(demo_world, debtor, wallet):
    decided, recent, undecided = (
        _submit(demo_world, debtor, wallet, bijlage=_bijlage(PDF), **PLACES[n]).json()["kenmerk"] for n in range(3)
    )
    for kenmerk in (decided, recent):
        corrections.reject(_request(kenmerk), "medewerker", "Dit klopt wel.")
    now = timezone.now()
    CorrectionRequest.objects.filter(reference=decided).update(decided_at=now - timedelta(days=91))
    CorrectionRequest.objects.filter(reference=recent).update(decided_at=now - timedelta(days=89))
    CorrectionRequest.objects.filter(reference=undecided).update(received_at=now - timedelta(days=200))
    assert corrections.forget_old_attachments(now) == 1
    gone = _request(decided)
    assert gone.attachment is None and gone.attachment_name == "bewijs.pdf (verwijderd)"
    assert gone.attachment_type == "application/pdf" and gone.decision_reason == "Dit klopt wel."
    for kept in (recent, undecided):
        assert bytes(_request(kept).attachment) == PDF and _request(kept).attachment_name == "bewijs.pdf"
    assert corrections.forget_old_attachments(now) == 0  # once is enough
    # The longest name still gets the note in full.
    CorrectionRequest.objects.filter(reference=recent).update(attachment_name="x" * 96 + ".pdf")
    assert corrections.forget_old_attachments(now + timedelta(days=2)) == 1
    assert _request(recent).attachment_name == "x" * 87 + " (verwijderd)"


def test_the_attachment_task_runs_daily_at_holders():
    daily = [p for p in SCHEDULE if p.task == "blauweknop.holder.corrections.forget_attachments"]
    assert [(p.every, p.role) for p in daily] == [(timedelta(days=1), "holder")]
    assert corrections.forget_attachments.call() == 0


# Findings 5 and 6: the assertion is verified first and used up, also when the request is refused.


def test_an_assertion_of_a_refused_request_cannot_be_used_again(demo_world, debtor, wallet):
    refused = _body(debtor, wallet, positie=9999)
    first = httpx.post(_url(demo_world, BELASTING), json=refused, timeout=30)
    _problem(first, 400, "bad_position")
    again = httpx.post(_url(demo_world, BELASTING), json={**refused, "positie": 0}, timeout=30)
    _problem(again, 401, "assertion_replayed")
    assert CorrectionRequest.objects.count() == 0 and UsedAssertion.objects.count() == 1


def test_no_attachment_is_decoded_for_a_caller_without_a_valid_assertion(demo_world, monkeypatch):
    checked = []
    monkeypatch.setattr(attachments, "check", lambda *args: checked.append(args))
    body = {
        "appbeheerderverklaring": "x" * 40,  # no assertion at all
        "documentsoort": "vorderingen",
        "veld": "vorderingen.openstaandBedragInCenten",
        "positie": 0,
        "voorgesteldeWaarde": "0",
        "toelichting": "x",
        "bijlage": {
            "bestandsnaam": "a.png",
            "mediatype": "image/png",
            "inhoud": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * (3 * 2**20)).decode(),
        },
    }
    answer = httpx.post(_url(demo_world, BELASTING), json=body, timeout=30)
    _problem(answer, 400, "malformed")  # about the assertion, not the file
    assert checked == []


# Finding 8: amounts past what JSON readers read exactly are refused; nothing is rounded.


@pytest.mark.parametrize("typed", ["9" * 400, "9" * 14, "90071992547409,93", "-90.071.992.547.409,92"])
def test_an_amount_past_what_json_can_carry_is_refused(demo_world, debtor, wallet, typed):
    kenmerk = _submit(demo_world, debtor, wallet).json()["kenmerk"]
    before = SourceRecord.objects.get(holder_oin=BELASTING, document_type="vorderingen", bsn=debtor).data
    with pytest.raises(DecisionRefused) as refused:
        corrections.accept(_request(kenmerk), "medewerker", typed)
    assert refused.value.code == "too_large" and "13 cijfers" in str(refused.value.message)
    assert SourceRecord.objects.get(holder_oin=BELASTING, document_type="vorderingen", bsn=debtor).data == before
    assert _request(kenmerk).state == CorrectionRequest.State.RECEIVED


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("9.999.999.999.999,99", 999_999_999_999_999), ("0009999999999999", 999_999_999_999_900), ("12,5", 1250)],
)
def test_the_largest_amount_is_kept_to_the_cent(demo_world, typed, cents):
    catalogue = document_types.of(corrections.scheme_client.in_hand())
    field = next(f for f in catalogue.get("vorderingen").fields if f.kind == "money")
    assert corrections.parse(field, typed) == cents


# Finding 9: invisible characters never reach the source.

HIDDEN = ["\u200b", "\u2060", "\ufeff", "\u2028", "\u2029", "\U000e0041", "\u00ad", "\ue000", "\u0378", "\x85"]


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_proposal_or_explanation_with_an_invisible_character_is_refused(demo_world, debtor, wallet, hidden):
    for field in ("voorgesteldeWaarde", "toelichting"):
        answer = _submit(demo_world, debtor, wallet, veld="naam.geslachtsnaam", positie=None, **{field: f"Ja{hidden}n"})
        _problem(answer, 400, "invalid_input")
    assert CorrectionRequest.objects.count() == 0


@pytest.mark.parametrize("hidden", HIDDEN)
def test_staff_cannot_write_an_invisible_character_to_the_source(demo_world, debtor, wallet, hidden):
    kenmerk = _submit(demo_world, debtor, wallet, veld="naam.geslachtsnaam", positie=None).json()["kenmerk"]
    with pytest.raises(DecisionRefused) as refused:
        corrections.accept(_request(kenmerk), "medewerker", f"Jan{hidden}sen")
    assert refused.value.code == "bad_value"
    with pytest.raises(DecisionRefused):
        corrections.reject(_request(kenmerk), "medewerker", f"Nee{hidden}.")
    assert _request(kenmerk).state == CorrectionRequest.State.RECEIVED


def test_text_is_kept_in_nfc_and_line_breaks_stay_in_an_explanation(demo_world, debtor, wallet):
    decomposed = "Bru\u0308ggen"  # u + combining diaeresis: looks like Brüggen
    answer = _submit(demo_world, debtor, wallet, veld="naam.geslachtsnaam", positie=None, voorgesteldeWaarde=decomposed)
    stored = _request(answer.json()["kenmerk"])
    assert stored.proposed_value == "Br\u00fcggen" and "\n" in stored.explanation
    corrections.accept(stored, "medewerker", decomposed)
    source = SourceRecord.objects.get(holder_oin=BELASTING, document_type="vorderingen", bsn=debtor).data
    assert source["naam"]["geslachtsnaam"] == "Br\u00fcggen"


# Finding 11: a holder gone from the scheme.


def test_accept_for_a_holder_gone_from_the_scheme_is_refused_not_a_500(demo_world, debtor, wallet, monkeypatch):
    kenmerk = _submit(demo_world, debtor, wallet).json()["kenmerk"]
    scheme = corrections.scheme_client.in_hand()
    without = dataclasses.replace(
        scheme, organisations={k: v for k, v in scheme.organisations.items() if k != BELASTING}
    )
    monkeypatch.setattr(corrections.scheme_client, "in_hand", lambda: without)
    with pytest.raises(DecisionRefused) as refused:
        corrections.accept(_request(kenmerk), "medewerker", "1,00")
    assert refused.value.code == "holder_gone" and "stelsel" in str(refused.value.message)
    assert _request(kenmerk).state == CorrectionRequest.State.RECEIVED
