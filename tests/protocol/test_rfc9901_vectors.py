"""RFC 9901's own examples, with their fixed salts, checked against our SD-JWT implementation.

All vectors below are copied from RFC 9901 (§4.2, §5.1 and §5.2): the example issuer and holder
keys, the disclosures with their digests, and the §5.2 SD-JWT+KB presentation.
"""

import base64
import json

import pytest

from blauweknop.protocol import sdjwt
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.jwk import KeySet, SigningKey, VerifyingKey
from blauweknop.protocol.sdjwt import KeyBinding

# The RFC 9901 example issuer key (private part only used to issue with fixed salts).
RFC_ISSUER_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
    "y": "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8",
}
RFC_ISSUER_PRIVATE_JWK = {**RFC_ISSUER_JWK, "d": "Ur2bNKuBPOrAaxsRnbSH6hIhmNTxSGXshDSUD1a1y7g"}
# The RFC 9901 example holder key, as it appears in the credential's cnf claim.
RFC_HOLDER_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
    "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ",
}

RFC_TYP = "example+sd-jwt"
RFC_AUD = "https://verifier.example.org"
RFC_NONCE = "1234567890"
RFC_KB_IAT = 1748537244
RFC_EXP = 1883000000

# Disclosure (base64url, as printed in the RFC), its decoded JSON array, and its digest.
RFC_DISCLOSURES = [
    # §4.2.1 / §4.2.3: non-ASCII value, encoded as raw UTF-8.
    (
        "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0",
        ["_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius"],
        "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0",
    ),
    # §4.2.2: an array element.
    (
        "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0",
        ["lklxF5jMYlGTPUovMNIvCA", "FR"],
        "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs",
    ),
    # §5.1: the example SD-JWT's ten disclosures.
    (
        "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd",
        ["2GLC42sKQveCfGfryNRN9w", "given_name", "John"],
        "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4",
    ),
    (
        "WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgImZhbWlseV9uYW1lIiwgIkRvZSJd",
        ["eluV5Og3gSNII8EYnsxA_A", "family_name", "Doe"],
        "TGf4oLbgwd5JQaHyKVQZU9UdGE0w5rtDsrZzfUaomLo",
    ),
    (
        "WyI2SWo3dE0tYTVpVlBHYm9TNXRtdlZBIiwgImVtYWlsIiwgImpvaG5kb2VAZXhhbXBsZS5jb20iXQ",
        ["6Ij7tM-a5iVPGboS5tmvVA", "email", "johndoe@example.com"],
        "JzYjH4svliH0R3PyEMfeZu6Jt69u5qehZo7F7EPYlSE",
    ),
    (
        "WyJlSThaV205UW5LUHBOUGVOZW5IZGhRIiwgInBob25lX251bWJlciIsICIrMS0yMDItNTU1LTAxMDEiXQ",
        ["eI8ZWm9QnKPpNPeNenHdhQ", "phone_number", "+1-202-555-0101"],
        "PorFbpKuVu6xymJagvkFsFXAbRoc2JGlAUA2BA4o7cI",
    ),
    (
        "WyJRZ19PNjR6cUF4ZTQxMmExMDhpcm9BIiwgInBob25lX251bWJlcl92ZXJpZmllZCIsIHRydWVd",
        ["Qg_O64zqAxe412a108iroA", "phone_number_verified", True],
        "XQ_3kPKt1XyX7KANkqVR6yZ2Va5NrPIvPYbyMvRKBMM",
    ),
    (
        "WyJBSngtMDk1VlBycFR0TjRRTU9xUk9BIiwgImFkZHJlc3MiLCB7InN0cmVldF9hZGRyZXNzIjogIjEyMyBNYWluIFN0IiwgImxvY2FsaXR5Ij"
        "ogIkFueXRvd24iLCAicmVnaW9uIjogIkFueXN0YXRlIiwgImNvdW50cnkiOiAiVVMifV0",
        [
            "AJx-095VPrpTtN4QMOqROA",
            "address",
            {"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate", "country": "US"},
        ],
        "XzFrzwscM6Gn6CJDc6vVK8BkMnfG8vOSKfpPIZdAfdE",
    ),
    (
        "WyJQYzMzSk0yTGNoY1VfbEhnZ3ZfdWZRIiwgImJpcnRoZGF0ZSIsICIxOTQwLTAxLTAxIl0",
        ["Pc33JM2LchcU_lHggv_ufQ", "birthdate", "1940-01-01"],
        "gbOsI4Edq2x2Kw-w5wPEzakob9hV1cRD0ATN3oQL9JM",
    ),
    (
        "WyJHMDJOU3JRZmpGWFE3SW8wOXN5YWpBIiwgInVwZGF0ZWRfYXQiLCAxNTcwMDAwMDAwXQ",
        ["G02NSrQfjFXQ7Io09syajA", "updated_at", 1570000000],
        "CrQe7S5kqBAHt-nMYXgc6bdt2SH5aTY1sU_M-PgkjPI",
    ),
    (
        "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0",
        ["lklxF5jMYlGTPUovMNIvCA", "US"],
        "pFndjkZ_VCzmyTa6UjlZo3dh-ko8aIKQc9DlGzhaVYo",
    ),
    (
        "WyJuUHVvUW5rUkZxM0JJZUFtN0FuWEZBIiwgIkRFIl0",
        ["nPuoQnkRFq3BIeAm7AnXFA", "DE"],
        "7Cf6JkPudry3lcbwHgeZ8khAv1U1OSlerP0VkBJrWZ0",
    ),
]
# Keyed by claim name, or by value for the two array elements.
DISCLOSURE_BY_NAME = {d[1][1]: d[0] for d in RFC_DISCLOSURES[2:]}
# The disclosures of a plain value (not an object, which our issuer would conceal member by member).
RFC_FLAT_DISCLOSURES = [d for d in RFC_DISCLOSURES if not isinstance(d[1][-1], dict)]

# §5.1/§5.2: the Issuer-signed JWT (header {"alg": "ES256", "typ": "example+sd-jwt"}).
RFC_ISSUER_JWT = (
    "eyJhbGciOiAiRVMyNTYiLCAidHlwIjogImV4YW1wbGUrc2Qtand0In0.eyJfc2QiOiBbIkNyUWU3UzVrcUJBSHQtbk1ZWGdjNmJkdDJTSDVhVFkxc1V"
    "fTS1QZ2tqUEkiLCAiSnpZakg0c3ZsaUgwUjNQeUVNZmVadTZKdDY5dTVxZWhabzdGN0VQWWxTRSIsICJQb3JGYnBLdVZ1Nnh5bUphZ3ZrRnNGWEFiUm"
    "9jMkpHbEFVQTJCQTRvN2NJIiwgIlRHZjRvTGJnd2Q1SlFhSHlLVlFaVTlVZEdFMHc1cnREc3JaemZVYW9tTG8iLCAiWFFfM2tQS3QxWHlYN0tBTmtxV"
    "lI2eVoyVmE1TnJQSXZQWWJ5TXZSS0JNTSIsICJYekZyendzY002R242Q0pEYzZ2Vks4QmtNbmZHOHZPU0tmcFBJWmRBZmRFIiwgImdiT3NJNEVkcTJ4"
    "Mkt3LXc1d1BFemFrb2I5aFYxY1JEMEFUTjNvUUw5Sk0iLCAianN1OXlWdWx3UVFsaEZsTV8zSmx6TWFTRnpnbGhRRzBEcGZheVF3TFVLNCJdLCAiaXN"
    "zIjogImh0dHBzOi8vaXNzdWVyLmV4YW1wbGUuY29tIiwgImlhdCI6IDE2ODMwMDAwMDAsICJleHAiOiAxODgzMDAwMDAwLCAic3ViIjogInVzZXJfND"
    "IiLCAibmF0aW9uYWxpdGllcyI6IFt7Ii4uLiI6ICJwRm5kamtaX1ZDem15VGE2VWpsWm8zZGgta284YUlLUWM5RGxHemhhVllvIn0sIHsiLi4uIjogI"
    "jdDZjZKa1B1ZHJ5M2xjYndIZ2VaOGtoQXYxVTFPU2xlclAwVmtCSnJXWjAifV0sICJfc2RfYWxnIjogInNoYS0yNTYiLCAiY25mIjogeyJqd2siOiB7"
    "Imt0eSI6ICJFQyIsICJjcnYiOiAiUC0yNTYiLCAieCI6ICJUQ0FFUjE5WnZ1M09IRjRqNFc0dmZTVm9ISVAxSUxpbERsczd2Q2VHZW1jIiwgInkiOiA"
    "iWnhqaVdXYlpNUUdIVldLVlE0aGJTSWlyc1ZmdWVjQ0U2dDRqVDlGMkhaUSJ9fX0.MczwjBFGtzf-6WMT-hIvYbkb11NrV1WMO-jTijpMPNbswNzZ87w"
    "Y2uHz-CXo6R04b7jYrpj9mNRAvVssXou1iw"
)
# §5.2: the Key Binding JWT, payload {"nonce": "1234567890", "aud": "https://verifier.example.org",
# "iat": 1748537244, "sd_hash": "0_Af-2B-EhLWX5ydh_w2xzwmO6iM66B_2QCEanI4fUY"}.
RFC_KB_JWT = (
    "eyJhbGciOiAiRVMyNTYiLCAidHlwIjogImtiK2p3dCJ9.eyJub25jZSI6ICIxMjM0NTY3ODkwIiwgImF1ZCI6ICJodHRwczovL3ZlcmlmaWVyLmV4YW1"
    "wbGUub3JnIiwgImlhdCI6IDE3NDg1MzcyNDQsICJzZF9oYXNoIjogIjBfQWYtMkItRWhMV1g1eWRoX3cyeHp3bU82aU02NkJfMlFDRWFuSTRmVVkifQ"
    ".T3SIus2OidNl41nmVkTZVCKKhOAX97aOldMyHFiYjHm261eLiJ1YiuONFiMN8QlCmYzDlBLAdPvrXh52KaLgUQ"
)
RFC_SD_HASH = "0_Af-2B-EhLWX5ydh_w2xzwmO6iM66B_2QCEanI4fUY"
# §5.2: the presentation discloses family_name, address, given_name and nationalities[0] ("US").
RFC_PRESENTED = ["family_name", "address", "given_name", "US"]
RFC_PRESENTATION_WITHOUT_KB = RFC_ISSUER_JWT + "~" + "".join(DISCLOSURE_BY_NAME[n] + "~" for n in RFC_PRESENTED)
RFC_PRESENTATION = RFC_PRESENTATION_WITHOUT_KB + RFC_KB_JWT

# §5.2: what the Verifier has after verifying the presentation.
RFC_VERIFIED_CLAIMS = {
    "iss": "https://issuer.example.com",
    "iat": 1683000000,
    "exp": 1883000000,
    "sub": "user_42",
    "nationalities": ["US"],
    "cnf": {"jwk": RFC_HOLDER_JWK},
    "family_name": "Doe",
    "address": {"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate", "country": "US"},
    "given_name": "John",
}
# §5.1: the full issuance, processed (every disclosure shown).
RFC_ALL_CLAIMS = {
    **RFC_VERIFIED_CLAIMS,
    "nationalities": ["US", "DE"],
    "email": "johndoe@example.com",
    "phone_number": "+1-202-555-0101",
    "phone_number_verified": True,
    "birthdate": "1940-01-01",
    "updated_at": 1570000000,
}

JUST_AFTER_KB = RFC_KB_IAT + 5


def vector_id(vector):
    content = vector[1]
    return f"{content[1]}={content[-1]}"[:40] if len(content) == 3 else f"element={content[1]}"


def b64url_json(text):
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8"))


def verify_rfc(presentation=RFC_PRESENTATION, **overrides):
    arguments = {
        "typ": RFC_TYP,
        "require_key_binding": True,
        "aud": RFC_AUD,
        "nonce": RFC_NONCE,
        "now": JUST_AFTER_KB,
    }
    arguments.update(overrides)
    return sdjwt.verify(presentation, KeySet([RFC_ISSUER_JWK]), **arguments)


# ---------------------------------------------------------------------------------------------
# (a) Digests


@pytest.mark.parametrize(("disclosure", "content", "expected"), RFC_DISCLOSURES, ids=map(vector_id, RFC_DISCLOSURES))
def test_digest_of_rfc_disclosure_is_rfc_digest(disclosure, content, expected):
    assert sdjwt.digest(disclosure) == expected
    assert b64url_json(disclosure) == content


def test_digest_hashes_the_received_text_not_a_reencoding():
    # The same claim, encoded with "\u00f6" instead of raw UTF-8, is a different disclosure.
    escaped = base64.urlsafe_b64encode(json.dumps(RFC_DISCLOSURES[0][1]).encode()).rstrip(b"=").decode()
    assert b64url_json(escaped) == b64url_json(RFC_DISCLOSURES[0][0])
    assert sdjwt.digest(escaped) != RFC_DISCLOSURES[0][2]


def test_rfc_sd_hash_is_the_digest_of_the_presentation_without_kb_jwt():
    assert sdjwt.digest(RFC_PRESENTATION_WITHOUT_KB) == RFC_SD_HASH


# ---------------------------------------------------------------------------------------------
# (b) The §5.2 presentation verifies verbatim


def test_verify_accepts_rfc_presentation_with_key_binding():
    result = verify_rfc()
    assert result.claims == RFC_VERIFIED_CLAIMS
    assert result.header == {"alg": "ES256", "typ": RFC_TYP}
    assert result.disclosed == frozenset({"family_name", "address", "given_name", "nationalities.0"})
    assert result.key_binding == KeyBinding(aud=RFC_AUD, nonce=RFC_NONCE, iat=RFC_KB_IAT)
    assert result.issuer_key.jwk == RFC_ISSUER_JWK


def test_verify_accepts_rfc_presentation_with_single_verifying_key():
    result = sdjwt.verify(
        RFC_PRESENTATION,
        VerifyingKey(RFC_ISSUER_JWK),
        typ=RFC_TYP,
        require_key_binding=True,
        aud=RFC_AUD,
        nonce=RFC_NONCE,
        now=JUST_AFTER_KB,
    )
    assert result.claims == RFC_VERIFIED_CLAIMS


def test_verify_accepts_rfc_issuance_with_all_disclosures():
    issuance = RFC_ISSUER_JWT + "~" + "".join(d[0] + "~" for d in RFC_DISCLOSURES[2:])
    result = sdjwt.verify(issuance, KeySet([RFC_ISSUER_JWK]), typ=RFC_TYP, require_key_binding=False, now=1700000000)
    assert result.claims == RFC_ALL_CLAIMS
    assert result.key_binding is None
    assert result.disclosed == frozenset(
        {
            "given_name",
            "family_name",
            "email",
            "phone_number",
            "phone_number_verified",
            "address",
            "birthdate",
            "updated_at",
            "nationalities.0",
            "nationalities.1",
        }
    )


def test_verify_accepts_rfc_presentation_without_kb_when_not_required():
    result = verify_rfc(RFC_PRESENTATION_WITHOUT_KB, require_key_binding=False, aud=None, nonce=None)
    assert result.claims == RFC_VERIFIED_CLAIMS
    assert result.key_binding is None


# ---------------------------------------------------------------------------------------------
# (c) The §5.2 presentation refused for the wrong request or at the wrong time


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"nonce": "0987654321"}, "nonce_mismatch"),
        ({"aud": "https://other-verifier.example.org"}, "aud_mismatch"),
        ({"now": RFC_KB_IAT + 3600}, "kb_stale"),
        ({"now": RFC_KB_IAT - 3600}, "kb_stale"),
        ({"now": RFC_EXP + 3600}, "expired"),
        ({"typ": "dc+sd-jwt"}, "wrong_typ"),
    ],
    ids=["wrong-nonce", "wrong-aud", "kb-too-old", "kb-from-future", "after-exp", "wrong-typ"],
)
def test_verify_refuses_rfc_presentation(overrides, code):
    with pytest.raises(VerificationError) as caught:
        verify_rfc(**overrides)
    assert caught.value.code == code


def test_verify_refuses_rfc_presentation_without_kb_when_required():
    with pytest.raises(VerificationError) as caught:
        verify_rfc(RFC_PRESENTATION_WITHOUT_KB)
    assert caught.value.code == "key_binding_required"


def test_verify_refuses_rfc_kb_jwt_over_another_selection():
    # Leave out the given_name disclosure: the KB-JWT's sd_hash no longer matches.
    fewer = RFC_ISSUER_JWT + "~" + "".join(DISCLOSURE_BY_NAME[n] + "~" for n in ["family_name", "address", "US"])
    with pytest.raises(VerificationError) as caught:
        verify_rfc(fewer + RFC_KB_JWT)
    assert caught.value.code == "sd_hash_mismatch"


def test_verify_refuses_rfc_presentation_with_another_issuer_key():
    with pytest.raises(VerificationError) as caught:
        sdjwt.verify(
            RFC_PRESENTATION, KeySet([RFC_HOLDER_JWK]), typ=RFC_TYP, require_key_binding=True, now=JUST_AFTER_KB
        )
    assert caught.value.code == "bad_signature"


# ---------------------------------------------------------------------------------------------
# (d) Our disclosures for the RFC's salts hold the RFC's JSON arrays


@pytest.mark.parametrize(
    ("disclosure", "content", "expected"), RFC_FLAT_DISCLOSURES, ids=map(vector_id, RFC_FLAT_DISCLOSURES)
)
def test_our_disclosure_for_rfc_salt_decodes_to_rfc_array(disclosure, content, expected):
    salt = content[0]
    claims = {content[1]: content[2]} if len(content) == 3 else {"nationalities": [content[1]]}
    issued = sdjwt.issue(claims, SigningKey(RFC_ISSUER_PRIVATE_JWK), typ=RFC_TYP, max_decoys=0, salt=lambda: salt)
    _, disclosures, _ = sdjwt.split(issued)
    ours = next(d for d in disclosures if b64url_json(d) == content)
    # Only the JSON serialisation differs: the RFC's (", " separators, raw UTF-8) gives its exact text.
    rfc_style = json.dumps(b64url_json(ours), ensure_ascii=False).encode()
    assert base64.urlsafe_b64encode(rfc_style).rstrip(b"=").decode() == disclosure
    # And our verifier links our disclosure to what our issuer signed (an unlinked one is refused).
    result = sdjwt.verify(issued, VerifyingKey(RFC_ISSUER_JWK), typ=RFC_TYP, require_key_binding=False, now=1700000000)
    assert result.claims == claims
