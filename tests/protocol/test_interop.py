"""Interoperability with the reference SD-JWT implementation (the ``sd-jwt`` package, 0.10.4).

Both directions: SD-JWT VCs and presentations we make must verify with the reference verifier, and
credentials and presentations the reference issuer and holder make must verify with ours.
The reference verifier only accepts ES256 Key Binding JWTs, so holder keys are P-256 throughout.
"""

import base64
import json
from unittest import mock

import pytest
from jwcrypto.jwk import JWK
from jwcrypto.jws import InvalidJWSSignature
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from blauweknop.protocol import sdjwt, sdjwt_vc
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.jwk import KeySet, SigningKey, public_jwk
from blauweknop.protocol.sdjwt import KeyBinding

AUD = "https://verifier.example.org"
NONCE = "n-0S6_WzA2Mj"

# ---------------------------------------------------------------------------------------------
# Our side: an ES256 issuer and a P-256 holder (fixed keys, so failures are reproducible).

OUR_ISSUER_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "lIbYys5azEoYCSOTMQF68GheIUFu_8rnLXrEQUoJfWk",
    "y": "Jas1-9IzKRB8IZ38glR8E9PGQHet0AO_i4Wf_3nE_fE",
    "d": "x7T9lNdH16IwpxyihMgMKQXjQF1Pn1ywRw2aTD7W1sA",
    "kid": "issuer-2024",
}
OUR_HOLDER_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "8iJQjKd9wafR5dgiBPO8wQyCsk5MvxweMyejvXmspBA",
    "y": "8mJ_S2p9zaX6R4JItCi_gtdeP_tk79Q5kcwXuPjo6mI",
    "d": "XbwfhGHl3CeUFE1YPuLnU_jRIghS5LpM1nr-iUwJ8c8",
}
OUR_ISS = "https://issuer.blauweknop.example"
OUR_VCT = "https://credentials.blauweknop.example/persoonsgegevens"
OUR_IAT = 1700000000
OUR_EXP = OUR_IAT + sdjwt_vc.DEFAULT_VALID_FOR
OUR_KB_NOW = OUR_IAT + 100
OUR_CLAIMS = {
    "given_name": "Erika",
    "family_name": "Möbius",
    "birthdate": "1963-08-12",
    "age_over_18": True,
    "address": {"street_address": "Heidestraße 17", "locality": "Köln", "postal_code": "51147", "country": "DE"},
    "nationalities": ["DE", "NL"],
    "children": [
        {"given_name": "Anna", "birthdate": "2001-02-03"},
        {"given_name": "Ben", "birthdate": "2004-05-06"},
    ],
    "scores": [[1, 2], [3]],
}
OUR_PLAIN_CLAIMS = {
    "iss": OUR_ISS,
    "vct": OUR_VCT,
    "iat": OUR_IAT,
    "exp": OUR_EXP,
    "cnf": {"jwk": public_jwk(OUR_HOLDER_JWK)},
}

# ---------------------------------------------------------------------------------------------
# The reference side: the RFC 9901 example keys (also the reference package's demo keys).

REF_ISSUER_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
    "y": "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8",
    "d": "Ur2bNKuBPOrAaxsRnbSH6hIhmNTxSGXshDSUD1a1y7g",
}
REF_HOLDER_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
    "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ",
    "d": "5K5SCos8zf9zRemGGUl6yfok-_NiiryNZsvANWMhF-I",
}
REF_ISS = "https://issuer.example.com"
REF_VCT = "https://credentials.example.com/identity_credential"
REF_IAT = 1683000000
REF_EXP = 1883000000
REF_KB_IAT = 1750000000
REF_NOW = REF_KB_IAT + 30
REF_USER_CLAIMS = {
    "iss": REF_ISS,
    "vct": REF_VCT,
    "iat": REF_IAT,
    "exp": REF_EXP,
    SDObj("given_name"): "John",
    SDObj("family_name"): "Möbius",
    "sub": "user_42",
    SDObj("address"): {
        SDObj("street_address"): "123 Main St",
        SDObj("locality"): "Anytown",
        "country": "US",
    },
    "nationalities": ["FR", SDObj("US"), SDObj("DE")],
    SDObj("degrees"): [
        {SDObj("type"): "Bachelor", "university": "TU Delft"},
        SDObj({"type": "Master"}),
        SDObj({SDObj("type"): "PhD", "year": 2020}),
    ],
}
# What the reference credential holds once every disclosure is shown (without the plain claims).
REF_ALL_DATA = {
    "given_name": "John",
    "family_name": "Möbius",
    "sub": "user_42",
    "address": {"street_address": "123 Main St", "locality": "Anytown", "country": "US"},
    "nationalities": ["FR", "US", "DE"],
    "degrees": [{"type": "Bachelor", "university": "TU Delft"}, {"type": "Master"}, {"type": "PhD", "year": 2020}],
}
REF_CNF = {"jwk": public_jwk(REF_HOLDER_JWK)}


def public_of(jwk):
    return {k: v for k, v in jwk.items() if k != "d"}


def reference_verify(presentation, issuer_jwk, iss, aud=None, nonce=None):
    """The reference verifier, with the issuer key found the way its callback is meant to."""

    def get_issuer_key(issuer, header):
        assert issuer == iss
        assert header["typ"] == sdjwt_vc.TYP
        return JWK(**public_of(issuer_jwk))

    return SDJWTVerifier(presentation, get_issuer_key, expected_aud=aud, expected_nonce=nonce).get_verified_payload()


def our_credential(max_decoys=sdjwt.DEFAULT_MAX_DECOYS):
    return sdjwt_vc.issue(
        OUR_CLAIMS,
        SigningKey(OUR_ISSUER_JWK),
        iss=OUR_ISS,
        vct=OUR_VCT,
        holder_jwk=public_jwk(OUR_HOLDER_JWK),
        now=OUR_IAT,
        max_decoys=max_decoys,
    )


def our_presentation(credential, disclose):
    return sdjwt_vc.present(
        credential, disclose, holder_key=SigningKey(OUR_HOLDER_JWK), aud=AUD, nonce=NONCE, now=OUR_KB_NOW
    )


def reference_credential(add_decoy_claims, typ=sdjwt_vc.TYP):
    issuer = SDJWTIssuer(
        REF_USER_CLAIMS,
        JWK(**REF_ISSUER_JWK),
        JWK(**REF_HOLDER_JWK),
        sign_alg="ES256",
        add_decoy_claims=add_decoy_claims,
        serialization_format="compact",
        extra_header_parameters={"typ": typ},
    )
    return issuer.sd_jwt_issuance


def reference_presentation(credential, selection, kb_iat=REF_KB_IAT, aud=AUD, nonce=NONCE):
    holder = SDJWTHolder(credential)
    # The reference holder stamps the KB-JWT with time.time(); pin it so the test does not age.
    with mock.patch("sd_jwt.holder.time", return_value=kb_iat + 0.25):
        holder.create_presentation(selection, nonce=nonce, aud=aud, holder_key=JWK(**REF_HOLDER_JWK), sign_alg="ES256")
    return holder.sd_jwt_presentation


def our_verify(presentation, issuer_jwk, now, require_key_binding=True, aud=AUD, nonce=NONCE):
    return sdjwt_vc.verify(
        presentation,
        KeySet([public_of(issuer_jwk)]),
        status_lists=None,
        require_key_binding=require_key_binding,
        aud=aud,
        nonce=nonce,
        now=now,
    )


def our_verify_reference(presentation, require_key_binding=True, aud=AUD, nonce=NONCE, now=REF_NOW):
    return our_verify(presentation, REF_ISSUER_JWK, now, require_key_binding, aud, nonce)


def b64url_json(text):
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def b64url_of_json(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


# ---------------------------------------------------------------------------------------------
# Ours -> reference verifier


@pytest.mark.parametrize("max_decoys", [0, 3, 10])
def test_reference_verifier_accepts_our_full_issuance(max_decoys):
    claims = reference_verify(our_credential(max_decoys), OUR_ISSUER_JWK, OUR_ISS)
    assert claims == {**OUR_PLAIN_CLAIMS, **OUR_CLAIMS}


@pytest.mark.parametrize(
    ("disclose", "expected"),
    [
        (
            ["given_name", "address.locality", ["nationalities", 1], ["children", 1, "given_name"]],
            {
                "given_name": "Erika",
                "address": {"locality": "Köln"},
                "nationalities": ["NL"],
                "children": [{"given_name": "Ben"}],
            },
        ),
        (
            ["address", ["children", 0], ["scores", 0, 1]],
            {
                "address": OUR_CLAIMS["address"],
                "children": [{"given_name": "Anna", "birthdate": "2001-02-03"}],
                "scores": [[2]],
            },
        ),
        (
            ["family_name", "age_over_18", "nationalities", "scores"],
            {"family_name": "Möbius", "age_over_18": True, "nationalities": ["DE", "NL"], "scores": [[1, 2], [3]]},
        ),
        ([], {}),
    ],
    ids=["nested-members-and-elements", "whole-objects-and-deep-element", "top-level-and-whole-arrays", "nothing"],
)
def test_reference_verifier_accepts_our_presentation_with_key_binding(disclose, expected):
    presentation = our_presentation(our_credential(), disclose)
    claims = reference_verify(presentation, OUR_ISSUER_JWK, OUR_ISS, aud=AUD, nonce=NONCE)
    # Exactly what we chose to show, plus the claims that are always in plain view: nothing more.
    assert claims == {**OUR_PLAIN_CLAIMS, **expected}
    # Our own verifier agrees on every claim.
    ours = our_verify(presentation, OUR_ISSUER_JWK, OUR_KB_NOW + 5)
    assert ours.claims == expected


def test_reference_verifier_accepts_our_presentation_without_key_binding():
    presentation = sdjwt_vc.present(our_credential(), ["birthdate", ["children", 0, "birthdate"]])
    assert presentation.endswith("~")
    claims = reference_verify(presentation, OUR_ISSUER_JWK, OUR_ISS)
    assert claims == {**OUR_PLAIN_CLAIMS, "birthdate": "1963-08-12", "children": [{"birthdate": "2001-02-03"}]}


@pytest.mark.parametrize(
    ("max_decoys", "nationalities", "shown"),
    [
        (0, [True, False], ["DE"]),
        (0, [False, True], ["NL"]),
        # With decoys among the elements, positions are unknown: ask for every position.
        (10, [True] * 20, ["DE", "NL"]),
    ],
    ids=["first-element", "second-element", "decoys-all-elements"],
)
def test_reference_holder_presentation_of_our_credential_verifies_with_both(max_decoys, nationalities, shown):
    holder = SDJWTHolder(our_credential(max_decoys))
    with mock.patch("sd_jwt.holder.time", return_value=OUR_KB_NOW + 0.5):
        holder.create_presentation(
            {
                "given_name": True,
                "address": {"postal_code": True},
                "nationalities": nationalities,
                "children": [{"birthdate": True}] * 20,
            },
            nonce=NONCE,
            aud=AUD,
            holder_key=JWK(**OUR_HOLDER_JWK),
            sign_alg="ES256",
        )
    expected = {
        "given_name": "Erika",
        "address": {"postal_code": "51147"},
        "nationalities": shown,
        "children": [{"birthdate": "2001-02-03"}, {"birthdate": "2004-05-06"}],
    }
    claims = reference_verify(holder.sd_jwt_presentation, OUR_ISSUER_JWK, OUR_ISS, aud=AUD, nonce=NONCE)
    assert claims == {**OUR_PLAIN_CLAIMS, **expected}
    ours = sdjwt_vc.verify(
        holder.sd_jwt_presentation,
        KeySet([public_of(OUR_ISSUER_JWK)]),
        status_lists=None,
        require_key_binding=True,
        aud=AUD,
        nonce=NONCE,
        now=OUR_KB_NOW + 5,
    )
    assert ours.claims == expected
    assert ours.key_binding == KeyBinding(aud=AUD, nonce=NONCE, iat=OUR_KB_NOW)


def test_reference_verifier_refuses_our_presentation_with_tampered_disclosure():
    presentation = our_presentation(our_credential(max_decoys=0), ["given_name", "family_name"])
    jwt, disclosures, kb_jwt = sdjwt.split(presentation)
    index = next(i for i, d in enumerate(disclosures) if b64url_json(d)[1] == "given_name")
    salt, name, _ = b64url_json(disclosures[index])
    disclosures[index] = b64url_of_json([salt, name, "Mallory"])
    tampered = jwt + "~" + "".join(d + "~" for d in disclosures) + kb_jwt
    with pytest.raises(ValueError, match="Invalid digest in KB-JWT"):
        reference_verify(tampered, OUR_ISSUER_JWK, OUR_ISS, aud=AUD, nonce=NONCE)
    # Ours refuses it too: the forged disclosure belongs to no digest the issuer signed.
    with pytest.raises(VerificationError) as caught:
        our_verify(tampered, OUR_ISSUER_JWK, OUR_KB_NOW)
    assert caught.value.code == "unreferenced_disclosure"


def test_reference_verifier_refuses_our_presentation_for_another_nonce_or_issuer_key():
    presentation = our_presentation(our_credential(), ["given_name"])
    with pytest.raises(ValueError, match="Invalid nonce"):
        reference_verify(presentation, OUR_ISSUER_JWK, OUR_ISS, aud=AUD, nonce="another-nonce")
    with pytest.raises(InvalidJWSSignature):
        reference_verify(presentation, REF_ISSUER_JWK, OUR_ISS, aud=AUD, nonce=NONCE)


# ---------------------------------------------------------------------------------------------
# Reference issuer and holder -> our verifier


@pytest.mark.parametrize("add_decoy_claims", [False, True], ids=["no-decoys", "decoys"])
def test_our_verifier_accepts_reference_issuance(add_decoy_claims):
    result = our_verify_reference(
        reference_credential(add_decoy_claims), require_key_binding=False, aud=None, nonce=None
    )
    assert result.iss == REF_ISS
    assert result.vct == REF_VCT
    assert result.issued_at == REF_IAT
    assert result.expires_at == REF_EXP
    assert result.claims == REF_ALL_DATA
    assert result.holder_jwk == REF_CNF["jwk"]
    assert result.status is None
    assert result.key_binding is None
    assert result.disclosed == frozenset(
        {
            "given_name",
            "family_name",
            "address",
            "address.street_address",
            "address.locality",
            "nationalities.1",
            "nationalities.2",
            "degrees",
            "degrees.0.type",
            "degrees.1",
            "degrees.2",
            "degrees.2.type",
        }
    )


@pytest.mark.parametrize("add_decoy_claims", [False, True], ids=["no-decoys", "decoys"])
def test_our_verifier_accepts_reference_presentation_with_key_binding(add_decoy_claims):
    presentation = reference_presentation(
        reference_credential(add_decoy_claims),
        {
            "given_name": True,
            "address": {"locality": True},
            "nationalities": [False, False, True],
            "degrees": [True, False, {"type": True}],
        },
    )
    result = our_verify_reference(presentation)
    assert result.claims == {
        "sub": "user_42",
        "given_name": "John",
        "address": {"locality": "Anytown", "country": "US"},
        "nationalities": ["FR", "DE"],
        "degrees": [{"university": "TU Delft"}, {"type": "PhD", "year": 2020}],
    }
    assert result.key_binding == KeyBinding(aud=AUD, nonce=NONCE, iat=REF_KB_IAT)
    assert result.holder_jwk == REF_CNF["jwk"]
    # The reference verifier sees the same.
    assert reference_verify(presentation, REF_ISSUER_JWK, REF_ISS, aud=AUD, nonce=NONCE) == {
        "iss": REF_ISS,
        "vct": REF_VCT,
        "iat": REF_IAT,
        "exp": REF_EXP,
        "cnf": REF_CNF,
        **result.claims,
    }


def test_our_verifier_accepts_reference_presentation_disclosing_nothing():
    presentation = reference_presentation(reference_credential(True), {})
    assert len(sdjwt.split(presentation)[1]) == 0
    result = our_verify_reference(presentation)
    assert result.claims == {"sub": "user_42", "nationalities": ["FR"]}
    assert result.disclosed == frozenset()
    assert result.key_binding == KeyBinding(aud=AUD, nonce=NONCE, iat=REF_KB_IAT)


@pytest.mark.parametrize("add_decoy_claims", [False, True], ids=["no-decoys", "decoys"])
def test_our_presentation_of_reference_credential_verifies_with_both(add_decoy_claims):
    presentation = sdjwt.present(
        reference_credential(add_decoy_claims),
        ["family_name", "address.street_address", ["nationalities", 1], ["degrees", 1, "type"], ["degrees", 2, "year"]],
        holder_key=SigningKey(REF_HOLDER_JWK),
        aud=AUD,
        nonce=NONCE,
        now=REF_KB_IAT,
    )
    expected = {
        "sub": "user_42",
        "family_name": "Möbius",
        "address": {"street_address": "123 Main St", "country": "US"},
        "nationalities": ["FR", "US"],
        # degrees[0] is a plain element with one plain member: shown whenever degrees is.
        "degrees": [{"university": "TU Delft"}, {"type": "Master"}, {"year": 2020}],
    }
    ours = our_verify_reference(presentation)
    assert ours.claims == expected
    assert ours.key_binding == KeyBinding(aud=AUD, nonce=NONCE, iat=REF_KB_IAT)
    theirs = reference_verify(presentation, REF_ISSUER_JWK, REF_ISS, aud=AUD, nonce=NONCE)
    assert theirs == {"iss": REF_ISS, "vct": REF_VCT, "iat": REF_IAT, "exp": REF_EXP, "cnf": REF_CNF, **expected}


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"nonce": "another-nonce"}, "nonce_mismatch"),
        ({"aud": "https://another-verifier.example.org"}, "aud_mismatch"),
        ({"now": REF_KB_IAT + 3600}, "kb_stale"),
        ({"now": REF_EXP + 3600}, "expired"),
    ],
    ids=["wrong-nonce", "wrong-aud", "kb-too-old", "expired"],
)
def test_our_verifier_refuses_reference_presentation(arguments, code):
    presentation = reference_presentation(reference_credential(True), {"given_name": True})
    with pytest.raises(VerificationError) as caught:
        our_verify_reference(presentation, **arguments)
    assert caught.value.code == code


def test_our_verifier_refuses_reference_presentation_with_smuggled_disclosure():
    credential = reference_credential(False)
    presentation = reference_presentation(credential, {"given_name": True})
    jwt, disclosures, kb_jwt = sdjwt.split(presentation)
    hidden = next(d for d in sdjwt.split(credential)[1] if b64url_json(d)[1:] == ["family_name", "Möbius"])
    smuggled = jwt + "~" + "".join(d + "~" for d in [*disclosures, hidden]) + kb_jwt
    with pytest.raises(VerificationError) as caught:
        our_verify_reference(smuggled)
    assert caught.value.code == "sd_hash_mismatch"


def test_our_verifier_requires_key_binding_on_reference_presentation_without_kb_jwt():
    holder = SDJWTHolder(reference_credential(False))
    holder.create_presentation({"given_name": True})
    assert holder.sd_jwt_presentation.endswith("~")
    with pytest.raises(VerificationError) as caught:
        our_verify_reference(holder.sd_jwt_presentation, aud=None, nonce=None)
    assert caught.value.code == "key_binding_required"


def test_our_vc_verifier_refuses_reference_default_typ():
    # The reference issuer's default typ is example+sd-jwt, which is not an SD-JWT VC.
    with pytest.raises(VerificationError) as caught:
        our_verify_reference(reference_credential(False, typ="example+sd-jwt"), require_key_binding=False)
    assert caught.value.code == "wrong_typ"
