"""OpenID4VP 1.0 between a requester and the citizen's wallet: the signed request and the verified answer."""

import dataclasses
import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier

from blauweknop.protocol import jws, openid4vp, sdjwt, sdjwt_vc, status_list
from blauweknop.protocol.dcql import ClaimQuery, CredentialQuery, Query
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.protocol.openid4vp import ONCE, STANDING, Terms
from blauweknop.protocol.status_list import INVALID, StatusList, StatusListClient, StatusReference

from . import plus_scheme
from .conftest import NOW
from .hostile import VALUES, mutated, refused_or_accepted, sign_text
from .plus_scheme import (
    ANDERE_VRAGER,
    ARRAYS,
    CJIB_ISS,
    GEMEENTE,
    GEMEENTE_ISS,
    GESCHORSTE_VRAGER,
    PERSOON_VCT,
    VORDERINGEN_VCT,
    VRAGER,
    VRAGER_API,
)

RESPONSE_URI = VRAGER_API + "/antwoorden"
NONCE, STATE = "n" * 22 + "-nonce", "s" * 22 + "-state"
DAY = 86400
HYPOTHESIS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VORDERINGEN = CredentialQuery(
    "vorderingen",
    VORDERINGEN_VCT,
    (
        ClaimQuery("schuldeiser", "vorderingen.schuldeiser", True),
        ClaimQuery("kenmerk", "vorderingen.kenmerk", False),
        ClaimQuery("actief", "vorderingen.betalingsregeling.actief", True),
    ),
    True,
    True,
    ARRAYS,
)
PERSOON = CredentialQuery("persoon", PERSOON_VCT, (ClaimQuery("woonplaats", "adres.woonplaats", True),), False, False)
QUERY = Query((VORDERINGEN, PERSOON))
TERMS = Terms({"nl": "Uw huur berekenen", "en": "To work out your rent"}, "toestemming", 90, ONCE, None, "W-123")
STANDING_TERMS = Terms({"nl": "Elke maand uw huur berekenen"}, "toestemming", 30, STANDING, "2027-01-15")
# NOW is 2027-01-15T08:00Z: standing access may end that same day at the earliest.
DEBTS = {
    "naam": {"voornamen": "Fatima", "geslachtsnaam": "El Amrani"},
    "vorderingen": [
        {
            "schuldeiser": "Gemeente",
            "kenmerk": "G-1",
            "openstaandBedragInCenten": 100,
            "betalingsregeling": {"actief": True},
        },
        {
            "schuldeiser": "Gemeente",
            "kenmerk": "G-2",
            "openstaandBedragInCenten": 200,
            "betalingsregeling": {"actief": False},
        },
    ],
}


@pytest.fixture(scope="module")
def keys():
    return {**plus_scheme.keys(), "wallet": SigningKey(generate_jwk("ES256"))}


@pytest.fixture(scope="module")
def scheme(keys):
    return plus_scheme.scheme(keys)


def _sign(keys, signer="vrager", query=QUERY, terms=TERMS, **overrides):
    arguments = {
        "client_id": VRAGER,
        "response_uri": RESPONSE_URI,
        "nonce": NONCE,
        "state": STATE,
        "query": query,
        "terms": terms,
        "now": NOW,
        "lifetime": 14 * DAY,
        **overrides,
    }
    return openid4vp.sign_request(keys[signer], **arguments)


def _request(keys, scheme, **overrides):
    return openid4vp.verify_request(_sign(keys, **overrides), scheme, client_id=VRAGER, now=NOW + 10)


# ---------------------------------------------------------------------------------------------
# The request


def test_a_wallet_accepts_a_request_of_a_certified_requester(keys, scheme):
    token = _sign(keys)
    header, payload = jws.unverified_parts(token)
    assert header["typ"] == "oauth-authz-req+jwt" and header["kid"] == keys["vrager"].kid
    assert {k: payload[k] for k in ("iss", "client_id", "aud", "response_type", "response_mode", "response_uri")} == {
        "iss": VRAGER,
        "client_id": VRAGER,
        "aud": "https://self-issued.me/v2",
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": RESPONSE_URI,
    }
    assert payload["dcql_query"] == QUERY.to_json()
    assert payload["blauweknop"] == {
        "doel": {"nl": "Uw huur berekenen", "en": "To work out your rent"},
        "grondslag": "toestemming",
        "bewaartermijnDagen": 90,
        "toegang": "eenmalig",
    }
    request = openid4vp.verify_request(token, scheme, client_id=VRAGER, now=NOW + 10)
    assert request == openid4vp.AuthorizationRequest(
        VRAGER, RESPONSE_URI, NONCE, STATE, QUERY, dataclasses.replace(TERMS, reference=""), NOW, NOW + 14 * DAY
    )


def test_the_requesters_own_reference_stays_out_of_the_public_request_object(keys, scheme):
    """Attack review A5: anyone with the 8-character code read the kenmerk, and a back office may use a BSN as it."""
    token = _sign(keys, terms=dataclasses.replace(TERMS, reference="999260121"))
    assert "999260121" not in json.dumps(jws.unverified_parts(token))
    # An object signed before, with a kenmerk in it, still opens.
    older = openid4vp.verify_request(_raw(keys, terms={"kenmerk": "W-123"}), scheme, client_id=VRAGER, now=NOW + 10)
    assert older.terms == TERMS


# Attack review A4: the purpose is what the citizen consents to; these make it read otherwise than it is stored.
HIDDEN = {
    "right-to-left-override": "Wij controleren uw inkomen \u202eneeg sgnidnev\u202c en delen het niet.",
    "zero-width-space": "Uw huur\u200b berekenen",
    "right-to-left-isolate": "Uw huur \u2067berekenen\u2069",
    "line-break": "Uw huur\nberekenen",
    "escape": "Uw huur \x1b[8m berekenen",
    "soft-hyphen": "Uw huur be\u00adrekenen",
}


@pytest.mark.parametrize("words", HIDDEN.values(), ids=HIDDEN.keys())
@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_purpose_with_hidden_or_direction_characters_is_refused_made_and_read(keys, scheme, words, language):
    purpose = {"nl": "Uw huur berekenen", "en": "To work out your rent", language: words}
    with pytest.raises(InvalidInput) as made:
        _sign(keys, terms=dataclasses.replace(TERMS, purpose=purpose))
    assert made.value.code == "bad_claims" and "U+202E" in made.value.message
    # Signed by requester software of its own: the wallet refuses to show it.
    with pytest.raises(VerificationError) as read:
        openid4vp.verify_request(_raw(keys, terms={"doel": purpose}), scheme, client_id=VRAGER, now=NOW + 10)
    assert read.value.code == "invalid_request"


def test_a_purpose_with_accents_and_punctuation_is_plain_text(keys, scheme):
    # Typographic dashes and quotes are text people type too (written as escapes only for the linter).
    purpose = {"nl": "Uw huur berekenen (één keer) \u2013 zie \u2018Vragen?\u2019 · €", "en": "Your rent: naïve café"}
    assert _request(keys, scheme, terms=dataclasses.replace(TERMS, purpose=purpose)).terms.purpose == purpose


def test_standing_access_carries_its_end_date(keys, scheme):
    request = _request(keys, scheme, terms=STANDING_TERMS)
    assert request.terms == STANDING_TERMS
    assert jws.unverified_parts(_sign(keys, terms=STANDING_TERMS))[1]["blauweknop"]["toegangTot"] == "2027-01-15"


def _raw(keys, signer="vrager", typ=openid4vp.REQUEST_TYP, **changes):
    payload = jws.unverified_parts(_sign(keys))[1]
    for name, value in changes.items():
        if name == "terms":
            payload["blauweknop"] = {**payload["blauweknop"], **value}
        elif value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    if "blauweknop" in payload:
        payload["blauweknop"] = {k: v for k, v in payload["blauweknop"].items() if v is not None}
    return jws.sign(payload, keys[signer], typ)


def _dcql(change):
    value = QUERY.to_json()
    change(value)
    return value


REQUEST_REFUSALS = {
    "intruder-key": (lambda k: _raw(k, signer="indringer"), VRAGER, "unknown_key"),
    "other-requesters-key": (lambda k: _raw(k, signer="andere_vrager"), VRAGER, "unknown_key"),
    "link-names-other-client": (lambda k: _raw(k, signer="andere_vrager"), ANDERE_VRAGER, "invalid_request"),
    "suspended": (
        lambda k: _raw(k, signer="geschorst", iss=GESCHORSTE_VRAGER, client_id=GESCHORSTE_VRAGER),
        GESCHORSTE_VRAGER,
        "not_certified",
    ),
    "holder-is-no-requester": (
        lambda k: _raw(k, signer="gemeente", iss=GEMEENTE, client_id=GEMEENTE),
        GEMEENTE,
        "not_certified",
    ),
    "unknown-client": (lambda k: _raw(k), "00000001000000000000", "unknown_organisation"),
    "client-id-not-an-oin": (lambda k: _raw(k), "vrager", "invalid_request"),
    "wrong-typ": (lambda k: _raw(k, typ="JWT"), VRAGER, "wrong_typ"),
    "not-a-token": (lambda k: "nope", VRAGER, "malformed"),
    "expired": (lambda k: _raw(k, exp=NOW - 3600), VRAGER, "expired"),
    "too-long": (lambda k: _raw(k, exp=NOW + 31 * DAY), VRAGER, "invalid_request"),
    "no-exp": (lambda k: _raw(k, exp=None), VRAGER, "missing_claim"),
    "iss-other": (lambda k: _raw(k, iss=ANDERE_VRAGER), VRAGER, "invalid_request"),
    "client-id-other": (lambda k: _raw(k, client_id=ANDERE_VRAGER), VRAGER, "invalid_request"),
    "aud": (lambda k: _raw(k, aud="https://wallet.example"), VRAGER, "invalid_request"),
    "response-type": (lambda k: _raw(k, response_type="vp_token id_token"), VRAGER, "invalid_request"),
    "response-mode": (lambda k: _raw(k, response_mode="direct_post.jwt"), VRAGER, "invalid_request"),
    "redirect-uri": (lambda k: _raw(k, redirect_uri=RESPONSE_URI), VRAGER, "invalid_request"),
    "response-uri-other-host": (
        lambda k: _raw(k, response_uri="https://evil.example/vragers/woco/api/v1/antwoorden"),
        VRAGER,
        "invalid_request",
    ),
    "response-uri-other-path": (
        lambda k: _raw(k, response_uri="https://woningcorporatie.example/vragers/ander/api/v1/antwoorden"),
        VRAGER,
        "invalid_request",
    ),
    "response-uri-prefix-of-name": (
        lambda k: _raw(k, response_uri=VRAGER_API + "2/antwoorden"),
        VRAGER,
        "invalid_request",
    ),
    "response-uri-traversal": (
        lambda k: _raw(k, response_uri=VRAGER_API + "/../../ander/api/v1/antwoorden"),
        VRAGER,
        "invalid_request",
    ),
    "response-uri-escaped-traversal": (
        lambda k: _raw(k, response_uri=VRAGER_API + "/%2e%2e/antwoorden"),
        VRAGER,
        "invalid_request",
    ),
    "response-uri-http": (
        lambda k: _raw(k, response_uri=RESPONSE_URI.replace("https:", "http:")),
        VRAGER,
        "invalid_request",
    ),
    "response-uri-query": (lambda k: _raw(k, response_uri=RESPONSE_URI + "?x=1"), VRAGER, "invalid_request"),
    "short-nonce": (lambda k: _raw(k, nonce="n" * 21), VRAGER, "invalid_request"),
    "no-state": (lambda k: _raw(k, state=None), VRAGER, "invalid_request"),
    "long-state": (lambda k: _raw(k, state="s" * 129), VRAGER, "invalid_request"),
    "no-dcql": (lambda k: _raw(k, dcql_query=None), VRAGER, "invalid_request"),
    "unknown-vct": (
        lambda k: _raw(k, dcql_query=_dcql(lambda v: v["credentials"][1]["meta"].update(vct_values=["urn:x"]))),
        VRAGER,
        "invalid_request",
    ),
    "unknown-field": (
        lambda k: _raw(
            k, dcql_query=_dcql(lambda v: v["credentials"][1]["claims"][0].update(path=["adres", "straat"]))
        ),
        VRAGER,
        "invalid_request",
    ),
    "plain-claim-as-field": (
        lambda k: _raw(k, dcql_query=_dcql(lambda v: v["credentials"][1]["claims"][0].update(path=["iss"]))),
        VRAGER,
        "invalid_request",
    ),
    "list-without-null": (
        lambda k: _raw(
            k, dcql_query=_dcql(lambda v: v["credentials"][0]["claims"][0].update(path=["vorderingen", "schuldeiser"]))
        ),
        VRAGER,
        "invalid_request",
    ),
    "null-where-no-list": (
        lambda k: _raw(
            k, dcql_query=_dcql(lambda v: v["credentials"][1]["claims"][0].update(path=["adres", None, "woonplaats"]))
        ),
        VRAGER,
        "invalid_request",
    ),
    "same-type-twice": (
        lambda k: _raw(
            k,
            dcql_query=_dcql(
                lambda v: v["credentials"][1].update(
                    meta={"vct_values": [VORDERINGEN_VCT]},
                    claims=[{"id": "achternaam", "path": ["naam", "geslachtsnaam"]}],
                )
            ),
        ),
        VRAGER,
        "invalid_request",
    ),
    "no-terms": (lambda k: _raw(k, blauweknop=None), VRAGER, "invalid_request"),
    "terms-unknown-member": (lambda k: _raw(k, terms={"extra": 1}), VRAGER, "invalid_request"),
    "purpose-without-dutch": (lambda k: _raw(k, terms={"doel": {"en": "Rent"}}), VRAGER, "invalid_request"),
    "purpose-too-long": (lambda k: _raw(k, terms={"doel": {"nl": "x" * 501}}), VRAGER, "invalid_request"),
    "purpose-other-language": (lambda k: _raw(k, terms={"doel": {"nl": "x", "de": "y"}}), VRAGER, "invalid_request"),
    "unknown-legal-basis": (lambda k: _raw(k, terms={"grondslag": "onbekend"}), VRAGER, "invalid_request"),
    # A law goes through the legal-basis lane; a consent request must not tell the citizen a law obliges them.
    "law-as-consent-basis": (
        lambda k: _raw(k, terms={"grondslag": "participatiewet-art-64"}),
        VRAGER,
        "invalid_request",
    ),
    "retention-zero": (lambda k: _raw(k, terms={"bewaartermijnDagen": 0}), VRAGER, "invalid_request"),
    "retention-too-long": (lambda k: _raw(k, terms={"bewaartermijnDagen": 3651}), VRAGER, "invalid_request"),
    "retention-not-whole": (lambda k: _raw(k, terms={"bewaartermijnDagen": 1.5}), VRAGER, "invalid_request"),
    "access-unknown": (lambda k: _raw(k, terms={"toegang": "altijd"}), VRAGER, "invalid_request"),
    "once-with-end": (lambda k: _raw(k, terms={"toegangTot": "2027-01-01"}), VRAGER, "invalid_request"),
    "standing-without-end": (lambda k: _raw(k, terms={"toegang": STANDING}), VRAGER, "invalid_request"),
    "standing-too-far": (
        lambda k: _raw(k, terms={"toegang": STANDING, "toegangTot": "2028-01-18"}),
        VRAGER,
        "invalid_request",
    ),
    "standing-ended-before": (
        lambda k: _raw(k, terms={"toegang": STANDING, "toegangTot": "2026-01-01"}),
        VRAGER,
        "invalid_request",
    ),
    "standing-not-a-date": (
        lambda k: _raw(k, terms={"toegang": STANDING, "toegangTot": "15-01-2027"}),
        VRAGER,
        "invalid_request",
    ),
}


@pytest.mark.parametrize(("make", "client_id", "code"), REQUEST_REFUSALS.values(), ids=REQUEST_REFUSALS.keys())
def test_a_wallet_refuses_a_request_it_must_not_show(keys, scheme, make, client_id, code):
    with pytest.raises(VerificationError) as caught:
        openid4vp.verify_request(make(keys), scheme, client_id=client_id, now=NOW + 10)
    assert caught.value.code == code


def test_standing_access_may_last_a_year_and_a_day_but_no_longer(keys, scheme):
    # NOW is 2027-01-15; 366 days later is 2028-01-16.
    last = Terms({"nl": "Huur"}, "toestemming", 30, STANDING, "2028-01-16")
    assert _request(keys, scheme, terms=last).terms.access_until == "2028-01-16"
    with pytest.raises(InvalidInput):
        _sign(keys, terms=Terms({"nl": "Huur"}, "toestemming", 30, STANDING, "2028-01-17"))


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "123"},
        {"response_uri": "ftp://x.example/a"},
        {"nonce": "kort"},
        {"state": "s" * 129},
        {"lifetime": 31 * DAY},
        {"terms": Terms({"en": "Rent"}, "toestemming", 30, ONCE, None)},
        {"terms": Terms({"nl": "Huur"}, "toestemming", 30, ONCE, "2027-02-01")},
        {"terms": Terms({"nl": "Huur"}, "toestemming", 30, STANDING, None)},
        {"terms": Terms({"nl": "Huur"}, "toestemming", 0, ONCE, None)},
    ],
)
def test_a_requester_cannot_sign_a_request_a_wallet_would_refuse(keys, overrides):
    with pytest.raises(InvalidInput):
        _sign(keys, **overrides)


def test_the_link_carries_the_client_and_the_request_uri():
    uri = VRAGER_API + "/verzoekobjecten/ABCDEFGH"
    expected = (
        "client_id="
        + VRAGER
        + "&request_uri=https%3A%2F%2Fwoningcorporatie.example%2Fvragers%2Fwoco%2Fapi%2Fv1%2Fverzoekobjecten%2FABCDEFGH"
    )
    assert (
        openid4vp.request_link("https://portaal.example/delen/", VRAGER, uri)
        == "https://portaal.example/delen/?" + expected
    )
    assert openid4vp.request_link("openid4vp://", VRAGER, uri) == "openid4vp://?" + expected
    assert openid4vp.request_link("https://p.example/delen/?taal=en", VRAGER, uri).startswith(
        "https://p.example/delen/?taal=en&client_id="
    )


# ---------------------------------------------------------------------------------------------
# The answer


def _issue(keys, issuer="gemeente", iss=GEMEENTE_ISS, vct=VORDERINGEN_VCT, claims=DEBTS, **kwargs):
    return sdjwt_vc.issue(
        claims, keys[issuer], iss=iss, vct=vct, holder_jwk=keys["wallet"].public_jwk, now=NOW, **kwargs
    )


def _present(keys, credential, paths, aud=VRAGER, nonce=NONCE):
    return openid4vp.present(credential, paths, holder_key=keys["wallet"], aud=aud, nonce=nonce, now=NOW + 20)


def _verify(vp_token, request, scheme, status_lists=None):
    return openid4vp.verify_response(vp_token, request, scheme, status_lists=status_lists, now=NOW + 30)


ASKED = VORDERINGEN.paths()
PERSOON_CLAIMS = {
    "naam": {"voornamen": "Fatima", "geslachtsnaam": "El Amrani"},
    "adres": {"woonplaats": "Voorbeeldstad"},
}


def test_a_requester_receives_the_asked_data_from_every_holder_and_nothing_else(keys, scheme):
    request = _request(keys, scheme)
    cjib_debts = {
        "naam": DEBTS["naam"],
        "vorderingen": [{"schuldeiser": "CJIB", "kenmerk": "C-9", "betalingsregeling": {"actief": False}}],
    }
    gemeente = _present(keys, _issue(keys), ASKED)
    cjib = _present(keys, _issue(keys, "cjib", CJIB_ISS, claims=cjib_debts), ASKED)
    received = _verify(json.dumps({"vorderingen": [gemeente, cjib]}), request, scheme)
    assert [(r.query_id, r.iss, r.vct) for r in received] == [
        ("vorderingen", GEMEENTE_ISS, VORDERINGEN_VCT),
        ("vorderingen", CJIB_ISS, VORDERINGEN_VCT),
    ]
    assert received[0].claims == {
        "vorderingen": [
            {"schuldeiser": "Gemeente", "kenmerk": "G-1", "betalingsregeling": {"actief": True}},
            {"schuldeiser": "Gemeente", "kenmerk": "G-2", "betalingsregeling": {"actief": False}},
        ]
    }
    assert received[1].claims == {"vorderingen": cjib_debts["vorderingen"]}
    # What a requester stores to refuse the same presentation a second time.
    assert received[0].digest == hashlib.sha256(gemeente.encode()).hexdigest() != received[1].digest


def test_the_citizen_may_leave_out_optional_fields_and_optional_document_types(keys, scheme):
    request = _request(keys, scheme)
    presentation = _present(keys, _issue(keys), VORDERINGEN.paths(required_only=True))
    [received] = _verify({"vorderingen": [presentation]}, request, scheme)
    assert all("kenmerk" not in debt for debt in received.claims["vorderingen"])
    persoon = _present(keys, _issue(keys, vct=PERSOON_VCT, claims=PERSOON_CLAIMS), PERSOON.paths())
    both = _verify({"vorderingen": [presentation], "persoon": [persoon]}, request, scheme)
    assert both[1].claims == {"adres": {"woonplaats": "Voorbeeldstad"}}


def test_a_field_a_debt_does_not_have_is_left_out_of_the_presentation(keys, scheme):
    request = _request(keys, scheme)
    debts = {
        "vorderingen": [
            {"schuldeiser": "A", "betalingsregeling": {"actief": True}},
            {"schuldeiser": "B", "kenmerk": "K"},
        ]
    }
    [received] = _verify({"vorderingen": [_present(keys, _issue(keys, claims=debts), ASKED)]}, request, scheme)
    assert received.claims == debts


def _refused(vp_token, request, scheme, code, status_lists=None):
    with pytest.raises(VerificationError) as caught:
        _verify(vp_token, request, scheme, status_lists)
    assert caught.value.code == code
    return caught.value


def test_a_presentation_for_another_requester_or_request_is_refused(keys, scheme):
    request = _request(keys, scheme)
    credential = _issue(keys)
    _refused({"vorderingen": [_present(keys, credential, ASKED, aud=ANDERE_VRAGER)]}, request, scheme, "aud_mismatch")
    _refused({"vorderingen": [_present(keys, credential, ASKED, nonce="x" * 22)]}, request, scheme, "nonce_mismatch")
    without_kb = sdjwt_vc.present(credential, ["vorderingen.0.schuldeiser"])
    _refused({"vorderingen": [without_kb]}, request, scheme, "key_binding_required")


def test_more_than_was_asked_is_refused(keys, scheme):
    request = _request(keys, scheme)
    extra = _present(keys, _issue(keys), [*ASKED, "vorderingen.openstaandBedragInCenten"])
    error = _refused({"vorderingen": [extra]}, request, scheme, "invalid_presentation")
    assert "vorderingen.openstaandBedragInCenten" in error.message
    name = _present(keys, _issue(keys), [*ASKED, "naam.geslachtsnaam"])
    _refused({"vorderingen": [name]}, request, scheme, "invalid_presentation")


def test_data_an_issuer_left_in_plain_view_counts_as_disclosed(keys, scheme):
    request = _request(keys, scheme)
    payload = {
        "iss": GEMEENTE_ISS,
        "vct": VORDERINGEN_VCT,
        "iat": NOW,
        "exp": NOW + DAY,
        "cnf": {"jwk": keys["wallet"].public_jwk},
    }
    credential = sdjwt.issue({**payload, **DEBTS}, keys["gemeente"], typ=sdjwt_vc.TYP, visible=[*payload, "naam"])
    _refused({"vorderingen": [_present(keys, credential, ASKED)]}, request, scheme, "invalid_presentation")


def test_a_missing_required_field_or_document_type_is_refused(keys, scheme):
    request = _request(keys, scheme)
    no_schuldeiser = _present(keys, _issue(keys), ["vorderingen.kenmerk", "vorderingen.betalingsregeling.actief"])
    error = _refused({"vorderingen": [no_schuldeiser]}, request, scheme, "invalid_presentation")
    assert "vorderingen.schuldeiser" in error.message
    persoon = _present(keys, _issue(keys, vct=PERSOON_VCT, claims=PERSOON_CLAIMS), PERSOON.paths())
    _refused({"persoon": [persoon]}, request, scheme, "invalid_presentation")


def test_one_presentation_unless_the_query_allows_more(keys, scheme):
    single = Query((CredentialQuery("vorderingen", VORDERINGEN_VCT, VORDERINGEN.claims, False, True, ARRAYS),))
    request = _request(keys, scheme, query=single)
    presentations = [_present(keys, _issue(keys), ASKED), _present(keys, _issue(keys, "cjib", CJIB_ISS), ASKED)]
    _refused({"vorderingen": presentations}, request, scheme, "invalid_presentation")
    assert len(_verify({"vorderingen": presentations[:1]}, request, scheme)) == 1


def test_the_same_presentation_twice_in_one_answer_is_refused(keys, scheme):
    request = _request(keys, scheme)
    presentation = _present(keys, _issue(keys), ASKED)
    _refused({"vorderingen": [presentation, presentation]}, request, scheme, "invalid_presentation")


def test_another_document_type_under_a_query_is_refused(keys, scheme):
    request = _request(keys, scheme)
    vorderingen_as_persoon = _present(keys, _issue(keys), ASKED)
    _refused(
        {"vorderingen": [_present(keys, _issue(keys), ASKED)], "persoon": [vorderingen_as_persoon]},
        request,
        scheme,
        "invalid_presentation",
    )


VORDERINGEN_V4_VCT = VORDERINGEN_VCT.removesuffix("3") + "4"


@pytest.fixture(scope="module")
def two_versions(keys):
    """The scheme after the operator published vorderingen 4: it lists both versions."""
    v4 = {**plus_scheme.DOCUMENT_TYPES[0], "vct": VORDERINGEN_V4_VCT}
    return plus_scheme.scheme(keys, document_types=[*plus_scheme.DOCUMENT_TYPES, v4])


def test_a_request_made_before_a_new_version_is_answered_with_a_copy_of_that_version(keys, two_versions):
    request = _request(keys, two_versions)  # asks vorderingen 3, the newest when it was made
    newer = _present(keys, _issue(keys, vct=VORDERINGEN_V4_VCT), ASKED)
    received = _verify(json.dumps({"vorderingen": [newer]}), request, two_versions)
    assert [(r.query_id, r.vct) for r in received] == [("vorderingen", VORDERINGEN_V4_VCT)]
    # The other way round: a holder that has not read the newer scheme document yet answers a request for 4.
    asks_v4 = Query((dataclasses.replace(VORDERINGEN, vct=VORDERINGEN_V4_VCT), PERSOON))
    older = _present(keys, _issue(keys), ASKED)
    received = _verify(json.dumps({"vorderingen": [older]}), _request(keys, two_versions, query=asks_v4), two_versions)
    assert [r.vct for r in received] == [VORDERINGEN_VCT]


def test_a_version_the_scheme_does_not_list_or_another_type_is_still_refused(keys, scheme, two_versions):
    newer = _present(keys, _issue(keys, vct=VORDERINGEN_V4_VCT), ASKED)
    _refused({"vorderingen": [newer]}, _request(keys, scheme), scheme, "invalid_presentation")
    persoon = _present(keys, _issue(keys, vct=PERSOON_VCT, claims=PERSOON_CLAIMS), ["adres.woonplaats"])
    _refused({"vorderingen": [persoon]}, _request(keys, two_versions), two_versions, "invalid_presentation")


def test_a_copy_from_outside_the_scheme_is_refused(keys, scheme):
    request = _request(keys, scheme)
    forged = _present(keys, _issue(keys, "indringer"), ASKED)
    _refused({"vorderingen": [forged]}, request, scheme, "unknown_key")
    stranger = _present(keys, _issue(keys, "indringer", "https://elders.example/x"), ASKED)
    _refused({"vorderingen": [stranger]}, request, scheme, "unknown_issuer")


def test_a_revoked_copy_is_refused(keys, scheme):
    request = _request(keys, scheme)
    uri = GEMEENTE_ISS + "/statuslijsten/1"
    statuses = StatusList(16)
    client = StatusListClient(
        lambda u: status_list.sign(statuses, keys["gemeente"], uri=u, iss=GEMEENTE_ISS, now=NOW), clock=lambda: NOW
    )
    credential = _issue(keys, status=StatusReference(uri, 3))
    assert _verify({"vorderingen": [_present(keys, credential, ASKED)]}, request, scheme, client)
    statuses.set(3, INVALID)
    client = StatusListClient(
        lambda u: status_list.sign(statuses, keys["gemeente"], uri=u, iss=GEMEENTE_ISS, now=NOW), clock=lambda: NOW
    )
    _refused({"vorderingen": [_present(keys, credential, ASKED)]}, request, scheme, "revoked", client)
    _refused({"vorderingen": [_present(keys, credential, ASKED)]}, request, scheme, "status_unavailable")


@pytest.mark.parametrize(
    ("vp_token", "code"),
    [
        ("[]", "invalid_request"),
        ("{", "malformed"),
        ({"vorderingen": []}, "invalid_request"),
        ({"vorderingen": "presentation"}, "invalid_request"),
        ({"vorderingen": [7]}, "invalid_request"),
        ({"onbekend": ["x~"]}, "invalid_presentation"),
        ({}, "invalid_presentation"),
        ({"vorderingen": ["x~"] * 51}, "invalid_request"),
        ({"vorderingen": ["not a presentation"]}, "malformed"),
    ],
    ids=[
        "array",
        "broken-json",
        "empty-array",
        "not-an-array",
        "not-text",
        "unknown-query",
        "nothing",
        "too-many",
        "garbage",
    ],
)
def test_a_vp_token_that_is_no_answer_is_refused(keys, scheme, vp_token, code):
    _refused(vp_token, _request(keys, scheme), scheme, code)


# ---------------------------------------------------------------------------------------------
# Interoperability: the reference SD-JWT verifier accepts what the portal presents.


def test_the_reference_verifier_accepts_a_presentation_with_its_key_binding(keys):
    presentation = _present(keys, _issue(keys), ASKED)

    def issuer_key(issuer, header):
        assert issuer == GEMEENTE_ISS
        return JWK(**keys["gemeente"].public_jwk)

    # The reference verifier checks the issuer's signature, the disclosures and the KB-JWT (aud, nonce, sd_hash).
    verifier = SDJWTVerifier(presentation, issuer_key, expected_aud=VRAGER, expected_nonce=NONCE)
    payload = verifier.get_verified_payload()
    assert payload["vorderingen"][1] == {
        "schuldeiser": "Gemeente",
        "kenmerk": "G-2",
        "betalingsregeling": {"actief": False},
    }
    assert "naam" not in payload and "openstaandBedragInCenten" not in payload["vorderingen"][0]
    with pytest.raises(ValueError, match="Invalid audience"):
        SDJWTVerifier(presentation, issuer_key, expected_aud=ANDERE_VRAGER, expected_nonce=NONCE)


# ---------------------------------------------------------------------------------------------
# Hostile input: signed requests and answers of any shape are refused with a code, never a crash.


@HYPOTHESIS
@given(data=st.data())
def test_no_signed_request_object_makes_the_wallet_crash(keys, scheme, data):
    payload = jws.unverified_parts(_sign(keys, terms=STANDING_TERMS))[1]
    credential = QUERY.to_json()["credentials"][0]
    claim = mutated(credential["claims"][0])
    query = {
        **QUERY.to_json(),
        "credentials": st.lists(
            mutated({**credential, "claims": st.lists(claim, max_size=3).map(_array)}), max_size=3
        ).map(_array),
    }
    base = {**payload, "dcql_query": mutated(query), "blauweknop": mutated(payload["blauweknop"])}
    text = data.draw(mutated(base))
    token = sign_text(text, keys["vrager"], openid4vp.REQUEST_TYP)
    refused_or_accepted(lambda: openid4vp.verify_request(token, scheme, client_id=VRAGER, now=NOW))


@HYPOTHESIS
@given(data=st.data())
def test_no_vp_token_makes_the_requester_crash(keys, scheme, data):
    request = _request(keys, scheme)
    presentation = _present(keys, _issue(keys), ASKED)
    pieces = st.sampled_from([json.dumps(presentation), json.dumps(presentation[:-10]), json.dumps("~")])
    base = {"vorderingen": st.lists(st.one_of(pieces, VALUES), max_size=3).map(_array), "persoon": VALUES}
    text = data.draw(st.one_of(mutated(base), VALUES))
    refused_or_accepted(lambda: _verify(text, request, scheme))


def _array(items):
    return "[" + ",".join(items) + "]"
