"""The operator's key pages: the list, adding and revoking a key with a reason and a confirm step, no JavaScript."""

import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from blauweknop import keystore
from blauweknop.protocol import jws
from blauweknop.protocol.jwk import SigningKey, generate_jwk, thumbprint
from blauweknop.scheme import keys, publication
from blauweknop.scheme.models import OPERATOR, AuditEntry, Key
from tests.scheme.test_operator_pages import log_in, make_operator

pytestmark = pytest.mark.django_db
BELASTING, DUO = "00000001003214345000", "00000001005165486000"
KEYS = "/stelsel/beheer/sleutels/"


@pytest.fixture
def operator(client, settings, tmp_path):
    settings.KEY_DIR = tmp_path
    call_command("seed_demo", citizens=2, stdout=open("/dev/null", "w"))  # noqa: SIM115
    device = make_operator("olga")
    log_in(client, "olga", device)
    return client


def test_the_list_shows_every_owners_keys(operator):
    html = operator.get(KEYS).content.decode()
    assert "De beheerder van het stelsel" in html and "Belastingkantoor" in html
    for oin in (OPERATOR, BELASTING, DUO):
        assert keystore.signing_key(oin).kid in html
    assert "In gebruik" in html


def test_nobody_else_sees_the_key_pages(settings, tmp_path):
    assert Client().get(KEYS).status_code == 302
    assert Client().post(f"{KEYS}{BELASTING}/nieuw/", {"reason": "x"}).status_code == 302


@pytest.mark.parametrize("oin", [BELASTING, DUO])
def test_adding_a_key_asks_for_a_reason_then_confirmation(operator, oin):
    new = SigningKey(generate_jwk())
    url = f"{KEYS}{oin}/nieuw/"
    missing = operator.post(url, {"jwk": json.dumps(new.public_jwk)})
    assert "Schrijf een reden op" in missing.content.decode() and not Key.objects.filter(kid=new.kid).exists()
    asked = operator.post(url, {"jwk": json.dumps(new.public_jwk), "reason": "Jaarlijkse wissel."})
    assert "Weet u het zeker?" in asked.content.decode() and not Key.objects.filter(kid=new.kid).exists()
    version = publication.in_force().version
    done = operator.post(url, {"jwk": json.dumps(new.public_jwk), "reason": "Jaarlijkse wissel.", "confirmed": "ja"})
    assert done.status_code == 302 and done["Location"] == f"{KEYS}#sleutels-{oin}"
    assert Key.objects.get(owner=oin, kid=new.kid).state == Key.State.NEXT
    assert publication.in_force().version == version + 1
    entry = AuditEntry.objects.get(subject=oin, action="key_added")
    assert (entry.actor, entry.reason) == ("olga", "Jaarlijkse wissel.")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{niet json", "Dit is geen JSON"),
        ("[1, 2]", "één JSON-object"),
        (json.dumps(generate_jwk()), "het geheime deel van de sleutel"),
        (json.dumps({"kty": "RSA"}), "niet bruikbaar"),
        ("x" * 3000, "te lang voor een publieke sleutel"),
    ],
)
def test_an_unusable_key_is_refused_next_to_the_field(operator, text, words):
    response = operator.post(f"{KEYS}{BELASTING}/nieuw/", {"jwk": text, "reason": "Test.", "confirmed": "ja"})
    assert response.status_code == 200 and words.lower() in response.content.decode().lower()
    assert not AuditEntry.objects.filter(action="key_added").exists()


def _sections(html: str) -> dict[str, str]:
    """The key list by owner: each owner's section, from its heading to the next one."""
    parts = html.split('<h2 class="utrecht-heading-2" id="sleutels-')[1:]
    return {part.split('"', 1)[0]: part for part in parts}


@pytest.mark.parametrize("secret_member", ["d", "p", "q", "dp", "dq", "qi", "k"])
def test_a_pasted_private_key_is_refused_at_the_form_step_and_never_shown_back(operator, secret_member):
    """N12: the confirm page showed a pasted private key whole, "d" included, and carried it in a hidden field;
    only "Ja, toevoegen" then refused it, without saying that the secret part was out."""
    private = generate_jwk()
    secret = "GEHEIM" + private["d"]
    pasted = {**SigningKey(private).public_jwk, secret_member: secret}
    response = operator.post(f"{KEYS}{BELASTING}/nieuw/", {"jwk": json.dumps(pasted), "reason": "Wissel."})
    html = response.content.decode()
    assert response.status_code == 200 and "Weet u het zeker?" not in html
    assert "het geheime deel van de sleutel" in html and "behandel deze sleutel als gelekt" in html
    assert "nieuw sleutelpaar" in html and "blauweknop keys public" in html
    assert secret not in html and private["d"] not in html  # not in the text, not in the field, not hidden
    assert not Key.objects.filter(kid=pasted["kid"]).exists()


def test_the_confirm_step_shows_the_checked_key_by_its_id_and_thumbprint(operator):
    new = SigningKey(generate_jwk())
    url = f"{KEYS}{BELASTING}/nieuw/"
    html = operator.post(url, {"jwk": json.dumps(new.public_jwk), "reason": "Wissel."}).content.decode()
    assert "Weet u het zeker?" in html and new.kid in html and thumbprint(new.public_jwk) in html


def test_after_adding_a_key_the_page_opens_at_its_owner_with_when_it_takes_over(operator):
    """N15: after adding or revoking, the page opened at the top of 18 organisations, the message far away."""
    new = SigningKey(generate_jwk())
    url = f"{KEYS}{DUO}/nieuw/"
    fields = {"jwk": json.dumps(new.public_jwk), "reason": "Wissel.", "confirmed": "ja"}
    done = operator.post(url, fields)
    assert done["Location"] == f"{KEYS}#sleutels-{DUO}"
    sections = _sections(operator.get(done["Location"]).content.decode())
    said = sections[DUO].split("<table", 1)[0]
    assert f"De sleutel {new.kid} is toegevoegd voor" in said and "gaat op" in said and "in gebruik" in said
    assert "is toegevoegd" not in sections[BELASTING]


def test_after_revoking_the_page_says_who_signs_next_or_that_nobody_does(operator):
    """N15: revoking a current key made a waiting key current, or left none, and no page said so."""
    old = keystore.signing_key(BELASTING).kid
    waiting = SigningKey(generate_jwk())
    keys.add(BELASTING, waiting.public_jwk, actor="deelnemer")
    url = _revoke_url(BELASTING, old)
    done = operator.post(url, {"reason": "Gestolen.", "successor": "", "confirmed": "ja"})
    assert done["Location"] == f"{KEYS}#sleutels-{BELASTING}"
    said = _sections(operator.get(done["Location"]).content.decode())[BELASTING].split("<table", 1)[0]
    assert "heeft nu geen sleutel in gebruik" in said and f"Sleutel {waiting.kid} gaat op" in said

    done = operator.post(_revoke_url(BELASTING, waiting.kid), {"reason": "Ook weg.", "confirmed": "ja"})
    said = _sections(operator.get(done["Location"]).content.decode())[BELASTING].split("<table", 1)[0]
    assert f"De sleutel {waiting.kid} is ingetrokken" in said and "heeft nu geen sleutel" not in said  # was waiting

    old_duo, honest = keystore.signing_key(DUO).kid, SigningKey(generate_jwk())
    keys.add(DUO, honest.public_jwk, actor="deelnemer")
    done = operator.post(_revoke_url(DUO, old_duo), {"reason": "Gestolen.", "successor": honest.kid, "confirmed": "ja"})
    said = _sections(operator.get(done["Location"]).content.decode())[DUO].split("<table", 1)[0]
    assert "Vanaf nu ondertekent" in said and honest.kid in said


def test_after_revoking_the_last_key_the_page_says_to_ask_for_a_new_one(operator):
    old = keystore.signing_key(DUO).kid
    done = operator.post(_revoke_url(DUO, old), {"reason": "Gestolen.", "successor": "", "confirmed": "ja"})
    said = _sections(operator.get(done["Location"]).content.decode())[DUO].split("<table", 1)[0]
    assert "heeft nu geen sleutel in gebruik" in said and "Vraag de eigenaar om een nieuwe publieke sleutel" in said


def _revoke_url(owner, kid):
    return f"{KEYS}{owner}/{Key.objects.get(owner=owner, kid=kid).pk}/intrekken/"


def test_revoking_a_key_asks_for_a_reason_a_successor_then_confirmation(operator):
    old = keystore.signing_key(BELASTING).kid
    url = _revoke_url(BELASTING, old)
    asked = operator.post(url, {"reason": "Gestolen."}).content.decode()
    assert "Kies welke sleutel het overneemt" in asked and "Weet u het zeker?" not in asked
    confirm = operator.post(url, {"reason": "Gestolen.", "successor": ""}).content.decode()
    assert "Weet u het zeker?" in confirm and "Geen sleutel. De eigenaar kan niets ondertekenen" in confirm
    assert Key.objects.get(owner=BELASTING, kid=old).state == Key.State.CURRENT
    assert operator.post(url, {"reason": "Gestolen.", "successor": "", "confirmed": "ja"}).status_code == 302
    assert Key.objects.get(owner=BELASTING, kid=old).state == Key.State.REVOKED
    assert not Key.objects.filter(owner=BELASTING, state=Key.State.CURRENT).exists()
    assert operator.get(url).status_code == 404  # revoked once, for good
    entry = next(e for e in in_force_entries() if e["oin"] == BELASTING)
    assert entry["revoked_kids"] == [old]


def test_revoking_the_current_key_lets_the_operator_choose_which_next_key_takes_over(operator):
    """F2: the newest next key was made current by itself, though a thief of the current key may have made it."""
    old = keystore.signing_key(BELASTING).kid
    honest, thief = SigningKey(generate_jwk()), SigningKey(generate_jwk())
    for new in (honest, thief):
        keys.add(BELASTING, new.public_jwk, actor="deelnemer")
    url = _revoke_url(BELASTING, old)
    page = operator.get(url).content.decode()
    assert honest.kid in page and thief.kid in page and 'type="radio"' in page
    confirm = operator.post(url, {"reason": "Gestolen.", "successor": honest.kid}).content.decode()
    assert "Ondertekent hierna" in confirm and f'name="successor" value="{honest.kid}"' in confirm
    assert operator.post(url, {"reason": "Gestolen.", "successor": honest.kid, "confirmed": "ja"}).status_code == 302
    assert keys.signing_kid(BELASTING) == honest.kid
    assert Key.objects.get(owner=BELASTING, kid=thief.kid).state == Key.State.NEXT
    entry = next(e for e in in_force_entries() if e["oin"] == BELASTING)
    assert entry["signing_kid"] == honest.kid


def test_a_key_with_an_odd_kid_is_listed_and_revoked_by_its_row(operator):
    """F1: a kid holding "/" made the list answer 500 (NoReverseMatch) and could not be revoked from the pages."""
    odd = Key.objects.create(owner=DUO, kid="a/../b", public_jwk=SigningKey(generate_jwk()).public_jwk)
    response = operator.get(KEYS)
    assert response.status_code == 200 and f"{KEYS}{DUO}/{odd.pk}/intrekken/" in response.content.decode()
    url = f"{KEYS}{DUO}/{odd.pk}/intrekken/"
    assert operator.post(url, {"reason": "Vreemde sleutel.", "confirmed": "ja"}).status_code == 302
    assert Key.objects.get(pk=odd.pk).state == Key.State.REVOKED
    assert (
        operator.get(
            f"{KEYS}{BELASTING}/{Key.objects.get(owner=DUO, kid=keystore.signing_key(DUO).kid).pk}/intrekken/"
        ).status_code
        == 404
    )


def test_the_operators_only_key_cannot_be_revoked(operator):
    current = keystore.signing_key(OPERATOR).kid
    response = operator.post(_revoke_url(OPERATOR, current), {"reason": "Test.", "confirmed": "ja"})
    assert (
        response.status_code == 200
        and "Voeg eerst een nieuwe sleutel van de beheerder toe" in response.content.decode()
    )
    assert Key.objects.get(owner=OPERATOR, kid=current).state == Key.State.CURRENT


def test_the_operators_key_is_revoked_early_only_in_an_emergency(operator, tmp_path):
    """F10: revoking the operator's current key skipped the 14 days participants have to add its successor."""
    current = keystore.signing_key(OPERATOR).kid
    new_jwk = generate_jwk()
    (tmp_path / f"{OPERATOR}.{new_jwk['kid']}.jwk").write_text(json.dumps(new_jwk))
    new = keys.add(OPERATOR, SigningKey(new_jwk).public_jwk, actor="olga")
    url = _revoke_url(OPERATOR, current)
    page = operator.get(url).content.decode()
    assert new.kid in page and "14 dagen" in page and "De wachttijd loopt nog." in page and "Nood:" in page
    fields = {"reason": "Uitgelekt.", "successor": new.kid}
    confirm = operator.post(url, fields).content.decode()
    assert "Weet u het zeker?" in confirm and new.kid in confirm
    refused = operator.post(url, {**fields, "confirmed": "ja"}).content.decode()
    assert "is nog niet lang genoeg bekend" in refused and "trust anchor" in refused
    assert keys.signing_kid(OPERATOR) == current
    urgent = {**fields, "emergency": "ja"}
    assert "Deelnemers die de nieuwe sleutel nog niet hebben" in operator.post(url, urgent).content.decode()
    assert operator.post(url, {**urgent, "confirmed": "ja"}).status_code == 302
    assert keys.signing_kid(OPERATOR) == new.kid
    entry = AuditEntry.objects.get(action="operator_key_revoked")
    assert entry.details == {"kid": current, "was": "current", "current": new.kid, "notice_cut_short": True}


def test_an_unknown_owner_or_key_is_not_found(operator):
    assert operator.get(f"{KEYS}00000000000000000000/nieuw/").status_code == 404
    assert operator.get(f"{KEYS}{BELASTING}/geen-sleutel/intrekken/").status_code == 404
    assert operator.get(f"{KEYS}{BELASTING}/999999/intrekken/").status_code == 404


@pytest.fixture
def english(operator, settings):
    operator.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    yield operator
    translation.activate(settings.LANGUAGE_CODE)  # the request left English active in this thread


def test_the_pages_speak_english_too(english):
    operator = english
    html = operator.get(KEYS).content.decode()
    assert "A new key is known at first" in html and "Add a new key for" in html
    html = operator.get(f"{KEYS}{BELASTING}/nieuw/").content.decode()
    assert "Public key (JWK)" in html
    html = operator.get(_revoke_url(BELASTING, keystore.signing_key(BELASTING).kid)).content.decode()
    assert "Which key takes over?" in html and "None: the owner then has no key in use" in html
    html = operator.get(_revoke_url(OPERATOR, keystore.signing_key(OPERATOR).kid)).content.decode()
    assert "This key signs the scheme document" in html and "Emergency: the old key" in html


def in_force_entries():
    return jws.unverified_parts(publication.in_force().token)[1]["organisations"]
