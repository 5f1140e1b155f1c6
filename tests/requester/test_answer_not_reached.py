"""The first share says which holders gave no answer, as a standing fetch does (attacker review A8).

The portal's answer to a request (direct_post to ``/antwoorden``) carries ``nietBereikt``, a JSON list of the OINs
of the holders that did not answer: the requester keeps it with the request (``ShareRequest.not_reached``), gives it
in its API and says "Niet compleet" on its staff page. Only the certified app manager's word counts; a list that is
not one is refused, and the request stays open.
"""

import json
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from blauweknop.holder.models import SourceRecord
from blauweknop.requester.models import ShareRequest
from blauweknop.scheme.models import Organisation
from tests.portal.conftest import log_in
from tests.portal.test_holder_failures import _move
from tests.portal.test_refused_fetch_records import debtors
from tests.requester.test_fetch_not_whole import COUNSELLOR, COUNSELLOR_SLUG, _every_debt, _page
from tests.requester.test_staff_login import log_in as staff_log_in
from tests.requester.test_staff_login import make_staff

from .world import (
    BELASTING,
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


def test_a_first_share_with_a_holder_down_is_kept_and_shown_as_not_whole(client, demo_world):
    first, second = debtors(2)
    silent = sorted(
        SourceRecord.objects.filter(bsn=first, document_type="vorderingen").values_list("holder_oin", flat=True)
    )[0]
    name = Organisation.objects.get(oin=silent).name
    whole = created(_every_debt(), slug=COUNSELLOR_SLUG, oin=COUNSELLOR)
    once = {key: value for key, value in _every_debt().items() if key != "toegangTot"}
    part = created({**once, "toegang": "eenmalig"}, slug=COUNSELLOR_SLUG, oin=COUNSELLOR)

    def shares(bsn: str, made: dict) -> None:
        assert log_in(client, bsn).status_code == 302
        link = urlsplit(made["link"])
        review = client.get(f"{link.path}?{link.query}")
        assert client.post(review["Location"], {"besluit": "ja"}).status_code == 303
        client.logout()

    shares(second, whole)
    assert state_of(whole["code"], slug=COUNSELLOR_SLUG, oin=COUNSELLOR).json()["nietBereikt"] == []
    _move(silent, "http://127.0.0.1:9")
    shares(first, part)
    state = state_of(part["code"], slug=COUNSELLOR_SLUG, oin=COUNSELLOR).json()
    assert state["status"] == "goedgekeurd" and state["ontvangen"], state
    assert state["nietBereikt"] == [silent]
    assert staff_log_in(client, "sam", make_staff(COUNSELLOR, "sam")).status_code == 302
    # A one-time share cannot be fetched again: the advice is a new request, not "fetch again later".
    page = _page(client, part["code"])
    assert f"Niet compleet: {name} gaf geen antwoord. Wilt u ook die gegevens? Maak een nieuw verzoek." in page
    assert "Haal later opnieuw op" not in page
    assert 'id="niet-compleet"' not in _page(client, whole["code"])


def _answer(bsn: str, wallet, **extra: str) -> tuple[dict, dict[str, str]]:
    made = created(income_request(toegang="doorlopend", toegangTot=(date.today() + timedelta(days=30)).isoformat()))
    request = opened(made)
    shown = presentation(copy(bsn, wallet), wallet, request)
    return made, {"state": request.state, "vp_token": vp_token("inkomen", shown), "toestemming": "tst-8", **extra}


def test_only_the_app_managers_list_of_oins_counts(demo_world, bsn, wallet):
    named = json.dumps([BELASTING, "not-an-oin", 7, BELASTING])
    made, fields = _answer(bsn, wallet, nietBereikt=named)
    assert post_answer(as_portal(fields)).status_code == 200
    assert state_of(made["code"]).json()["nietBereikt"] == [BELASTING]
    # Another wallet cannot say that the data are not whole.
    made, fields = _answer(bsn, wallet, nietBereikt=json.dumps([BELASTING]))
    assert post_answer(fields).status_code == 200
    assert state_of(made["code"]).json()["nietBereikt"] == []


def test_a_list_that_is_not_json_is_refused_and_the_request_stays_open(demo_world, bsn, wallet):
    made, fields = _answer(bsn, wallet, nietBereikt="[not json")
    assert is_problem(post_answer(as_portal(fields)), 400, "invalid_request")
    assert ShareRequest.objects.get(code=made["code"]).status == ShareRequest.State.OPEN
