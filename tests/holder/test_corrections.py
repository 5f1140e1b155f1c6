"""A citizen's correction requests at the holder, through the app manager, over real HTTP (issue 12)."""

# ruff: noqa: F401, F811 - debtor is test_supersession's fixture, imported to be used as one

import base64
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from blauweknop import display
from blauweknop.audit.models import AccessRecord
from blauweknop.holder import corrections
from blauweknop.holder.corrections import DecisionRefused
from blauweknop.holder.models import CorrectionRequest, IssuedCredential, SourceRecord, UsedAssertion
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.status_list import INVALID
from tests.holder.test_issue_credential import BELASTING, _assertion, _verify
from tests.holder.test_supersession import GEMEENTE, SLUGS, _press, debtor
from tests.test_attachments import PDF, image, pdf_of_size
from tests.test_request_limits import call, must_not_be_read

pytestmark = pytest.mark.django_db(transaction=True)
AMOUNT = "vorderingen.openstaandBedragInCenten"
KENMERK = re.compile(r"CV-[2-9A-HJ-NP-Z]{8}")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FOUR_MIB_PDF = pdf_of_size(4 * 1024 * 1024)


def _url(server, oin, tail=""):
    return f"{server.url}/{SLUGS[oin]}/api/v1/correctieverzoeken{tail}"


def _body(bsn, wallet, oin=BELASTING, **fields):
    return {
        "appbeheerderverklaring": _assertion(bsn, wallet, holder_oin=oin),
        "documentsoort": "vorderingen",
        "veld": AMOUNT,
        "positie": 0,
        "voorgesteldeWaarde": "€ 0,00: ik heb alles betaald",
        "toelichting": "Ik heb op 3 maart betaald.\nHet bewijs zit erbij.",
        **fields,
    }


def _submit(server, bsn, wallet, oin=BELASTING, **fields):
    return httpx.post(_url(server, oin), json=_body(bsn, wallet, oin, **fields), timeout=60)


def _mine(server, bsn, wallet, oin=BELASTING):
    body = {"appbeheerderverklaring": _assertion(bsn, wallet, holder_oin=oin)}
    response = httpx.post(_url(server, oin, "/opvragen"), json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["correctieverzoeken"]


def _problem(response, status, code):
    assert (response.status_code, response.headers["Content-Type"]) == (status, "application/problem+json")
    assert response.json()["code"] == code, response.text


@pytest.fixture
def other_debtor(demo_world, debtor):
    """A second citizen with debts at the tax office."""
    return (
        SourceRecord.objects.filter(holder_oin=BELASTING, document_type="vorderingen")
        .exclude(bsn=debtor)
        .values_list("bsn", flat=True)[0]
    )


def _request(kenmerk):
    return CorrectionRequest.objects.get(reference=kenmerk)


def test_a_citizen_sees_only_their_own_requests_at_that_holder(demo_world, debtor, other_debtor, wallet):
    mine = _submit(demo_world, debtor, wallet)
    assert mine.status_code == 201, mine.text
    received = mine.json()
    assert KENMERK.fullmatch(received["kenmerk"]) and received["status"] == "ontvangen"
    assert _submit(demo_world, debtor, wallet, GEMEENTE).status_code == 201
    assert _submit(demo_world, other_debtor, wallet, veld="naam.geslachtsnaam", positie=None).status_code == 201

    listed = _mine(demo_world, debtor, wallet)
    assert [r["kenmerk"] for r in listed] == [received["kenmerk"]]
    # Before any extension the first deadline is the deadline: both shown to the citizen.
    deadlines = (listed[0]["eersteBeslisdatum"], listed[0]["uiterlijkeBeslisdatum"], received["uiterlijkeBeslisdatum"])
    assert len({datetime.fromisoformat(moment.replace("Z", "+00:00")) for moment in deadlines}) == 1
    moments = {"ontvangenOp": None, "uiterlijkeBeslisdatum": None, "eersteBeslisdatum": None, "onderdeel": None}
    assert listed[0] | moments == {
        "kenmerk": received["kenmerk"],
        "documentsoort": "vorderingen",
        "veld": AMOUNT,
        "positie": 0,
        "voorgesteldeWaarde": "€ 0,00: ik heb alles betaald",
        "status": "ontvangen",
        "ontvangenOp": None,
        "uiterlijkeBeslisdatum": None,
        "eersteBeslisdatum": None,
        "verlengd": False,
        "verlengingReden": "",
        "besluitOp": None,
        "besluitReden": "",
        "nieuweWaarde": None,
        "verzoeksleutel": "",
        "onderdeel": None,
    }
    assert listed[0]["onderdeel"], "the debt in words"
    assert len(_mine(demo_world, debtor, wallet, GEMEENTE)) == 1
    assert [r["veld"] for r in _mine(demo_world, other_debtor, wallet)] == ["naam.geslachtsnaam"]
    stored = _request(received["kenmerk"])
    source = SourceRecord.objects.get(holder_oin=BELASTING, document_type="vorderingen", bsn=debtor).data
    assert stored.current_value == source["vorderingen"][0]["openstaandBedragInCenten"]
    assert stored.app_manager_oin and stored.deadline == corrections.deadline_of(stored.received_at)
    record = AccessRecord.objects.about(debtor).get(holder_id=BELASTING)
    assert (record.activity, record.fields) == (display.CORRECTION_ASKED, [AMOUNT])


@pytest.mark.parametrize(
    ("received", "deadline"),
    [
        (datetime(2027, 1, 31, 9, tzinfo=UTC), datetime(2027, 2, 28, 23, 59, 59, tzinfo=AMSTERDAM)),
        (datetime(2028, 1, 31, 9, tzinfo=UTC), datetime(2028, 2, 29, 23, 59, 59, tzinfo=AMSTERDAM)),
        # 23:30 UTC on 30 April is already 1 May in Amsterdam: the month counts from the Dutch date.
        (datetime(2027, 4, 30, 23, 30, tzinfo=UTC), datetime(2027, 6, 1, 23, 59, 59, tzinfo=AMSTERDAM)),
        (datetime(2027, 12, 15, 12, tzinfo=UTC), datetime(2028, 1, 15, 23, 59, 59, tzinfo=AMSTERDAM)),
    ],
)
def test_the_deadline_is_the_end_of_the_day_one_calendar_month_later_in_amsterdam(received, deadline):
    assert corrections.deadline_of(received) == deadline


def test_staff_reject_with_a_reason_the_citizen_then_sees(demo_world, debtor, wallet):
    kenmerk = _submit(demo_world, debtor, wallet).json()["kenmerk"]
    with pytest.raises(DecisionRefused) as refused:
        corrections.reject(_request(kenmerk), "medewerker", "   ")
    assert refused.value.code == "reason_missing" and not _request(kenmerk).notice_pending
    corrections.take_up(_request(kenmerk), "medewerker")
    assert _mine(demo_world, debtor, wallet)[0]["status"] == "in_behandeling"
    corrections.reject(_request(kenmerk), "medewerker", "Uw betaling van 3 maart is voor een andere vordering.")
    listed = _mine(demo_world, debtor, wallet)[0]
    assert listed["status"] == "afgewezen" and listed["besluitOp"]
    assert listed["besluitReden"] == "Uw betaling van 3 maart is voor een andere vordering."
    stored = _request(kenmerk)
    assert stored.notice_pending and stored.handled_by == "medewerker"
    for step in (
        lambda r: corrections.accept(r, "ander", "0"),
        lambda r: corrections.reject(r, "ander", "nog eens bekeken"),
        lambda r: corrections.extend(r, "ander", "later, veel werk", 1),
        lambda r: corrections.take_up(r, "ander"),
    ):
        with pytest.raises(DecisionRefused) as refused:
            step(stored)
        assert refused.value.code == "decided"
    assert _request(kenmerk).handled_by == "medewerker"


def test_the_deadline_is_extended_once_to_three_months_at_most(demo_world, debtor, wallet):
    kenmerk = _submit(demo_world, debtor, wallet).json()["kenmerk"]
    received = _request(kenmerk).received_at
    with pytest.raises(DecisionRefused) as refused:
        corrections.extend(_request(kenmerk), "medewerker", "Veel werk", 3)
    assert refused.value.code == "bad_months"
    corrections.extend(_request(kenmerk), "medewerker", "We wachten op stukken van de rechtbank.", 2)
    stored = _request(kenmerk)
    assert stored.deadline == corrections._months_after(received, 3) and stored.notice_pending
    with pytest.raises(DecisionRefused) as refused:
        corrections.extend(stored, "medewerker", "Nog meer tijd", 1)
    assert refused.value.code == "already_extended"
    listed = _mine(demo_world, debtor, wallet)[0]
    assert listed["verlengd"] and listed["verlengingReden"] == "We wachten op stukken van de rechtbank."
    assert datetime.fromisoformat(listed["uiterlijkeBeslisdatum"]) == corrections._months_after(received, 3)
    assert datetime.fromisoformat(listed["eersteBeslisdatum"]) == corrections.deadline_of(received)  # still shown
    assert listed["status"] == "ontvangen", "an extension is no decision"


def test_accepting_changes_the_source_and_the_next_copy_and_supersedes_the_old_one(demo_world, debtor, wallet):
    old = _press(demo_world, BELASTING, debtor, wallet)
    kenmerk = _submit(demo_world, debtor, wallet).json()["kenmerk"]
    for typed in ("12,3,4", "€ -", "1.234.56"):
        with pytest.raises(DecisionRefused) as refused:
            corrections.accept(_request(kenmerk), "medewerker", typed)
        assert refused.value.code == "bad_value"
    with pytest.raises(DecisionRefused) as refused:  # the catalogue: an amount is at least 0
        corrections.accept(_request(kenmerk), "medewerker", "-5,00")
    assert refused.value.code == "bad_value" and _request(kenmerk).state == "ontvangen"

    corrections.accept(_request(kenmerk), "medewerker", "€ 1.234,56")

    source = SourceRecord.objects.get(holder_oin=BELASTING, document_type="vorderingen", bsn=debtor).data
    assert source["vorderingen"][0]["openstaandBedragInCenten"] == 123456
    stored = _request(kenmerk)
    assert (stored.state, stored.corrected_value, stored.notice_pending) == ("aangepast", 123456, True)
    assert IssuedCredential.objects.get().status == INVALID, "superseded at once, in the same transaction"
    new = _verify(demo_world, _press(demo_world, BELASTING, debtor, wallet))
    assert new.claims["vorderingen"][0]["openstaandBedragInCenten"] == 123456
    assert _mine(demo_world, debtor, wallet)[0]["nieuweWaarde"] == 123456
    record = AccessRecord.objects.about(debtor).get(activity=display.CORRECTED)
    assert record.actor_oin == BELASTING and kenmerk in record.purpose
    with pytest.raises(VerificationError) as caught:
        _verify(demo_world, old)
    assert caught.value.code == "revoked"


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        ("money", "1234.56", 123456),
        ("money", "1.234,00", 123400),
        ("money", "1,234.56", 123456),
        ("money", "1.234.567", 123456700),
        ("money", "12,5", 1250),
        ("percentage", "2,5%", 250),
        ("date", "31-01-2027", "2027-01-31"),
        ("date", "2027-01-31", "2027-01-31"),
        ("year", "2026", 2026),
        ("boolean", "Nee", False),
        ("text", "  De Vries ", "De Vries"),
    ],
)
def test_staff_type_values_as_people_write_them(kind, typed, stored):
    field = corrections.Field("x", kind, "normaal", {"nl": "", "en": ""}, {"nl": "", "en": ""})
    assert corrections.parse(field, typed) == stored


def test_a_date_staff_type_must_exist():
    field = corrections.Field("x", "date", "normaal", {"nl": "", "en": ""}, {"nl": "", "en": ""})
    for typed in ("31-02-2027", "2027-02-31"):
        with pytest.raises(corrections.BadValue) as refused:
            corrections.parse(field, typed)
        assert refused.value.message == "Deze datum bestaat niet."


def _bijlage(name, media_type, data):
    return {"bestandsnaam": name, "mediatype": media_type, "inhoud": base64.b64encode(data).decode()}


def test_an_attachment_of_4_mib_goes_through_and_is_kept(demo_world, debtor, wallet):
    bijlage = _bijlage("C:\\scans\\bewijs.pdf", "application/pdf", FOUR_MIB_PDF)
    response = _submit(demo_world, debtor, wallet, bijlage=bijlage)
    assert response.status_code == 201, response.text
    stored = _request(response.json()["kenmerk"])
    assert (stored.attachment_name, stored.attachment_type, bytes(stored.attachment)) == (
        "bewijs.pdf",
        "application/pdf",
        FOUR_MIB_PDF,
    )


@pytest.mark.parametrize(
    ("bijlage", "status", "code"),
    [
        (_bijlage("bewijs.pdf", "application/pdf", PDF + b" " * (4 * 1024 * 1024)), 413, "attachment_too_large"),
        (_bijlage("bewijs.pdf", "application/pdf", PDF[:-7] + b"x" * 4 * 1024 * 1024), 413, "attachment_too_large"),
        (_bijlage("bewijs.png", "image/png", PDF), 400, "attachment_mismatch"),
        (_bijlage("bewijs.pdf", "application/pdf", image("PNG")), 400, "attachment_mismatch"),
        (_bijlage("bewijs.docx", "application/msword", b"PK\x03\x04"), 400, "attachment_type"),
        ({"bestandsnaam": "b.pdf", "mediatype": "application/pdf", "inhoud": "JVBER!!!"}, 400, "attachment_base64"),
        ({"bestandsnaam": "b.pdf", "mediatype": "application/pdf", "inhoud": "JVBERi0"}, 400, "attachment_base64"),
    ],
)
def test_an_attachment_that_is_too_large_or_not_what_it_claims_stores_nothing(
    demo_world, debtor, wallet, bijlage, status, code
):
    _problem(_submit(demo_world, debtor, wallet, bijlage=bijlage), status, code)
    assert CorrectionRequest.objects.count() == 0
    assert AccessRecord.objects.count() == 0


def test_the_served_app_takes_the_body_of_a_4_mib_attachment_and_refuses_more_unread(demo_world, debtor, wallet):
    # The live server above is Django's own; in production the ASGI app with its body limit serves the API.
    path = f"/{SLUGS[BELASTING]}/api/v1/correctieverzoeken"
    body = json.dumps(_body(debtor, wallet, bijlage=_bijlage("b.pdf", "application/pdf", FOUR_MIB_PDF))).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    taken, _ = call(path, headers, iter([body]))
    assert taken["status"] == 201, taken["body"][:300]
    refused, read = call(path, [(b"content-length", str(len(body) * 2).encode())], must_not_be_read())
    assert (refused["status"], read, json.loads(refused["body"])["code"]) == (413, 0, "too_large")
    assert CorrectionRequest.objects.count() == 1


def test_a_replayed_assertion_is_refused(demo_world, debtor, wallet):
    body = _body(debtor, wallet)
    assert httpx.post(_url(demo_world, BELASTING), json=body, timeout=30).status_code == 201
    _problem(httpx.post(_url(demo_world, BELASTING), json=body, timeout=30), 401, "assertion_replayed")
    assert CorrectionRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"veld": "vorderingen.bestaatNiet"}, 400, "unknown_field"),
        ({"veld": "naam.geslachtsnaam", "positie": 0}, 400, "bad_position"),
        ({"positie": None}, 400, "bad_position"),
        ({"positie": 9999}, 400, "bad_position"),
        ({"veld": "burgerservicenummer", "positie": None}, 400, "field_not_correctable"),
        ({"documentsoort": "inkomen", "veld": "belastingjaar", "positie": None}, 404, "not_issued_here"),
        ({"documentsoort": "onbekend"}, 404, "not_issued_here"),
    ],
)
def test_an_unknown_field_or_position_is_refused(demo_world, debtor, wallet, fields, status, code):
    # The municipality does not issue inkomen; the tax office does, so ask the municipality.
    response = _submit(demo_world, debtor, wallet, GEMEENTE, **fields)
    _problem(response, status, code)
    assert CorrectionRequest.objects.count() == 0


def test_a_citizen_the_holder_has_nothing_about_is_told_so(demo_world, wallet):
    stranger = "999990019"
    _problem(_submit(demo_world, stranger, wallet), 404, "no_data")
    # The assertion is used up all the same (as when issuing): a refusal does not give it back.
    assert CorrectionRequest.objects.count() == 0 and UsedAssertion.objects.count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"voorgesteldeWaarde": "x" * 1_000_000},
        {"toelichting": "x" * (corrections.MAX_EXPLANATION + 1)},
        {"voorgesteldeWaarde": "nul\x00hier"},
        {"voorgesteldeWaarde": "twee\nregels"},
        {"toelichting": "bel\x07"},
        {"toelichting": "\u202eomgekeerd"},
        {"voorgesteldeWaarde": "   "},
        {"veld": "naam.geslachtsnaam'; DROP TABLE x;--", "positie": None},
        {"veld": "a." * 60 + "b"},
        {"positie": -1},
        {"positie": 10**30},
        {"positie": "nul"},
        {"documentsoort": "../../etc"},
        {"bijlage": "geen object"},
        {"bijlage": {"bestandsnaam": "a.pdf"}},
        {"appbeheerderverklaring": "x" * 100},
    ],
)
def test_hostile_input_is_refused_with_a_4xx_and_stores_nothing(demo_world, debtor, wallet, fields):
    response = _submit(demo_world, debtor, wallet, **fields)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert CorrectionRequest.objects.count() == 0


@pytest.mark.parametrize("raw", [b"{", b"[]", b'{"toelichting": "\\ud800"}', b"\xff\xfe", b"null"])
def test_a_body_that_is_no_request_is_a_4xx(demo_world, raw):
    response = httpx.post(
        _url(demo_world, BELASTING), content=raw, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert 400 <= response.status_code < 500 and response.headers["Content-Type"] == "application/problem+json"


def test_a_lone_surrogate_in_the_text_is_a_4xx(demo_world, debtor, wallet):
    body = httpx.Request("POST", "/", json=_body(debtor, wallet, toelichting="PLACEHOLDER")).content
    raw = body.replace(b"PLACEHOLDER", b"ab\\ud800cd")
    response = httpx.post(
        _url(demo_world, BELASTING), content=raw, headers={"Content-Type": "application/json"}, timeout=30
    )
    _problem(response, 400, "invalid_input")
    assert CorrectionRequest.objects.count() == 0


def test_thirty_requests_at_once_are_all_stored_with_their_own_kenmerk(demo_world, debtor, wallet, monkeypatch):
    monkeypatch.setattr(corrections, "MAX_OPEN", 30)  # the caps are tested on their own
    monkeypatch.setattr(corrections, "MAX_PER_DAY", 30)
    monkeypatch.setattr(corrections, "_asked_before", lambda *args: None)  # one open request per field: its own test
    bodies = [_body(debtor, wallet) for _ in range(30)]
    with httpx.Client(timeout=120) as client, ThreadPoolExecutor(30) as pool:
        responses = list(pool.map(lambda body: client.post(_url(demo_world, BELASTING), json=body), bodies))
    assert [r.status_code for r in responses] == [201] * 30, [r.text for r in responses if r.status_code != 201]
    kenmerken = {r.json()["kenmerk"] for r in responses}
    assert len(kenmerken) == 30
    assert set(CorrectionRequest.objects.values_list("reference", flat=True)) == kenmerken


def test_a_taken_kenmerk_is_drawn_again(demo_world, debtor, wallet, monkeypatch):
    first = _submit(demo_world, debtor, wallet).json()["kenmerk"]
    draws = iter(first[3:] + "ABCDEFGH")
    monkeypatch.setattr(corrections.secrets, "choice", lambda alphabet: next(draws))
    assert _submit(demo_world, debtor, wallet, veld="vorderingen.vervaldatum").json()["kenmerk"] == "CV-ABCDEFGH"


def test_the_openapi_documents_the_correction_requests(demo_world):
    openapi = httpx.get(f"{demo_world.url}/belastingkantoor/api/v1/openapi.json").json()
    submit = openapi["paths"]["/belastingkantoor/api/v1/correctieverzoeken"]["post"]
    assert submit["summary"] == "Vraag om een correctie van gegevens"
    assert {"201", "400", "401", "404", "413"} <= set(submit["responses"])
    schema = openapi["components"]["schemas"]["CorrectieverzoekAanvraag"]
    assert {"appbeheerderverklaring", "documentsoort", "veld", "voorgesteldeWaarde", "toelichting"} <= set(
        schema["required"]
    )
    assert "positie" in schema["properties"] and "bijlage" in schema["properties"]
    listing = openapi["paths"]["/belastingkantoor/api/v1/correctieverzoeken/opvragen"]["post"]
    assert listing["summary"]
