"""The citizen opens an organisation's request, sees what it asks, and decides (variant Plus, docs/plus.md §2).

The portal, the holders and the scheme run behind the demo world's live server; the requester is a
stand-in that serves a request object signed with the requester's own key and keeps every answer it
gets, which the test then verifies as the requester would (openid4vp.verify_response).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from datetime import date, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from blauweknop import keystore
from blauweknop.holder.models import SourceRecord
from blauweknop.portal import sharing
from blauweknop.portal.models import Consent, OpenedRequest
from blauweknop.portal.verification import status_lists
from blauweknop.protocol import client_assertion, dcql, openid4vp
from blauweknop.protocol.scheme_document import APP_MANAGER
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation
from tests.portal.conftest import browser, log_in
from tests.portal.stand_in import Answering, serving

REQUESTER = "00000003271247970000"  # Woningcorporatie Thuisbasis
SLUG = "woningcorporatie-thuisbasis"
INKOMEN = "https://stelsel.blauweknop.example/vct/inkomen/2"
REQUIRED = ["belastingjaar", "verzamelinkomenInCenten"]
OPTIONAL = ["naam.geslachtsnaam", "geboorte.datum"]
CODE = "K7QM2XRD"


def _query(vct: str = INKOMEN, required: list[str] = REQUIRED, optional: list[str] = OPTIONAL) -> dcql.Query:
    claims = [dcql.ClaimQuery(f"c{n}", path, True) for n, path in enumerate(required)]
    claims += [dcql.ClaimQuery(f"o{n}", path, False) for n, path in enumerate(optional)]
    return dcql.Query((dcql.CredentialQuery("inkomen", vct, tuple(claims), multiple=False, required=True),))


class Requester:
    """The stand-in requester: serves request objects by code and keeps what was POSTed to its answer address."""

    def __init__(self, base: str) -> None:
        self.api = f"{base}/vragers/{SLUG}/api/v1"
        self.objects: dict[str, tuple[str, openid4vp.AuthorizationRequest | None]] = {}
        self.answers: list[dict[str, str]] = []
        self.answer_status = 200  # what the stand-in says to an answer
        self.trickle = False  # answer a byte at a time, each well within the per-read timeout
        self.drop = 0  # how many answers to take and then hang up on, replying nothing
        self.fetched: list[str] = []
        self.lock = threading.Lock()

    def ask(
        self,
        code: str = CODE,
        *,
        query: dcql.Query | None = None,
        access: str = openid4vp.ONCE,
        until: date | None = None,
    ) -> str:
        """Sign a request object for ``code``; the request_uri it is served at."""
        terms = openid4vp.Terms(
            purpose={"nl": "Om te zien of u een sociale huurwoning kunt huren.", "en": "To see if you can rent."},
            legal_basis="toestemming",
            retention_days=30,
            access=access,
            access_until=until.isoformat() if until else None,
        )
        token = openid4vp.sign_request(
            keystore.signing_key(REQUESTER),
            client_id=REQUESTER,
            response_uri=f"{self.api}/antwoorden",
            nonce=f"nonce-{code}-0123456789abcdef",
            state=f"state-{code}-0123456789abcdef",
            query=query or _query(),
            terms=terms,
            lifetime=3600,
        )
        self.objects[code] = (token, None)
        return f"{self.api}/verzoekobjecten/{code}"

    def request(self, code: str = CODE) -> openid4vp.AuthorizationRequest:
        return openid4vp.verify_request(self.objects[code][0], _scheme(), client_id=REQUESTER)

    def received(self, answer: dict[str, str], code: str = CODE) -> dict:
        """The claims the requester gets from ``answer``, verified as the requester verifies them."""
        received = openid4vp.verify_response(
            answer["vp_token"], self.request(code), _scheme(), status_lists=status_lists
        )
        assert len(received) == 1
        return received[0].claims

    def handler(self) -> type[Answering]:
        requester = self

        class Handler(Answering):
            def dribble(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "40")
                self.end_headers()
                try:
                    for _ in range(40):
                        self.wfile.write(b"e")
                        self.wfile.flush()
                        time.sleep(0.2)
                except OSError:  # the portal stopped listening: what a deadline does
                    pass

            def do_GET(self) -> None:
                requester.fetched.append(self.path)
                if requester.trickle:
                    return self.dribble()
                code = self.path.rpartition("/")[2]
                if code in requester.objects and self.path.startswith(urlsplit(requester.api).path):
                    self.answer(200, "application/oauth-authz-req+jwt", requester.objects[code][0].encode())
                else:
                    self.answer(404, "application/problem+json", b'{"code": "not_found"}')

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                with requester.lock:
                    requester.answers.append({k: v[0] for k, v in parse_qs(body).items()})
                if requester.trickle:
                    return self.dribble()
                if requester.drop:  # taken, perhaps stored, but the portal never hears so
                    requester.drop -= 1
                    self.close_connection = True
                    return None
                self.answer(requester.answer_status, "application/json", b"{}")

        return Handler


def _scheme():
    scheme_client.forget()
    return asyncio.run(scheme_client.current())


def _publish(**changes) -> None:
    Organisation.objects.filter(oin=REQUESTER).update(**changes)
    publication.publish()
    scheme_client.forget()


@pytest.fixture
def requester(demo_world):
    """The requester, moved (in the scheme document) to a stand-in that answers as a test needs it to."""
    holder = Requester("")
    with serving(holder.handler()) as server:
        base = f"http://127.0.0.1:{server.server_port}"
        holder.api = f"{base}/vragers/{SLUG}/api/v1"
        _publish(base_url=base)
        yield holder


def _link(uri: str) -> str:
    return f"/delen/?client_id={REQUESTER}&request_uri={quote(uri, safe='')}"


def _open(client, uri: str) -> str:
    response = client.get(_link(uri))
    assert response.status_code == 303, response.content.decode()[:2000]
    return response["Location"]


def _asked_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-path="([^"]+)" data-nodig="(ja|nee)"', html))


def _ticked(html: str) -> set[str]:
    return set(re.findall(r'name="veld-inkomen" value="([^"]+)" checked', html))


def test_a_link_survives_the_login_and_opens_the_request(client, citizen_bsn, requester):
    uri = requester.ask()
    response = client.get(_link(uri))
    assert response.status_code == 302 and response["Location"].startswith("/inloggen/")
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert next_url == _link(uri)
    logged_in = log_in(client, citizen_bsn, quote(next_url, safe=""))
    assert logged_in["Location"] == _link(uri)
    review = client.get(_open(client, uri))
    assert review.status_code == 200
    assert "Woningcorporatie Thuisbasis vraagt om uw gegevens" in review.content.decode()


def test_the_review_page_shows_exactly_the_asked_fields_required_or_optional(citizen, requester):
    html = citizen.get(_open(citizen, requester.ask())).content.decode()
    assert _asked_fields(html) == {**dict.fromkeys(REQUIRED, "ja"), **dict.fromkeys(OPTIONAL, "nee")}
    assert _ticked(html) == set(OPTIONAL)  # optional fields start ticked; required ones have no box at all
    assert "Verzamelinkomen" in html and "(nodig)" in html and "(mag u kiezen)" in html
    assert "Om te zien of u een sociale huurwoning kunt huren." in html
    assert "Alleen als u ja zegt. U beslist zelf." in html  # consent as the legal basis, in plain words
    assert "30 dagen" in html and "één keer" in html
    assert "Ja, deel deze gegevens" in html and "Nee, niet delen" in html
    assert "0800 000 0006" in html  # whom to call: the requester's contact in the scheme document


def test_the_review_page_is_in_english_with_the_language_switch(citizen, requester):
    citizen.cookies["django_language"] = "en"
    html = citizen.get(_open(citizen, requester.ask())).content.decode()
    assert "To see if you can rent." in html and "Only if you say yes. You decide." in html


def test_unticking_an_optional_field_means_the_requester_receives_without_it(citizen, requester):
    review = _open(citizen, requester.ask())
    response = citizen.post(review, {"besluit": "ja", "veld-inkomen": ["geboorte.datum"]})
    assert response.status_code == 303
    [answer] = requester.answers
    claims = requester.received(answer)
    assert {"belastingjaar", "verzamelinkomenInCenten"} <= set(claims)
    assert "geboorte" in claims and "naam" not in claims and "burgerservicenummer" not in claims
    consent = Consent.objects.get(pk=answer["toestemming"])
    assert consent.state in (Consent.State.GIVEN, Consent.State.EXPIRED)  # a one-time consent ends once delivered
    assert consent.approved == {"inkomen": [*REQUIRED, "geboorte.datum"]}
    assert answer["state"] == requester.request().state
    done = citizen.get(response["Location"]).content.decode()
    assert "Uw gegevens zijn gedeeld" in done and "Belastingkantoor Voorbeeldland" in done
    assert "Geboortedatum" in done and "Geslachtsnaam" not in done
    assert 'href="/toestemmingen/"' in done


def test_a_required_field_cannot_be_dropped_by_a_forged_post(citizen, requester):
    review = _open(citizen, requester.ask())
    citizen.post(review, {"besluit": "ja", "veld-inkomen": ["burgerservicenummer"], "soort": ["anders"]})
    [answer] = requester.answers
    claims = requester.received(answer)
    assert {"belastingjaar", "verzamelinkomenInCenten"} <= set(claims)
    assert "burgerservicenummer" not in claims and "naam" not in claims and "geboorte" not in claims


def test_another_session_cannot_see_or_decide(client, citizen, requester, two_citizen_bsns):
    review = _open(citizen, requester.ask())
    other = client.__class__()
    log_in(other, two_citizen_bsns[1])
    assert other.get(review).status_code == 404
    assert other.post(review, {"besluit": "ja"}).status_code == 404
    assert other.post(review, {"besluit": "nee"}).status_code == 404
    assert other.get(review + "klaar/").status_code == 404
    assert requester.answers == []
    assert OpenedRequest.objects.get().decided_at is None


def test_a_double_decision_delivers_once(demo_world, citizen_bsn, requester):
    uri = requester.ask()
    http = browser(demo_world.url, citizen_bsn)
    opened = http.get(_link(uri))
    assert opened.status_code == 303
    review = opened.headers["Location"]
    http.get(review)
    token = http.cookies["csrftoken"]
    barrier = threading.Barrier(2)
    statuses = []

    def click() -> None:  # two tabs, or a double click: the same form sent twice at once
        with httpx.Client(base_url=demo_world.url, cookies=http.cookies, timeout=60) as tab:
            barrier.wait()
            statuses.append(tab.post(review, data={"besluit": "ja"}, headers={"X-CSRFToken": token}).status_code)

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    assert statuses == [303, 303]
    later = http.post(review, data={"besluit": "nee"}, headers={"X-CSRFToken": token})
    assert later.status_code == 303 and later.headers["Location"].endswith("/klaar/")
    done = http.get(later.headers["Location"]).text
    assert "Uw gegevens zijn gedeeld" in done
    http.close()
    assert len(requester.answers) == 1 and "vp_token" in requester.answers[0]
    assert Consent.objects.count() == 1


def test_no_means_the_requester_is_told_and_gets_nothing(citizen, requester):
    review = _open(citizen, requester.ask())
    response = citizen.post(review, {"besluit": "nee", "veld-inkomen": OPTIONAL})
    (answer,) = requester.answers
    assert (answer["error"], answer["state"]) == ("access_denied", requester.request().state)
    # Signed by the app manager for exactly the answer address: no stranger who read the state can say no.
    signed = client_assertion.verify(
        answer["client_assertion"], _scheme(), audience=f"{requester.api}/antwoorden", role=APP_MANAGER
    )
    assert (
        signed.client_id == settings.PORTAL_OIN and answer["client_assertion_type"] == client_assertion.ASSERTION_TYPE
    )
    assert Consent.objects.get().state == Consent.State.REFUSED
    done = citizen.get(response["Location"]).content.decode()
    assert "U heeft niets gedeeld" in done and "laten weten" in done


def test_a_request_object_from_an_address_not_registered_is_refused(citizen, requester, demo_world):
    uri = requester.ask()
    _publish(base_url=demo_world.url)  # the requester is registered elsewhere than where the link points
    response = citizen.get(_link(uri))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Deze link komt niet van Woningcorporatie Thuisbasis" in html and "Er is niets gedeeld" in html
    assert requester.fetched == []
    assert not OpenedRequest.objects.exists()


def test_a_suspended_requester_is_refused(citizen, requester):
    uri = requester.ask()
    _publish(certification="suspended")
    response = citizen.get(_link(uri))
    assert response.status_code == 403
    assert "mag nu geen gegevens vragen" in response.content.decode()
    assert requester.fetched == []


def test_a_requester_suspended_after_the_request_was_opened_gets_nothing(citizen, requester):
    review = _open(citizen, requester.ask())
    _publish(certification="suspended")
    response = citizen.post(review, {"besluit": "ja"})
    assert response.status_code == 403 and "mag nu geen gegevens vragen" in response.content.decode()
    assert requester.answers == []
    assert not Consent.objects.exists()


def test_standing_access_may_end_earlier_not_later_and_not_in_the_past(citizen, requester):
    asked_until = timezone.localdate() + timedelta(days=90)
    review = _open(citizen, requester.ask(access=openid4vp.STANDING, until=asked_until))
    html = citizen.get(review).content.decode()
    assert f'name="tot" value="{asked_until.isoformat()}"' in html
    later = citizen.post(review, {"besluit": "ja", "tot": (asked_until + timedelta(days=1)).isoformat()})
    assert later.status_code == 400 and "Zo lang vraagt de organisatie het niet" in later.content.decode()
    past = citizen.post(review, {"besluit": "ja", "tot": (timezone.localdate() - timedelta(days=1)).isoformat()})
    assert past.status_code == 400 and "Deze datum is al voorbij" in past.content.decode()
    assert 'id="tot-fout"' in past.content.decode() and 'href="#id_tot"' in past.content.decode()
    assert requester.answers == []
    earlier = asked_until - timedelta(days=30)
    citizen.post(review, {"besluit": "ja", "tot": earlier.strftime("%d-%m-%Y"), "veld-inkomen": OPTIONAL})
    assert len(requester.answers) == 1
    consent = Consent.objects.get()
    assert timezone.localtime(consent.valid_until).date() == earlier + timedelta(days=1)


def test_a_required_document_type_nobody_has_is_said_plainly_and_nothing_is_shared(citizen, requester):
    SourceRecord.objects.filter(document_type="studieschuld").delete()  # no holder has any study debt now
    vct = next(t["vct"] for t in _scheme().document_types if t["id"] == "studieschuld")
    asked = dcql.CredentialQuery("studie", vct, (dcql.ClaimQuery("a", "burgerservicenummer", True),), False, True)
    review = _open(citizen, requester.ask(query=dcql.Query((asked,))))
    done = citizen.get(citizen.post(review, {"besluit": "ja"})["Location"]).content.decode()
    assert "Er is niets gedeeld" in done and "U heeft geen studieschuld bij de organisaties die meedoen" in done
    assert "Daarom is er niets gestuurd. Bel Woningcorporatie Thuisbasis en vertel dat." in done
    assert requester.answers == []


def test_a_share_nothing_came_of_is_ended_in_the_register_not_left_active(citizen, requester):
    SourceRecord.objects.filter(document_type="studieschuld").delete()
    vct = next(t["vct"] for t in _scheme().document_types if t["id"] == "studieschuld")
    asked = dcql.CredentialQuery("studie", vct, (dcql.ClaimQuery("a", "burgerservicenummer", True),), False, True)
    review = _open(citizen, requester.ask(query=dcql.Query((asked,))))
    citizen.post(review, {"besluit": "ja"})
    consent = Consent.objects.get()
    assert consent.state == Consent.State.EXPIRED
    assert [e.kind for e in consent.events.order_by("at", "pk")] == ["gegeven", "niet-geleverd", "verlopen"]
    assert "Delen is niet gelukt" in citizen.get(f"/toestemmingen/{consent.pk}/").content.decode()


def test_a_share_the_requester_did_not_take_is_ended_and_said(citizen, requester):
    requester.answer_status = 500
    review = _open(citizen, requester.ask())
    done = citizen.get(citizen.post(review, {"besluit": "ja"})["Location"])
    assert done.status_code == 200 and len(requester.answers) == 1
    consent = Consent.objects.get()
    assert consent.state == Consent.State.EXPIRED
    assert consent.events.filter(kind="niet-geleverd", detail__reden="niet_afgeleverd").exists()


def test_the_code_form_opens_the_request_forgiving_case_spaces_and_dashes(citizen, requester):
    requester.ask()
    form = citizen.get("/delen/").content.decode()
    assert "Welke organisatie vraagt om uw gegevens?" in form and "Woningcorporatie Thuisbasis" in form
    response = citizen.post("/delen/openen/", {"organisatie": REQUESTER, "code": " k7qm - 2xrd "})
    assert response.status_code == 303
    assert requester.fetched == [f"/vragers/{SLUG}/api/v1/verzoekobjecten/{CODE}"]


def test_wrong_codes_are_counted_per_address_and_then_refused(citizen, requester):
    requester.ask()
    for _ in range(20):
        wrong = citizen.post("/delen/openen/", {"organisatie": REQUESTER, "code": "AAAA-BBBB"})
        assert wrong.status_code == 404
    assert "kent deze code niet" in wrong.content.decode()
    refused = citizen.post("/delen/openen/", {"organisatie": REQUESTER, "code": CODE})
    assert refused.status_code == 429
    assert "U vulde te vaak een code in die niet werkt." in refused.content.decode()  # by this citizen
    assert len(requester.fetched) == 20  # once refused, nothing is looked up any more


def test_a_right_code_is_not_counted_against_the_address(citizen, requester):
    requester.ask()
    for _ in range(25):
        assert citizen.post("/delen/openen/", {"organisatie": REQUESTER, "code": CODE}).status_code == 303


def test_a_decision_still_at_work_is_waited_for_and_one_that_broke_off_is_said(citizen, requester):
    review = _open(citizen, requester.ask())
    OpenedRequest.objects.update(decided_at=timezone.now())  # as if another tab is deciding right now
    waiting = citizen.get(review + "klaar/")
    assert waiting.status_code == 200 and waiting["Refresh"] == "3" and "Even geduld" in waiting.content.decode()
    assert citizen.get(review).status_code == 303  # no second decision meanwhile
    OpenedRequest.objects.update(decided_at=timezone.now() - timedelta(minutes=5))
    broke_off = citizen.get(review + "klaar/").content.decode()
    assert "uw gegevens heeft gekregen. Het kan zijn van wel." in broke_off and 'href="/toestemmingen/"' in broke_off


@pytest.mark.parametrize(
    ("client_id", "request_uri"),
    [
        ("nonsense", "https://example.org/x"),
        (REQUESTER, "http://[::1"),
        (REQUESTER, "javascript:alert(1)"),
        (REQUESTER, "x" * 5000),
        (REQUESTER, ""),
        ("\x00", "\x00"),
    ],
)
def test_a_broken_or_hostile_link_gets_a_plain_page_and_nothing_is_fetched(citizen, requester, client_id, request_uri):
    response = citizen.get("/delen/", {"client_id": client_id, "request_uri": request_uri})
    assert response.status_code in (400, 404)
    assert "Er is niets gedeeld" in response.content.decode()
    assert requester.fetched == [] and not OpenedRequest.objects.exists()


def test_a_request_object_larger_than_64_kb_is_not_read(citizen, requester):
    uri = requester.ask()
    requester.objects[CODE] = ("e" * (65 * 1024), None)
    response = citizen.get(_link(uri))
    assert response.status_code == 502
    assert "We konden het verzoek van Woningcorporatie Thuisbasis nu niet ophalen" in response.content.decode()
    assert not OpenedRequest.objects.exists()


def test_the_done_page_links_to_the_consent_where_it_can_be_withdrawn(citizen, requester):
    review = _open(citizen, requester.ask())
    done = citizen.get(citizen.post(review, {"besluit": "ja"})["Location"]).content.decode()
    consent = Consent.objects.get()
    assert f'href="/toestemmingen/{consent.pk}/"' in done
    assert citizen.get(f"/toestemmingen/{consent.pk}/").status_code == 200


def test_a_request_object_trickled_in_is_unreachable_within_the_deadline(citizen, requester, monkeypatch):
    monkeypatch.setattr(sharing, "FETCH_DEADLINE", 1.0, raising=False)
    uri = requester.ask()
    requester.trickle = True  # a byte every 0.2 s: no single read ever times out
    started = time.monotonic()
    response = citizen.get(_link(uri))
    assert time.monotonic() - started < 4
    assert response.status_code == 502 and "nu niet ophalen" in response.content.decode()
    assert not OpenedRequest.objects.exists()


def test_a_requester_that_trickles_its_reply_to_the_answer_does_not_hold_the_citizen(citizen, requester, monkeypatch):
    monkeypatch.setattr(sharing, "ANSWER_DEADLINE", 1.0, raising=False)
    review = _open(citizen, requester.ask())
    requester.trickle = True
    started = time.monotonic()
    assert citizen.post(review, {"besluit": "ja"}).status_code == 303
    assert time.monotonic() - started < 6 and len(requester.answers) == 2  # a lost reply: sent once more


def test_an_answer_whose_reply_was_lost_is_sent_once_more_and_then_counts(citizen, requester):
    requester.drop = 1
    review = _open(citizen, requester.ask())
    done = citizen.get(citizen.post(review, {"besluit": "ja"})["Location"]).content.decode()
    first, again = requester.answers
    assert again["vp_token"] == first["vp_token"] and again["client_assertion"] != first["client_assertion"]
    consent = Consent.objects.get()
    assert consent.events.filter(kind="geleverd").exists() and not consent.events.filter(kind="niet-geleverd")
    assert 'data-uitkomst="gedeeld"' in done


def test_an_answer_that_may_have_arrived_leaves_the_consent_standing_and_says_so(citizen, requester):
    requester.drop = 2  # the requester may have stored it: we cannot tell
    review = _open(citizen, requester.ask(access=openid4vp.STANDING, until=date.today() + timedelta(days=30)))
    done = citizen.get(citizen.post(review, {"besluit": "ja"})["Location"]).content.decode()
    assert len(requester.answers) == 2
    consent = Consent.objects.get()
    assert consent.state == Consent.State.GIVEN  # still there to see and to withdraw
    assert not consent.events.filter(kind__in=["niet-geleverd", "verlopen"]).exists()
    assert (
        "uw gegevens heeft gekregen. Het kan zijn van wel." in done
        and "Trek dan uw toestemming in" in done
        and 'href="/toestemmingen/"' in done
    )
