import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from blauweknop.protocol import jws
from blauweknop.protocol.encoding import b64url_decode, b64url_encode
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.jwk import (
    KeySet,
    SigningKey,
    VerifyingKey,
    checked_public_jwk,
    generate_jwk,
    jwks,
    public_jwk,
    thumbprint,
)

# RFC 7638 §3.1 gives this thumbprint for an RSA key; RSA is not allowed here, so we use the
# RFC 8037 §A.3 Ed25519 example, whose thumbprint the RFC states.
RFC8037_PUBLIC = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC8037_PRIVATE = {**RFC8037_PUBLIC, "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_SIGNATURE = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_generated_keys_sign_and_verify(alg):
    jwk = generate_jwk(alg)
    assert jwk["alg"] == alg and jwk["kid"] == thumbprint(jwk) and "d" in jwk
    signer = SigningKey(jwk)
    verifier = VerifyingKey(public_jwk(jwk))
    signature = signer.sign(b"hallo")
    assert verifier.verify(signature, b"hallo")
    assert not verifier.verify(signature, b"hallo!")


def test_public_part_has_no_private_member():
    jwk = generate_jwk()
    public = public_jwk(jwk)
    assert "d" not in public and public["x"] == jwk["x"]
    assert jwks([jwk]) == {"keys": [public]}


def test_thumbprint_matches_rfc_8037_example():
    assert thumbprint(RFC8037_PUBLIC) == RFC8037_THUMBPRINT
    assert thumbprint(RFC8037_PRIVATE) == RFC8037_THUMBPRINT


def test_eddsa_signature_matches_rfc_8037_example():
    # EdDSA is deterministic, so the RFC's JWS must come out byte for byte.
    signing_input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    assert b64url_encode(SigningKey(RFC8037_PRIVATE).sign(signing_input)) == RFC8037_SIGNATURE


def test_es256_signatures_are_raw_r_and_s():
    key = SigningKey(generate_jwk("ES256"))
    signature = key.sign(b"data")
    assert len(signature) == 64
    # Independently of our code: the r||s halves, put in DER, verify with plain cryptography.
    x, y = (int.from_bytes(b64url_decode(key.public_jwk[c]), "big") for c in ("x", "y"))
    public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public.verify(der, b"data", ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
        {**RFC8037_PUBLIC, "alg": "ES256"},
        {"kty": "EC", "crv": "P-256", "x": RFC8037_PUBLIC["x"], "y": RFC8037_PUBLIC["x"]},  # not on the curve
    ],
)
def test_keys_outside_the_allow_list_or_broken_are_refused(jwk):
    with pytest.raises(InvalidInput) as caught:
        VerifyingKey(jwk)
    assert caught.value.code == "bad_key"


def test_a_private_key_whose_public_part_does_not_match_is_refused():
    other = generate_jwk("EdDSA")
    with pytest.raises(InvalidInput):
        SigningKey({**RFC8037_PRIVATE, "x": other["x"]})


def test_signing_needs_a_private_key():
    with pytest.raises(InvalidInput):
        SigningKey(RFC8037_PUBLIC)


def test_generating_a_key_for_another_algorithm_is_refused():
    with pytest.raises(InvalidInput) as caught:
        generate_jwk("HS256")
    assert caught.value.code == "alg_not_allowed"


def test_key_set_finds_keys_by_kid_and_refuses_unknown_ones():
    a, b = generate_jwk(), generate_jwk("EdDSA")
    keys = KeySet.from_jwks(jwks([a, b]))
    assert keys.find(b["kid"]).alg == "EdDSA"
    with pytest.raises(VerificationError) as caught:
        keys.find("nope")
    assert caught.value.code == "unknown_key"
    with pytest.raises(VerificationError):
        keys.find(None)  # two keys and no kid: refuse rather than guess
    assert KeySet.from_jwks(public_jwk(a)).find(None).kid == a["kid"]


def _forge(header: dict, payload: dict, signature: bytes = b"") -> str:
    return ".".join(
        [
            b64url_encode(json.dumps(header).encode()),
            b64url_encode(json.dumps(payload).encode()),
            b64url_encode(signature),
        ]
    )


def test_jws_round_trip_and_typ_check():
    key = SigningKey(generate_jwk())
    token = jws.sign({"iss": "x", "n": 1}, key, "test+jwt")
    verified = jws.verify(token, KeySet([key.public_jwk]), "test+jwt")
    assert verified.payload == {"iss": "x", "n": 1}
    assert verified.header == {"alg": "ES256", "typ": "test+jwt", "kid": key.kid}
    with pytest.raises(VerificationError) as caught:
        jws.verify(token, KeySet([key.public_jwk]), "other+jwt")
    assert caught.value.code == "wrong_typ"


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES384", None])
def test_jws_refuses_algorithms_outside_the_allow_list(alg):
    key = SigningKey(generate_jwk())
    token = _forge({"alg": alg, "typ": "test+jwt", "kid": key.kid}, {"iss": "x"})
    with pytest.raises(VerificationError) as caught:
        jws.verify(token, KeySet([key.public_jwk]), "test+jwt")
    assert caught.value.code == "alg_not_allowed"


def test_jws_refuses_an_algorithm_that_does_not_match_the_key():
    es, ed = SigningKey(generate_jwk("ES256")), SigningKey(generate_jwk("EdDSA"))
    token = jws.sign({"iss": "x"}, ed, "test+jwt")
    with pytest.raises(VerificationError) as caught:
        jws.verify(token, VerifyingKey(es.public_jwk), "test+jwt")
    assert caught.value.code == "alg_not_allowed"


def test_jws_refuses_critical_extensions_and_duplicate_members():
    key = SigningKey(generate_jwk())
    token = _forge({"alg": "ES256", "typ": "test+jwt", "crit": ["x"], "x": 1}, {})
    with pytest.raises(VerificationError) as caught:
        jws.verify(token, KeySet([key.public_jwk]), "test+jwt")
    assert caught.value.code == "malformed"
    header = b64url_encode(b'{"alg":"ES256","typ":"test+jwt","typ":"other"}')
    with pytest.raises(VerificationError):
        jws.verify(header + ".e30.AA", KeySet([key.public_jwk]), "test+jwt")


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!!.e30.AA", "e30=.e30.AA", 42])
def test_jws_refuses_garbage_with_a_protocol_error(token):
    with pytest.raises(VerificationError):
        jws.verify(token, KeySet([generate_jwk()]), "test+jwt")


def test_base64url_is_strict():
    assert b64url_decode("aGFsbG8") == b"hallo"
    for bad in ("aGFsbG8=", "aGF+bG8", "a"):
        with pytest.raises(VerificationError):
            b64url_decode(bad)


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_checked_public_jwk_accepts_real_keys_and_strips_private_parts(alg):
    jwk = generate_jwk(alg)
    assert checked_public_jwk(public_jwk(jwk)) == public_jwk(jwk)
    with pytest.raises(InvalidInput):
        checked_public_jwk(jwk)  # never accept a private key where a public one is asked for


def test_checked_public_jwk_refuses_points_off_the_curve():
    jwk = public_jwk(generate_jwk("ES256"))
    y = int.from_bytes(b64url_decode(jwk["y"]), "big")
    off_curve = {**jwk, "y": b64url_encode(((y + 1) % 2**256).to_bytes(32, "big"))}
    too_large = {**jwk, "x": b64url_encode(b"\xff" * 32)}
    for bad in (off_curve, too_large, {"kty": "oct", "k": "AA"}, "not a key"):
        with pytest.raises(InvalidInput) as caught:
            checked_public_jwk(bad)
        assert caught.value.code == "bad_key"
    # The same verdict as the full loader, which lets OpenSSL check the point.
    with pytest.raises(InvalidInput):
        VerifyingKey(off_curve)
