"""The wallet's answer (direct_post): verified, once, for the request its state names; only what was asked is kept."""

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from django.utils import timezone

from blauweknop.requester.models import ReceivedCredential, ShareRequest, UsedPresentation

from .world import (
    BANK,
    BANK_SLUG,
    BELASTING,
    INCOME,
    api_url,
    as_portal,
    copy,
    created,
    income_request,
    is_problem,
    opened,
    post_answer,
    presentation,
    state_of,
    vp_token,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def asked(demo_world):
    """An open one-time request for the income, as a wallet opened it."""
    made = created()
    return made, opened(made)


def test_an_approved_answer_keeps_only_the_disclosed_fields_until_the_retention_term_ends(asked, bsn, wallet):
    made, request = asked
    shown = presentation(copy(bsn, wallet), wallet, request)
    answer = post_answer(
        as_portal({"state": request.state, "vp_token": vp_token("inkomen", shown), "toestemming": "tst-1"})
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "goedgekeurd"}
    state = state_of(made["code"]).json()
    assert (state["status"], state["toestemming"]) == ("goedgekeurd", "tst-1")
    (received,) = state["ontvangen"]
    assert (received["documentsoort"], received["uitgever"], received["via"]) == ("inkomen", BELASTING, "antwoord")
    assert set(received["gegevens"]) == set(INCOME)  # no BSN, no name: only what was asked
    kept = datetime.fromisoformat(received["verwijderdNa"]) - datetime.fromisoformat(received["ontvangenOp"])
    assert kept == timedelta(days=30)
    assert bsn not in str(ReceivedCredential.objects.get().claims)


def test_the_optional_field_may_be_left_out(asked, bsn, wallet):
    _, request = asked
    shown = presentation(copy(bsn, wallet), wallet, request, paths=["belastingjaar", "verzamelinkomenInCenten"])
    assert post_answer({"state": request.state, "vp_token": vp_token("inkomen", shown)}).status_code == 200
    assert set(ReceivedCredential.objects.get().claims) == {"belastingjaar", "verzamelinkomenInCenten"}


def test_a_refusal_closes_the_request_and_keeps_nothing(asked):
    made, request = asked
    answer = post_answer(as_portal({"state": request.state, "error": "access_denied", "toestemming": "tst-2"}))
    assert answer.status_code == 200 and answer.json() == {"status": "geweigerd"}
    assert state_of(made["code"]).json()["status"] == "geweigerd"
    assert ReceivedCredential.objects.count() == 0
    # Once answered, the request object is no longer served.
    assert is_problem(httpx.get(made["requestUri"]), 404, "not_found")


def test_an_unknown_state_and_a_second_different_answer_are_refused(asked, bsn, wallet):
    _, request = asked
    assert is_problem(post_answer({"state": "x" * 32, "error": "access_denied"}), 400, "invalid_request")
    assert is_problem(post_answer({"error": "access_denied"}), 400, "invalid_request")
    shown = presentation(copy(bsn, wallet), wallet, request)
    fields = {"state": request.state, "vp_token": vp_token("inkomen", shown)}
    assert post_answer(fields).status_code == 200
    assert post_answer(fields).status_code == 200  # the same answer again: taken as the one received
    other = vp_token("inkomen", presentation(copy(bsn, wallet), wallet, request))
    assert is_problem(post_answer({"state": request.state, "vp_token": other}), 409, "already_answered")
    refusal = as_portal({"state": request.state, "error": "access_denied"})
    assert is_problem(post_answer(refusal), 409, "already_answered")
    assert ReceivedCredential.objects.count() == 1


def test_a_request_past_its_date_cannot_be_answered(asked):
    made, request = asked
    ShareRequest.objects.filter(code=made["code"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert is_problem(post_answer({"state": request.state, "error": "access_denied"}), 400, "request_expired")
    assert is_problem(httpx.get(made["requestUri"]), 404)


def test_a_replayed_presentation_is_refused(asked, bsn, wallet):
    made, request = asked
    shown = presentation(copy(bsn, wallet), wallet, request)
    fields = {"state": request.state, "vp_token": vp_token("inkomen", shown)}
    assert post_answer(fields).status_code == 200
    # Even if the request were open again, the same presentation is not taken twice.
    ShareRequest.objects.filter(code=made["code"]).update(status=ShareRequest.State.OPEN)
    replay = post_answer(fields)
    assert is_problem(replay, 400, "invalid_presentation") and "before" in replay.json()["detail"]
    assert ReceivedCredential.objects.count() == 1 and UsedPresentation.objects.count() == 1
    assert ShareRequest.objects.get(code=made["code"]).status == ShareRequest.State.OPEN  # the refusal changed nothing
    # Nor the same presentation twice in one answer, nor one answer's presentation for another request.
    twice = post_answer({"state": request.state, "vp_token": vp_token("inkomen", shown, shown)})
    assert is_problem(twice, 400, "invalid_presentation")
    other = opened(created())
    assert is_problem(post_answer({"state": other.state, "vp_token": vp_token("inkomen", shown)}), 400)
    assert ReceivedCredential.objects.count() == 1


def test_a_presentation_meant_for_another_requester_is_refused(asked, bsn, wallet):
    _, request = asked
    for_the_bank = presentation(copy(bsn, wallet), wallet, request, aud=BANK)
    answer = post_answer({"state": request.state, "vp_token": vp_token("inkomen", for_the_bank)})
    assert is_problem(answer, 400, "invalid_presentation")
    # And a requester's state means nothing at another requester's address.
    elsewhere = post_answer({"state": request.state, "error": "access_denied"}, slug=BANK_SLUG)
    assert is_problem(elsewhere, 400, "invalid_request")
    assert ReceivedCredential.objects.count() == 0


def test_a_presentation_that_shows_more_than_was_asked_is_refused(asked, bsn, wallet):
    _, request = asked
    shown = presentation(copy(bsn, wallet), wallet, request, paths=[*INCOME, "burgerservicenummer"])
    answer = post_answer({"state": request.state, "vp_token": vp_token("inkomen", shown)})
    assert is_problem(answer, 400, "invalid_presentation")
    assert ReceivedCredential.objects.count() == 0


def test_standing_access_keeps_the_consent_and_the_end_date_the_citizen_approved(demo_world, bsn, wallet):
    until = date.today() + timedelta(days=90)
    made = created(income_request(toegang="doorlopend", toegangTot=until.isoformat()))
    request = opened(made)
    shown = presentation(copy(bsn, wallet), wallet, request)
    fields = {"state": request.state, "vp_token": vp_token("inkomen", shown)}
    assert is_problem(post_answer(as_portal(fields)), 400, "invalid_request")  # standing access needs the consent id
    later = {**fields, "toestemming": "tst-3", "toegangTot": (until + timedelta(days=1)).isoformat()}
    assert is_problem(post_answer(as_portal(later)), 400, "invalid_request")  # never later than asked
    week = {**fields, "toestemming": "tst-3", "toegangTot": f"{until.year}-W01-1"}
    assert is_problem(post_answer(as_portal(week)), 400, "invalid_request")  # a date as YYYY-MM-DD only
    earlier = until - timedelta(days=30)
    answer = post_answer(as_portal({**fields, "toestemming": "tst-3", "toegangTot": earlier.isoformat()}))
    assert answer.status_code == 200, answer.text
    state = state_of(made["code"]).json()
    assert (state["toestemming"], state["goedgekeurdTot"], state["toegangTot"]) == (
        "tst-3",
        earlier.isoformat(),
        until.isoformat(),
    )


def test_a_standing_request_may_be_refused_without_a_consent_id(demo_world):
    until = date.today() + timedelta(days=90)
    made = created(income_request(toegang="doorlopend", toegangTot=until.isoformat()))
    request = opened(made)
    assert post_answer(as_portal({"state": request.state, "error": "access_denied"})).json() == {"status": "geweigerd"}
    assert state_of(made["code"]).json()["goedgekeurdTot"] is None


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        ('{"state": "x"}', "application/json", 415),
        ("state=a&state=b", "application/x-www-form-urlencoded", 400),
        ("state=%ZZ&&&", "application/x-www-form-urlencoded", 400),
        (b"state=\xff\xfe", "application/x-www-form-urlencoded", 400),
        ("&".join(f"f{i}=1" for i in range(50)), "application/x-www-form-urlencoded", 400),
        ("state=" + "a" * (300 * 1024), "application/x-www-form-urlencoded", 413),
        ("vp_token=%7Bnot+json", "application/x-www-form-urlencoded", 400),
    ],
)
def test_hostile_answers_are_problems_never_a_crash(asked, content, content_type, status):
    _, request = asked
    if isinstance(content, str) and content.startswith("vp_token"):  # a known state, a broken token
        content = f"state={request.state}&{content}"
    response = post_answer(content, content_type=content_type)
    assert is_problem(response, status), (response.status_code, response.text[:200])
    assert ShareRequest.objects.get(state=request.state).status == ShareRequest.State.OPEN


def test_the_answer_address_takes_only_post(demo_world):
    assert is_problem(httpx.get(f"{api_url()}/antwoorden"), 405)


@pytest.mark.parametrize("state", ["a\x00" * 16, "b" * 21 + "\x1b", "c" * 22 + "\x7f", "d" * 129, "é" * 30])
def test_a_state_that_cannot_be_ours_is_refused_before_any_look_up(asked, state):
    response = post_answer(urlencode({"state": state, "error": "access_denied"}, encoding="utf-8").encode())
    assert is_problem(response, 400, "invalid_request"), (response.status_code, response.text[:200])


def test_a_stranger_who_knows_the_state_cannot_refuse_or_plant_a_consent(demo_world, bsn, wallet):
    # Anyone with the code can read the request object, and with it the state.
    until = date.today() + timedelta(days=90)
    made = created(income_request(toegang="doorlopend", toegangTot=until.isoformat()))
    request = opened(made)
    forged = {"state": request.state, "error": "access_denied", "toestemming": "forged"}
    assert is_problem(post_answer(forged), 401, "invalid_client")
    # Nor with an assertion of its own: only a certified app manager's counts.
    assert is_problem(post_answer(as_portal(forged, oin=BANK)), 401, "invalid_client")
    assert state_of(made["code"]).json()["status"] == "open"
    # The citizen's own answer, from the portal, still goes through and alone decides the consent.
    shown = presentation(copy(bsn, wallet), wallet, request)
    real = as_portal({"state": request.state, "vp_token": vp_token("inkomen", shown), "toestemming": "tst-4"})
    assert post_answer(real).status_code == 200
    state = state_of(made["code"]).json()
    assert (state["status"], state["toestemming"], state["goedgekeurdTot"]) == (
        "goedgekeurd",
        "tst-4",
        until.isoformat(),
    )
    # The portal's assertion is taken once.
    ShareRequest.objects.filter(code=made["code"]).update(status=ShareRequest.State.OPEN)
    again = {k: v for k, v in real.items() if k != "vp_token"} | {"error": "access_denied"}
    assert is_problem(post_answer(again), 401, "assertion_replayed")
    assert ShareRequest.objects.get(code=made["code"]).status == ShareRequest.State.OPEN


def test_another_wallet_answers_once_but_gets_no_standing_access_without_the_app_manager(demo_world, bsn, wallet):
    until = date.today() + timedelta(days=90)
    made = created(income_request(toegang="doorlopend", toegangTot=until.isoformat()))
    request = opened(made)
    shown = presentation(copy(bsn, wallet), wallet, request)
    fields = {"state": request.state, "vp_token": vp_token("inkomen", shown), "toestemming": "forged"}
    assert post_answer({**fields, "toegangTot": until.isoformat()}).status_code == 200
    state = state_of(made["code"]).json()
    assert (state["status"], state["toestemming"], state["goedgekeurdTot"]) == ("goedgekeurd", "", None)
    assert len(state["ontvangen"]) == 1


def test_the_same_answer_again_is_taken_as_the_one_already_received(asked, bsn, wallet):
    # The portal sends once more when the reply to its answer was lost; nothing is stored twice.
    made, request = asked
    shown = presentation(copy(bsn, wallet), wallet, request)
    fields = {"state": request.state, "vp_token": vp_token("inkomen", shown), "toestemming": "tst-5"}
    assert post_answer(as_portal(fields)).status_code == 200
    again = post_answer(as_portal(fields))
    assert again.status_code == 200 and again.json() == {"status": "goedgekeurd"}
    assert ReceivedCredential.objects.count() == 1
    # Anything else for an answered request is still refused.
    other = presentation(copy(bsn, wallet), wallet, request)
    assert is_problem(post_answer(as_portal({**fields, "vp_token": vp_token("inkomen", other)})), 409)
    assert is_problem(post_answer(as_portal({**fields, "toestemming": "tst-6"})), 409, "already_answered")
    assert state_of(made["code"]).json()["toestemming"] == "tst-5"
