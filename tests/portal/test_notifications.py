"""The portal hears of news only from the holder a request went to, each assertion once, and mails once per news;
the demo inbox shows what went out, with masked addresses, only in the demo; real deployments send over SMTP."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from blauweknop import keystore
from blauweknop.portal import notices_api, notifications
from blauweknop.portal.corrections import request_key, unsure_reference
from blauweknop.portal.inbox import masked
from blauweknop.portal.models import CorrectionTicket, DemoInboxMessage
from blauweknop.protocol import client_assertion
from tests.holder.test_notices import BELASTING, GEMEENTE, INBOX, deliver_mail
from tests.portal.consent_world import WONINGCORPORATIE
from tests.test_settings import load_settings, production_environment

REFERENCE = "CV-ABCD2345"


@pytest.fixture
def world(demo_world, settings):
    settings.EMAIL_BACKEND = INBOX
    return demo_world


def address() -> str:
    return f"{settings.BASE_URL}/appbeheerder/api/v1/meldingen"


def signed(oin: str, audience: str | None = None) -> str:
    """A client assertion of ``oin`` for the notices endpoint."""
    return client_assertion.sign(keystore.signing_key(oin), client_id=oin, audience=audience or address())


def tell(token: str, reference: str = REFERENCE, final: bool = True, key: object = None) -> httpx.Response:
    body = {
        "kenmerk": reference,
        "afgerond": final,
        "client_assertion_type": client_assertion.ASSERTION_TYPE,
        "client_assertion": token,
    }
    if key is not None:
        body["verzoeksleutel"] = key
    return httpx.post(address(), json=body, timeout=30)


def ticket_at(holder_oin: str, email: str = "an@example.nl", reference: str = REFERENCE) -> CorrectionTicket:
    return CorrectionTicket.objects.create(
        subject="pseudoniem", holder_oin=holder_oin, reference=reference, email=email
    )


def fresh(ticket: CorrectionTicket) -> CorrectionTicket:
    return CorrectionTicket.objects.get(pk=ticket.pk)


def problem(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["Content-Type"].startswith("application/problem+json")
    return response.status_code, response.json()["code"]


def test_a_holder_assertion_is_used_once(world):
    ticket_at(BELASTING)
    token = signed(BELASTING)
    assert tell(token).status_code == 204
    assert problem(tell(token)) == (401, "assertion_replayed")
    deliver_mail()
    assert DemoInboxMessage.objects.count() == 1


def test_a_requesters_assertion_is_refused_and_nothing_marked(world):
    ticket = ticket_at(BELASTING)
    assert problem(tell(signed(WONINGCORPORATIE))) == (403, "not_certified")
    assert fresh(ticket).news_at is None
    assert not DBTaskResult.objects.exists()


def test_a_holder_cannot_tell_of_another_holders_request(world):
    ticket = ticket_at(BELASTING)
    theirs = tell(signed(GEMEENTE))
    made_up = tell(signed(GEMEENTE), reference="CV-ZZZZ9999")
    assert problem(theirs) == problem(made_up) == (404, "not_found")
    assert theirs.json()["detail"] == made_up.json()["detail"]
    assert fresh(ticket).news_at is None
    assert not DBTaskResult.objects.exists()


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            lambda: signed(BELASTING, audience=f"{settings.BASE_URL}/appbeheerder/api/v1/ophalingen"), id="aud"
        ),
        pytest.param(lambda: signed(BELASTING).rsplit(".", 1)[0] + ".AAAA", id="signature"),
        pytest.param(lambda: "a.b.c" * 5, id="garbage"),
    ],
)
def test_a_forged_or_misdirected_assertion_is_refused(world, token):
    ticket = ticket_at(BELASTING)
    status, _ = problem(tell(token()))
    assert status == 401
    assert fresh(ticket).news_at is None


@pytest.mark.parametrize("kenmerk", ["", "x" * 17, "../../etc", "CV 1", "<script>", "CV-\u0000"])
def test_a_hostile_kenmerk_gets_a_clear_400(world, kenmerk):
    assert problem(tell(signed(BELASTING), reference=kenmerk))[0] == 400


@pytest.mark.parametrize(
    "key", ["a" * 15, "a" * 65, "../../etc/passwd12", "a" * 15 + "~", "sleutel sleutel!", "é" * 16, 12345678901234567]
)
def test_a_hostile_verzoeksleutel_gets_a_clear_400_and_names_nothing(world, key):
    ticket = ticket_at(BELASTING, reference=unsure_reference(request_key("formulier")))
    assert problem(tell(signed(BELASTING), key=key))[0] == 400
    assert fresh(ticket).reference == unsure_reference(request_key("formulier")) and fresh(ticket).news_at is None


def test_a_verzoeksleutel_names_only_the_callers_ticket_kept_without_kenmerk(world):
    key = request_key("formulier")
    mine, theirs = ticket_at(BELASTING, reference=unsure_reference(key)), ticket_at(GEMEENTE, reference=REFERENCE)
    assert problem(tell(signed(GEMEENTE), reference="CV-ZZZZ9999", key=key)) == (404, "not_found")
    assert problem(tell(signed(BELASTING), key=request_key("ander formulier"))) == (404, "not_found")
    assert fresh(mine).reference == unsure_reference(key) and fresh(theirs).reference == REFERENCE

    assert tell(signed(BELASTING), key=key).status_code == 204
    assert fresh(mine).reference == REFERENCE and fresh(mine).news_at is not None
    assert fresh(theirs).news_at is None
    assert tell(signed(BELASTING), key=key).status_code == 204  # told again: the kenmerk finds it now
    deliver_mail()
    assert DemoInboxMessage.objects.count() == 1


def test_a_holder_telling_too_often_is_slowed_down(world, monkeypatch):
    ticket_at(BELASTING)
    monkeypatch.setattr(notices_api, "MAX_PER_MINUTE", 1)
    assert tell(signed(BELASTING)).status_code == 204
    assert problem(tell(signed(BELASTING))) == (429, "too_many_requests")


def test_news_told_again_before_or_after_the_mail_is_mailed_once(world):
    ticket = ticket_at(BELASTING)
    assert tell(signed(BELASTING), final=False).status_code == 204
    assert tell(signed(BELASTING), final=False).status_code == 204  # the holder missed our first answer
    deliver_mail()
    assert tell(signed(BELASTING), final=False).status_code == 204
    deliver_mail()
    assert DemoInboxMessage.objects.count() == 1
    assert fresh(ticket).email == "an@example.nl"  # the decision is still to come

    assert tell(signed(BELASTING)).status_code == 204
    assert tell(signed(BELASTING)).status_code == 204
    deliver_mail()
    assert tell(signed(BELASTING)).status_code == 204
    deliver_mail()
    assert DemoInboxMessage.objects.count() == 2
    assert fresh(ticket).email == ""


def test_a_decision_that_comes_before_the_longer_terms_mail_went_is_one_mail(world):
    ticket = ticket_at(BELASTING)
    assert tell(signed(BELASTING), final=False).status_code == 204
    assert tell(signed(BELASTING)).status_code == 204
    deliver_mail()
    assert DemoInboxMessage.objects.count() == 1
    assert fresh(ticket).email == ""


def test_a_mail_that_cannot_be_sent_is_tried_again_later_and_the_address_goes_in_the_end(world, monkeypatch):
    ticket = ticket_at(BELASTING)
    ticket.news_at = timezone.now()
    ticket.save()

    def refused(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(notifications, "send_mail", refused)
    assert notifications.tell_citizen.call(ticket.pk, True) is False
    assert fresh(ticket).told_at is None and fresh(ticket).email  # untold, still to tell
    [retry] = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    assert retry.run_after > timezone.now() + timedelta(minutes=9)
    assert retry.args_kwargs["args"] == [ticket.pk, True, 2]

    assert notifications.tell_citizen.call(ticket.pk, True, notifications.ATTEMPTS) is False
    assert fresh(ticket).email == ""
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1  # no more retries


def test_the_demo_inbox_shows_the_mails_newest_first_with_masked_addresses(world, client):
    DemoInboxMessage.objects.create(to="jan@example.nl", subject="Eerste", body="een", sent_at=timezone.now())
    DemoInboxMessage.objects.create(
        to="piet@example.nl", subject="Tweede", body="twee", sent_at=timezone.now() + timedelta(seconds=1)
    )
    page = client.get("/demo/inbox/").content.decode()
    assert page.index("Tweede") < page.index("Eerste")
    assert "j***@example.nl" in page and "p***@example.nl" in page
    assert "jan@" not in page and "piet@" not in page
    assert "Dit is een demo" in page
    english = client.get("/demo/inbox/", HTTP_ACCEPT_LANGUAGE="en", headers={"Cookie": "django_language=en"})
    assert "This is a demo" in english.content.decode()


def test_the_demo_inbox_does_not_exist_outside_the_demo(world, client, settings):
    settings.DEMO = False
    assert client.get("/demo/inbox/").status_code == 404


@pytest.mark.parametrize(
    ("address", "shown"),
    [("jan@example.nl", "j***@example.nl"), ("a@b.nl", "a***@b.nl"), ("niet-een-adres", "***"), ("@x.nl", "***@x.nl")],
)
def test_masked(address, shown):
    assert masked(address) == shown


def test_a_real_deployment_mails_over_smtp_as_configured(tmp_path: Path):
    env = production_environment(
        tmp_path,
        DJANGO_EMAIL_HOST="smtp.example.nl",
        DJANGO_EMAIL_PORT="587",
        DJANGO_EMAIL_USE_TLS="True",
        DJANGO_DEFAULT_FROM_EMAIL="Blauwe Knop <noreply@example.nl>",
    )
    expression = "[settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.DEFAULT_FROM_EMAIL]"
    result = load_settings(env, tmp_path, expression)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '["django.core.mail.backends.smtp.EmailBackend", "smtp.example.nl", 587, "Blauwe Knop <noreply@example.nl>"]'
    )


@pytest.mark.parametrize(("name", "value"), [("DJANGO_EMAIL_PORT", "vijfentwintig"), ("DJANGO_EMAIL_USE_SSL", "ja")])
def test_a_wrong_mail_setting_stops_the_start(tmp_path: Path, name, value):
    result = load_settings(production_environment(tmp_path, **{name: value}), tmp_path)
    assert result.returncode != 0 and name in result.stderr


def test_tls_and_ssl_at_once_stops_the_start(tmp_path: Path):
    env = production_environment(tmp_path, DJANGO_EMAIL_USE_TLS="True", DJANGO_EMAIL_USE_SSL="True")
    result = load_settings(env, tmp_path)
    assert result.returncode != 0 and "not both" in result.stderr
