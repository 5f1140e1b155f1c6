"""A citizen's session: at most 15 minutes from login, told when it ended, no copies lost, pruned."""

import re
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from blauweknop.portal import session
from blauweknop.portal.models import SessionCopies
from blauweknop.protocol import sdjwt

from .conftest import BELASTING, GEMEENTE, browser, checkbox_paths, download_form, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def _press(client, oin):
    response = client.post(f"/organisaties/{oin}/blauwe-knop/")
    assert response.status_code == 302
    return response


def _end(client):
    """What 15 minutes do to a session on the server: its end has passed."""
    Session.objects.filter(pk=client.session.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))


def _first_category(html):
    """The document type and one field of the first category on a data page."""
    type_id = re.search(r'data-documentsoort="([^"]+)"', html).group(1)
    return type_id, checkbox_paths(html)[0]


def test_pressing_does_not_extend_the_session(client, citizen_bsn, monkeypatch):
    monkeypatch.setattr(session, "SESSION_AGE", 4)
    logged_in_at = time.monotonic()
    log_in(client, citizen_bsn)
    time.sleep(1)
    _press(client, BELASTING)  # a press writes copies; it must not move the end
    time.sleep(max(0.0, logged_in_at + 4.5 - time.monotonic()))
    response = client.get(f"/organisaties/{BELASTING}/gegevens/")
    assert response.status_code == 302 and response["Location"].startswith("/inloggen/")


def test_an_ended_session_is_explained_on_the_login_page_and_leads_back(client, two_citizen_bsns):
    first, second = two_citizen_bsns
    log_in(client, first)
    _press(client, BELASTING)
    _end(client)
    data_page = f"/organisaties/{BELASTING}/gegevens/"
    to_login = client.get(data_page)
    assert to_login.status_code == 302 and to_login["Location"].startswith("/inloggen/")
    login_page = client.get(to_login["Location"]).content.decode()
    assert "U was 15 minuten ingelogd. Log opnieuw in om verder te gaan." in login_page
    back = log_in(client, first, next_url=data_page)
    assert back["Location"] == data_page
    assert client.get(data_page).status_code == 200
    # Someone who never logged in, or logged out themselves, is not told their time ran out.
    stranger = Client()
    assert "U was 15 minuten ingelogd" not in stranger.get("/inloggen/").content.decode()
    log_in(stranger, second)
    stranger.post("/uitloggen/")
    assert "U was 15 minuten ingelogd" not in stranger.get("/inloggen/").content.decode()


def test_two_presses_at_two_holders_at_the_same_time_keep_both_holders_copies(two_citizen_bsns, demo_world):
    citizens = [browser(demo_world.url, bsn) for bsn in two_citizen_bsns]
    presses = [(c, oin) for c in citizens for oin in (BELASTING, GEMEENTE)]
    start = threading.Barrier(len(presses))
    answers = {}

    def press(client, oin):
        with type(client)(base_url=client.base_url, cookies=client.cookies, timeout=60) as same_browser:
            start.wait()
            answers[(id(client), oin)] = same_browser.post(
                f"/organisaties/{oin}/blauwe-knop/", headers={"X-CSRFToken": client.cookies["csrftoken"]}
            )

    threads = [threading.Thread(target=press, args=pair) for pair in presses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers.values()) == [302] * len(presses)
    for client in citizens:
        wallets = []
        for oin in (BELASTING, GEMEENTE):
            page = client.get(f"/organisaties/{oin}/gegevens/").text
            assert checkbox_paths(page), f"the copies of {oin} were lost"
            type_id, field = _first_category(page)
            download = client.post(
                f"/organisaties/{oin}/downloaden/",
                data=download_form(type_id, [field], "sdjwt"),
                headers={"X-CSRFToken": client.cookies["csrftoken"]},
            )
            wallets.append(sdjwt.unverified_claims(download.text)["cnf"]["jwk"])
        assert wallets[0] == wallets[1], "both holders' copies are bound to the one wallet key of the session"
        assert SessionCopies.objects.filter(session_id=client.cookies["sessionid"]).count() == 2
        client.close()


def test_logging_out_deletes_the_copies_with_the_session(client, two_citizen_bsns):
    first, second = two_citizen_bsns
    other = Client()
    for someone, bsn in ((client, first), (other, second)):
        log_in(someone, bsn)
        _press(someone, BELASTING)
    leaving = client.session.session_key
    client.post("/uitloggen/")
    assert not SessionCopies.objects.filter(session_id=leaving).exists()
    assert SessionCopies.objects.filter(session_id=other.session.session_key).exists()


def test_prune_deletes_ended_sessions_with_their_copies_and_keeps_live_ones(client, two_citizen_bsns):
    first, second = two_citizen_bsns
    staying = Client()
    for someone, bsn in ((client, first), (staying, second)):
        log_in(someone, bsn)
        _press(someone, BELASTING)
    ended = client.session.session_key
    _end(client)
    call_command("prune_sessions", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not Session.objects.filter(pk=ended).exists()
    assert not SessionCopies.objects.filter(session_id=ended).exists()
    assert checkbox_paths(staying.get(f"/organisaties/{BELASTING}/gegevens/").content.decode())


def _ended_sessions(count):
    past = timezone.now() - timedelta(minutes=1)
    sessions = Session.objects.bulk_create(
        Session(session_key=f"ended{i:035d}", session_data="", expire_date=past) for i in range(count)
    )
    SessionCopies.objects.bulk_create(
        SessionCopies(session=s, holder_oin=oin, credentials={}) for s in sessions for oin in (BELASTING, GEMEENTE)
    )


def test_prune_is_safe_to_run_twice_at_once(db):
    _ended_sessions(1200)  # more than one batch
    live = Session.objects.create(
        session_key="live", session_data="", expire_date=timezone.now() + timedelta(minutes=10)
    )
    SessionCopies.objects.create(session=live, holder_oin=BELASTING, credentials={})
    start = threading.Barrier(2)
    failures = []

    def prune():
        start.wait()
        try:
            call_command("prune_sessions", stdout=open("/dev/null", "w"))  # noqa: SIM115
        except Exception as exc:  # the test reports whatever went wrong
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=prune) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert list(Session.objects.values_list("pk", flat=True)) == ["live"]
    assert list(SessionCopies.objects.values_list("session_id", flat=True)) == ["live"]
