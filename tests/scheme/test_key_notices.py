"""A key a participant announces through the API: its contact is mailed at once, and the operator sees it listed.

Whoever holds a participant's current key can announce a key of its own; the mail and the monitoring page make
sure the participant and the operator hear of it before it signs. Real HTTP, real keys, the worker sends.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from blauweknop.protocol import jws
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.scheme import key_notices, keys, publication
from blauweknop.scheme.models import Key, Organisation
from tests.holder.test_notices import deliver_mail
from tests.scheme.test_keys_api import BELASTING, WONING, _body, _post, world  # noqa: F401 (a fixture)
from tests.scheme.test_operator_pages import log_in, make_operator

pytestmark = pytest.mark.django_db(transaction=True)
MONITORING = "/stelsel/beheer/toezicht/"
ADDRESSES = {BELASTING: "sleutels@belastingkantoor.example", WONING: "beveiliging@thuisbasis.example"}


@pytest.fixture
def mailed(world, settings):  # noqa: F811
    """The demo world, where the tax office and the housing corporation gave an e-mail address for key notices."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for oin, address in ADDRESSES.items():
        organisation = Organisation.objects.get(oin=oin)
        organisation.contact = {**organisation.contact, "email": address}
        organisation.save()
    publication.publish()
    return world


def _announce(world, oin):  # noqa: F811
    new = SigningKey(generate_jwk())
    response = _post(world, oin, _body(world, oin, new))
    assert response.status_code == 201, response.text
    return new


def test_each_participant_that_announces_a_key_hears_of_it_at_once_and_says_whom_to_call(mailed):
    belasting, woning = _announce(mailed, BELASTING), _announce(mailed, WONING)
    assert mail.outbox == []  # not in the request: the worker sends
    deliver_mail()
    sent = {message.to[0]: message for message in mail.outbox}
    assert set(sent) == set(ADDRESSES.values()) and len(mail.outbox) == 2
    for oin, new in ((BELASTING, belasting), (WONING, woning)):
        body = sent[ADDRESSES[oin]].body
        usable = timezone.localtime(Key.objects.get(owner=oin, kid=new.kid).usable_from).strftime("%d-%m-%Y %H:%M")
        assert new.kid in body and f"OIN {oin}" in body and f"Op {usable}" in body
        assert "Bel dan meteen de stelselbeheerder" in body and "call the scheme operator" in body
    assert belasting.kid not in sent[ADDRESSES[WONING]].body  # each hears only of its own key
    # The address is for the operator only: the scheme document publishes the contact without it.
    published = jws.unverified_parts(publication.in_force().token)[1]
    assert not any(address in str(published) for address in ADDRESSES.values())


def test_a_key_the_operator_adds_or_one_announced_again_mails_nobody(mailed):
    keys.add(BELASTING, SigningKey(generate_jwk()).public_jwk, actor="beheerder")
    new = SigningKey(generate_jwk())
    assert _post(mailed, WONING, _body(mailed, WONING, new)).status_code == 201
    assert _post(mailed, WONING, _body(mailed, WONING, new)).status_code == 200  # the same key again
    deliver_mail()
    assert [message.to for message in mail.outbox] == [[ADDRESSES[WONING]]]


def test_a_participant_without_an_address_is_not_mailed_and_a_failed_mail_is_tried_again(mailed, monkeypatch):
    Organisation.objects.filter(oin=WONING).update(contact={"telefoon": "0800 000 0006"})
    woning = _announce(mailed, WONING)
    assert key_notices.tell_key_announced.call(WONING, woning.kid) is False
    belasting = _announce(mailed, BELASTING)
    monkeypatch.setattr(key_notices, "send_mail", lambda *args: (_ for _ in ()).throw(ConnectionRefusedError()))
    before = DBTaskResult.objects.count()
    assert key_notices.tell_key_announced.call(BELASTING, belasting.kid) is False
    (later,) = DBTaskResult.objects.order_by("-enqueued_at")[: DBTaskResult.objects.count() - before]
    assert later.args_kwargs["args"] == [BELASTING, belasting.kid, 2] and later.run_after > timezone.now()
    monkeypatch.undo()
    mail.outbox.clear()
    deliver_mail()  # the try the API queued goes now; the retry waits for its time
    assert [message.to for message in mail.outbox] == [[ADDRESSES[BELASTING]]]
    DBTaskResult.objects.filter(pk=later.pk).update(run_after=timezone.now())
    deliver_mail()
    assert [message.to for message in mail.outbox] == [[ADDRESSES[BELASTING]]] * 2


def test_the_monitoring_page_lists_keys_participants_announced_lately_until_revoked(mailed, client):
    current = _announce(mailed, WONING)
    waiting = _announce(mailed, BELASTING)  # later, so still waiting when the housing corporation's is current
    keys.rotate_due(Key.objects.get(owner=WONING, kid=current.kid).usable_from)
    keys.add(BELASTING, SigningKey(generate_jwk()).public_jwk, actor="beheerder")  # the operator's: not listed
    log_in(client, "olga", make_operator("olga"))
    page = client.get(MONITORING).content.decode()
    assert f'data-announced-key="{waiting.kid}"' in page and f'data-announced-key="{current.kid}"' in page
    assert page.count("data-announced-key=") == 2
    assert "Wacht nog: in gebruik vanaf" in page and Organisation.objects.get(oin=BELASTING).name in page
    client.cookies["django_language"] = "en"
    assert "Still waiting: in use from" in client.get(MONITORING).content.decode()

    keys.revoke(BELASTING, waiting.kid, actor="olga", reason="De deelnemer kent deze sleutel niet.")
    assert [a.kid for a in key_notices.recent(timezone.now())] == [current.kid]
    assert key_notices.recent(timezone.now() + timedelta(days=15)) == []
