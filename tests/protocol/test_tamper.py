"""Tamper tests: every changed presentation is refused, and always with a ``VerificationError``.

Hypothesis changes one valid SD-JWT VC presentation with Key Binding in many ways: characters, bits,
whole disclosures, keys, algorithms, times, audiences and nonces. The verifier must never accept the
result and must never fail with another exception type. Named attacks must fail with their exact code;
random damage only has to be refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from blauweknop.protocol import jws, sdjwt, sdjwt_vc
from blauweknop.protocol.encoding import b64url_decode, b64url_encode, json_dumps
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk
from blauweknop.protocol.sdjwt import DEFAULT_KB_MAX_AGE
from blauweknop.protocol.validity import DEFAULT_LEEWAY

# ---------------------------------------------------------------------------------------------
# One issuer, one holder, one realistic credential and one valid presentation, made once.

NOW = 1_800_000_000  # the verifier's clock: every time check below is exact
ISSUED = NOW - 3600
ISS = "https://toeslagen.example/blauweknop"
VCT = "https://stelsel.blauweknop.example/vct/financieel-overzicht/1"
AUD = "https://schuldhulp.gemeente-voorbeeldstad.example"
NONCE = "q8M2xV7pZ1bY4nR0wK3s"
CLAIMS: dict[str, Any] = {
    "naam": {"voornaam": "Sanne", "tussenvoegsel": "van der", "achternaam": "Berg"},
    "adres": {"straat": "Kerkstraat", "huisnummer": 12, "postcode": "8011 AB", "woonplaats": "Zwolle"},
    "inkomen": 312_550,  # bruto per maand, in eurocent
    "vorderingen": [
        {"schuldeiser": "Belastingdienst (fictief)", "kenmerk": "B-2025-0117", "bedragInCenten": 45_000},
        {"schuldeiser": "CJIB (fictief)", "kenmerk": "C-88412", "bedragInCenten": 9_550},
    ],
}
OTHER_CLAIMS: dict[str, Any] = {
    "naam": {"voornaam": "Mohammed", "achternaam": "El Idrissi"},
    "adres": {"straat": "Dorpsstraat", "huisnummer": 3, "woonplaats": "Assen"},
    "inkomen": 254_000,
    "vorderingen": [{"schuldeiser": "DUO (fictief)", "kenmerk": "D-1", "bedragInCenten": 120_000}],
}
# Claim paths a holder may choose to show; the valid presentation shows DISCLOSE.
PATHS = (
    "naam",
    "naam.voornaam",
    "naam.achternaam",
    "adres",
    "adres.straat",
    "adres.woonplaats",
    "inkomen",
    "vorderingen",
    "vorderingen.0",
    "vorderingen.1.bedragInCenten",
)
DISCLOSE = ("naam.voornaam", "naam.achternaam", "adres.straat", "adres.woonplaats", "inkomen", "vorderingen")

ISSUER = SigningKey(generate_jwk("ES256"))
HOLDER = SigningKey(generate_jwk("EdDSA"))
TRUSTED = KeySet([ISSUER.public_jwk])
# Keys that are not trusted for anything: one of each allowed algorithm.
ROGUE = {"ES256": SigningKey(generate_jwk("ES256")), "EdDSA": SigningKey(generate_jwk("EdDSA"))}
OTHER_HOLDER = {"ES256": SigningKey(generate_jwk("ES256")), "EdDSA": SigningKey(generate_jwk("EdDSA"))}

CREDENTIAL = sdjwt_vc.issue(CLAIMS, ISSUER, iss=ISS, vct=VCT, holder_jwk=HOLDER.public_jwk, now=ISSUED)
EXP = ISSUED + sdjwt_vc.DEFAULT_VALID_FOR
# Another credential of the same issuer for the same holder: its disclosures are genuine, but not ours.
OTHER_CREDENTIAL = sdjwt_vc.issue(OTHER_CLAIMS, ISSUER, iss=ISS, vct=VCT, holder_jwk=HOLDER.public_jwk, now=ISSUED)
FOREIGN_DISCLOSURES = OTHER_CREDENTIAL.split("~")[1:-1]


def present(paths: Iterable[str], *, aud: str = AUD, nonce: str = NONCE, now: int = NOW) -> str:
    """An honest presentation of CREDENTIAL showing ``paths``, with a KB-JWT made at ``now``."""
    return sdjwt_vc.present(CREDENTIAL, paths, holder_key=HOLDER, aud=aud, nonce=nonce, now=now)


def split(presentation: str) -> tuple[str, list[str], str]:
    """Issuer-signed JWT, disclosures and KB-JWT ("" when there is none) of a presentation."""
    jwt, *disclosures, kb_jwt = presentation.split("~")
    return jwt, disclosures, kb_jwt


def assemble(jwt: str, disclosures: Sequence[str], kb_jwt: str = "") -> str:
    return "~".join([jwt, *disclosures, kb_jwt])


def bind(jwt: str, disclosures: Sequence[str], *, holder: SigningKey = HOLDER) -> str:
    """``jwt`` and ``disclosures`` with a fresh KB-JWT over exactly them, as a colluding holder would make."""
    body = assemble(jwt, disclosures)
    return body + sdjwt.key_binding_jwt(body, holder, aud=AUD, nonce=NONCE, now=NOW)


def verify(presentation: str, *, aud: str = AUD, nonce: str = NONCE, now: int = NOW) -> sdjwt_vc.VerifiedCredential:
    return sdjwt_vc.verify(
        presentation, TRUSTED, status_lists=None, require_key_binding=True, aud=aud, nonce=nonce, now=now
    )


def rejected_with(presentation: str, *, aud: str = AUD, nonce: str = NONCE, now: int = NOW) -> str:
    """The error code the verifier refuses ``presentation`` with; any other exception propagates."""
    with pytest.raises(VerificationError) as info:
        verify(presentation, aud=aud, nonce=nonce, now=now)
    return info.value.code


def sign_compact(header: Mapping[str, Any], payload: Mapping[str, Any], key: SigningKey) -> str:
    """A compact JWS with exactly ``header``, signed by ``key`` (whatever the header claims)."""
    signing_input = b64url_encode(json_dumps(header).encode()) + "." + b64url_encode(json_dumps(payload).encode())
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))


PRESENTATION = present(DISCLOSE)
JWT, DISCLOSURES, KB_JWT = split(PRESENTATION)
JWT_HEADER, JWT_PAYLOAD = jws.unverified_parts(JWT)
KB_HEADER, KB_PAYLOAD = jws.unverified_parts(KB_JWT)

# ---------------------------------------------------------------------------------------------
# What may rightly be accepted after a change of characters.

B64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"  # in value order
ASCII = "".join(chr(c) for c in range(128))


def means_the_same(tampered: str) -> bool:
    """Whether ``tampered`` is only another spelling of PRESENTATION, which the verifier may accept.

    There are exactly two such spellings. Whitespace around the whole presentation: ``sdjwt.split``
    strips it on purpose. And a last character of the KB-JWT signature that differs only in the unused
    low bits of base64url: the signature bytes stay the same and nothing signs the KB-JWT's own text.
    Every other character is covered by a signature or by a digest over the text itself: the issuer
    JWT and the disclosures by sd_hash, a disclosure by its digest, the KB-JWT header and payload by
    the holder's signature. So this oracle must stay this narrow.
    """
    text = tampered.strip()
    if text == PRESENTATION:
        return True
    if "~" not in text:
        return False
    jwt, disclosures, kb_jwt = split(text)
    if (jwt, disclosures) != (JWT, DISCLOSURES):
        return False
    ours, theirs = KB_JWT.split("."), kb_jwt.split(".")
    if len(theirs) != 3 or theirs[:2] != ours[:2]:
        return False
    try:
        return b64url_decode(theirs[2]) == b64url_decode(ours[2])
    except VerificationError:
        return False


def assert_refused(tampered: str) -> None:
    """``tampered`` is refused with a VerificationError, unless it means the same as PRESENTATION."""
    try:
        verify(tampered)
    except VerificationError:
        return
    assert means_the_same(tampered), f"a tampered presentation was accepted: {tampered!r}"


def padding_twin(segment: str) -> str:
    """``segment`` with its last base64url character changed only in the bits that encode nothing."""
    unused = (1 << (len(segment) * 6 % 8)) - 1  # 86 characters for 64 bytes: the last 4 bits are unused
    assert unused, "this segment has no unused bits"
    value = B64URL.index(segment[-1])
    return segment[:-1] + B64URL[(value & ~unused) | ((value + 1) & unused)]


def significant_flip(segment: str) -> str:
    """``segment`` with its last base64url character changed in its most significant bit."""
    return segment[:-1] + B64URL[B64URL.index(segment[-1]) ^ 0b100000]


LAST = len(PRESENTATION) - 1
FIRST_DISCLOSURE = len(JWT) + 1
KB_SIGNATURE_TWIN = padding_twin(KB_JWT.split(".")[2])
JWT_SIGNATURE_TWIN = padding_twin(JWT.split(".")[2])


def _referenced_digests(value: Any) -> set[str]:
    """The digests in ``value`` (``_sd`` entries and ``...`` elements), not those inside the disclosures they name."""
    found: set[str] = set()
    if isinstance(value, dict):
        found.update(value.get("_sd", []))
        for name, member in value.items():
            if name == "...":
                found.add(member)
            elif name != "_sd":
                found |= _referenced_digests(member)
    elif isinstance(value, list):
        for element in value:
            found |= _referenced_digests(element)
    return found


def all_referenced(disclosures: Sequence[str]) -> bool:
    """Whether every disclosure is reachable from the signed payload through the other disclosures.

    An oracle written independently of ``sdjwt._Processor``: digests over the ASCII text (sha-256).
    """
    values = {
        b64url_encode(hashlib.sha256(d.encode("ascii")).digest()): json.loads(b64url_decode(d))[-1] for d in disclosures
    }
    reached: set[str] = set()
    todo = _referenced_digests(JWT_PAYLOAD)
    while todo:
        d = todo.pop()
        if d in values and d not in reached:
            reached.add(d)
            todo |= _referenced_digests(values[d])
    return reached == set(values)


subsets = st.lists(st.sampled_from(PATHS), unique=True, max_size=len(PATHS))
FEW = settings(max_examples=30, deadline=None)
SOME = settings(max_examples=80, deadline=None)
MANY = settings(max_examples=400, deadline=None)

# ---------------------------------------------------------------------------------------------
# Sanity: the untampered inputs verify, so every refusal below is caused by the tampering.


def test_untampered_presentation_verifies():
    result = verify(PRESENTATION)
    assert result.iss == ISS
    assert result.vct == VCT
    assert result.claims == {
        "naam": {"voornaam": "Sanne", "achternaam": "Berg"},
        "adres": {"straat": "Kerkstraat", "woonplaats": "Zwolle"},
        "inkomen": 312_550,
        "vorderingen": CLAIMS["vorderingen"],
    }
    assert result.expires_at == EXP
    assert result.holder_jwk == HOLDER.public_jwk
    assert result.key_binding == sdjwt.KeyBinding(aud=AUD, nonce=NONCE, iat=NOW)
    assert len(DISCLOSURES) >= 10


@FEW
@given(paths=subsets)
def test_honest_presentation_of_any_subset_verifies(paths):
    assert verify(present(paths)).key_binding is not None
    assert verify(bind(*split(present(paths))[:2])).key_binding is not None


def test_honest_presentation_verifies_until_the_leeway_after_exp():
    later = EXP + DEFAULT_LEEWAY - 1
    assert verify(present(DISCLOSE, now=later), now=later).expires_at == EXP


def test_equivalence_oracle_is_narrow():
    # The two spellings the verifier may accept ...
    assert means_the_same(" \n" + PRESENTATION + "\t")
    twin = PRESENTATION[:LAST] + KB_SIGNATURE_TWIN[-1]
    assert twin != PRESENTATION
    assert means_the_same(twin)
    # ... and nothing else, not even the same trick on the issuer's signature or a disclosure.
    jwt_twin = JWT.rsplit(".", 1)[0] + "." + JWT_SIGNATURE_TWIN
    assert not means_the_same(assemble(jwt_twin, DISCLOSURES, KB_JWT))
    i = next(i for i, d in enumerate(DISCLOSURES) if len(d) % 4)  # one with unused bits
    twins = [*DISCLOSURES[:i], padding_twin(DISCLOSURES[i]), *DISCLOSURES[i + 1 :]]
    assert not means_the_same(assemble(JWT, twins, KB_JWT))
    assert rejected_with(assemble(JWT, twins, KB_JWT)) == "unreferenced_disclosure"
    assert not means_the_same(significant_flip(PRESENTATION))
    assert not means_the_same(PRESENTATION + "~")
    assert not means_the_same(assemble(JWT, DISCLOSURES[1:], KB_JWT))


def test_padding_bit_flip_in_issuer_signature_is_rejected():
    """Same signature bytes, other text: the KB-JWT's sd_hash over the text catches it."""
    head, signature = JWT.rsplit(".", 1)
    assert b64url_decode(JWT_SIGNATURE_TWIN) == b64url_decode(signature)
    assert rejected_with(assemble(head + "." + JWT_SIGNATURE_TWIN, DISCLOSURES, KB_JWT)) == "sd_hash_mismatch"


# ---------------------------------------------------------------------------------------------
# Random damage to characters and bits: refused, whatever the code.


@MANY
@given(position=st.integers(0, LAST), char=st.sampled_from(B64URL + "~.=+/ "))
@example(position=LAST, char=KB_SIGNATURE_TWIN[-1])  # another spelling of the same signature bytes
@example(position=len(JWT) - 1, char=JWT_SIGNATURE_TWIN[-1])  # the same trick on the issuer's signature
@example(position=len(JWT), char=".")  # a '~' made a '.'
def test_flipped_character_is_rejected(position, char):
    assume(PRESENTATION[position] != char)
    assert_refused(PRESENTATION[:position] + char + PRESENTATION[position + 1 :])


@MANY
@given(position=st.integers(0, LAST), bit=st.integers(0, 6))
def test_flipped_bit_is_rejected(position, bit):
    flipped = chr(ord(PRESENTATION[position]) ^ (1 << bit))  # stays ASCII; see the non-ASCII test
    assert_refused(PRESENTATION[:position] + flipped + PRESENTATION[position + 1 :])


@MANY
@given(position=st.integers(0, LAST + 1), char=st.sampled_from(ASCII))
@example(position=LAST + 1, char="~")
@example(position=FIRST_DISCLOSURE, char="~")
def test_inserted_character_is_rejected(position, char):
    assert_refused(PRESENTATION[:position] + char + PRESENTATION[position:])


@MANY
@given(position=st.integers(0, LAST), length=st.integers(1, 80))
@example(position=LAST, length=1)
@example(position=len(JWT), length=1)  # the '~' after the issuer JWT
def test_deleted_characters_are_rejected(position, length):
    assert_refused(PRESENTATION[:position] + PRESENTATION[position + length :])


@MANY
@given(
    position=st.integers(0, LAST + 1),
    char=st.characters(min_codepoint=0x80),
    insert=st.booleans(),
)
@example(position=FIRST_DISCLOSURE, char="é", insert=False)
def test_non_ascii_character_is_rejected(position, char, insert):
    """A presentation is ASCII; any other character anywhere is damage and must be refused cleanly."""
    rest = position if insert else position + 1
    assert_refused(PRESENTATION[:position] + char + PRESENTATION[rest:])


LOCATIONS = [(s, p) for s, segment in enumerate(PRESENTATION.split("~")) for p in range(len(segment.split(".")))]


@MANY
@given(location=st.sampled_from(LOCATIONS), data=st.data())
def test_flipped_bit_in_decoded_content_is_rejected(location, data):
    """Flip a bit of the bytes a base64url part stands for: this always changes the content."""
    segments = [segment.split(".") for segment in PRESENTATION.split("~")]
    s, p = location
    raw = bytearray(b64url_decode(segments[s][p]))
    bit = data.draw(st.integers(0, len(raw) * 8 - 1), label="bit")
    raw[bit // 8] ^= 1 << (bit % 8)
    segments[s][p] = b64url_encode(bytes(raw))
    tampered = "~".join(".".join(parts) for parts in segments)
    assert tampered != PRESENTATION
    rejected_with(tampered)


# ---------------------------------------------------------------------------------------------
# Disclosures dropped, duplicated, reordered or taken from another credential.


@SOME
@given(drop=st.sets(st.integers(0, len(DISCLOSURES) - 1), min_size=1))
def test_dropped_disclosures_with_old_kb_jwt_are_rejected(drop):
    kept = [d for i, d in enumerate(DISCLOSURES) if i not in drop]
    # A kept disclosure whose parent was dropped belongs to nothing; otherwise the KB-JWT no longer fits.
    expected = "sd_hash_mismatch" if all_referenced(kept) else "unreferenced_disclosure"
    assert rejected_with(assemble(JWT, kept, KB_JWT)) == expected


@SOME
@given(
    source=st.integers(0, len(DISCLOSURES) - 1),
    target=st.integers(0, len(DISCLOSURES)),
    fresh_kb=st.booleans(),
)
def test_duplicated_disclosure_is_rejected(source, target, fresh_kb):
    disclosures = list(DISCLOSURES)
    disclosures.insert(target, DISCLOSURES[source])
    tampered = bind(JWT, disclosures) if fresh_kb else assemble(JWT, disclosures, KB_JWT)
    assert rejected_with(tampered) == "duplicate_disclosure"


@SOME
@given(order=st.permutations(DISCLOSURES))
def test_reordered_disclosures_with_old_kb_jwt_are_rejected(order):
    assume(order != DISCLOSURES)
    assert rejected_with(assemble(JWT, order, KB_JWT)) == "sd_hash_mismatch"


@SOME
@given(
    foreign=st.lists(st.sampled_from(FOREIGN_DISCLOSURES), min_size=1, unique=True),
    replace=st.booleans(),
    fresh_kb=st.booleans(),
    data=st.data(),
)
def test_foreign_disclosures_are_rejected(foreign, replace, fresh_kb, data):
    """Genuine disclosures of another credential of the same issuer do not belong to this one."""
    disclosures = list(DISCLOSURES)
    for d in foreign:
        if replace and disclosures:
            disclosures[data.draw(st.integers(0, len(disclosures) - 1), label="replaced")] = d
        else:
            disclosures.insert(data.draw(st.integers(0, len(disclosures)), label="inserted at"), d)
    tampered = bind(JWT, disclosures) if fresh_kb else assemble(JWT, disclosures, KB_JWT)
    assert rejected_with(tampered) == "unreferenced_disclosure"


# ---------------------------------------------------------------------------------------------
# Keys and algorithms.


@SOME
@given(alg=st.sampled_from(sorted(ROGUE)), kid=st.sampled_from(["own", "trusted", "absent"]), paths=subsets)
def test_resigned_by_untrusted_key_is_rejected(alg, kid, paths):
    """The payload re-signed by a key that is not trusted, after binding it to the attacker's holder key."""
    rogue, attacker = ROGUE[alg], OTHER_HOLDER["EdDSA"]
    payload = {**JWT_PAYLOAD, "cnf": {"jwk": attacker.public_jwk}, "exp": EXP + 10 * 365 * 86400}
    header = {"alg": rogue.alg, "typ": sdjwt_vc.TYP}
    if kid != "absent":
        header["kid"] = rogue.kid if kid == "own" else ISSUER.kid
    forged = sign_compact(header, payload, rogue)
    tampered = bind(forged, split(present(paths))[1], holder=attacker)
    # With a kid of its own the key is unknown; otherwise the trusted key is found (by kid, or as the
    # only one) and the signature, or the algorithm, does not match it.
    same_alg = rogue.alg == ISSUER.alg
    expected = "unknown_key" if kid == "own" else "bad_signature" if same_alg else "alg_not_allowed"
    assert rejected_with(tampered) == expected


@SOME
@given(alg=st.sampled_from(sorted(OTHER_HOLDER)), paths=subsets)
def test_kb_jwt_signed_by_other_holder_key_is_rejected(alg, paths):
    jwt, disclosures, _ = split(present(paths))
    tampered = bind(jwt, disclosures, holder=OTHER_HOLDER[alg])
    assert rejected_with(tampered) == ("bad_signature" if alg == HOLDER.alg else "alg_not_allowed")


def _unsigned_variant(target: str, alg: str, signature: Any, keep_kid: bool) -> str:
    """PRESENTATION with the issuer JWT or KB-JWT replaced by one with header ``alg`` and ``signature(input)``."""
    if target == "issuer":
        header, payload = {**JWT_HEADER, "alg": alg}, JWT_PAYLOAD
    else:
        header, payload = {**KB_HEADER, "alg": alg}, KB_PAYLOAD
    if not keep_kid:
        header.pop("kid", None)
    signing_input = b64url_encode(json_dumps(header).encode()) + "." + b64url_encode(json_dumps(payload).encode())
    token = signing_input + "." + signature(signing_input.encode("ascii"))
    if target == "issuer":
        return bind(token, DISCLOSURES)  # the holder plays along: only the issuer JWT is forged
    return assemble(JWT, DISCLOSURES, token)


@SOME
@given(
    target=st.sampled_from(["issuer", "kb"]),
    alg=st.sampled_from(["none", "None", "NONE", "nOnE"]),
    keep_kid=st.booleans(),
)
def test_alg_none_with_empty_signature_is_rejected(target, alg, keep_kid):
    tampered = _unsigned_variant(target, alg, lambda _: "", keep_kid)
    assert tampered.split("~")[0 if target == "issuer" else -1].endswith(".")
    assert rejected_with(tampered) == "alg_not_allowed"


def _public_key_secrets(jwk: Mapping[str, Any]) -> list[bytes]:
    """Every form of a public key an attacker might hope a verifier uses as an HMAC secret."""
    x = b64url_decode(jwk["x"])
    if jwk["kty"] == "EC":
        y = b64url_decode(jwk["y"])
        numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1())
        key: Any = numbers.public_key()
        raw = b"\x04" + x + y
    else:
        key = ed25519.Ed25519PublicKey.from_public_bytes(x)
        raw = x
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return [
        raw,
        json_dumps(jwk).encode(),
        json.dumps(jwk).encode(),
        key.public_bytes(serialization.Encoding.PEM, spki),
        key.public_bytes(serialization.Encoding.DER, spki),
    ]


HMAC_SECRETS = {"issuer": _public_key_secrets(ISSUER.public_jwk), "kb": _public_key_secrets(HOLDER.public_jwk)}
HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


@SOME
@given(
    target=st.sampled_from(["issuer", "kb"]),
    alg=st.sampled_from(sorted(HMAC_HASHES)),
    secret=st.integers(0, len(HMAC_SECRETS["kb"]) - 1),
    keep_kid=st.booleans(),
)
@example(target="issuer", alg="HS256", secret=0, keep_kid=True)
@example(target="kb", alg="HS256", secret=0, keep_kid=True)
def test_hmac_with_public_key_as_secret_is_rejected(target, alg, secret, keep_kid):
    key = HMAC_SECRETS[target][secret]

    def mac(signing_input: bytes) -> str:
        return b64url_encode(hmac.new(key, signing_input, HMAC_HASHES[alg]).digest())

    assert rejected_with(_unsigned_variant(target, alg, mac, keep_kid)) == "alg_not_allowed"


# ---------------------------------------------------------------------------------------------
# Time, audience, nonce and replay.


@SOME
@given(after=st.integers(0, 10**9))
@example(after=0)
def test_expired_credential_is_rejected(after):
    later = EXP + DEFAULT_LEEWAY + after
    assert rejected_with(present(DISCLOSE, now=later), now=later) == "expired"


@SOME
@given(other=st.text(max_size=80).filter(lambda s: s != AUD), presented_for_other=st.booleans())
def test_wrong_aud_is_rejected(other, presented_for_other):
    if presented_for_other:  # made for another verifier, shown to us
        assert rejected_with(present(DISCLOSE, aud=other)) == "aud_mismatch"
    else:  # made for us, shown to another verifier
        assert rejected_with(PRESENTATION, aud=other) == "aud_mismatch"


@SOME
@given(other=st.text(max_size=80).filter(lambda s: s != NONCE), presented_for_other=st.booleans())
def test_wrong_nonce_is_rejected(other, presented_for_other):
    if presented_for_other:  # an answer to another request
        assert rejected_with(present(DISCLOSE, nonce=other)) == "nonce_mismatch"
    else:
        assert rejected_with(PRESENTATION, nonce=other) == "nonce_mismatch"


@SOME
@given(first=subsets, second=subsets)
def test_replayed_kb_jwt_on_other_disclosures_is_rejected(first, second):
    _, first_disclosures, kb_jwt = split(present(first))
    jwt, disclosures, _ = split(present(second))
    assume(disclosures != first_disclosures)
    assert rejected_with(assemble(jwt, disclosures, kb_jwt)) == "sd_hash_mismatch"


@SOME
@given(
    shift=st.one_of(
        st.integers(DEFAULT_KB_MAX_AGE + DEFAULT_LEEWAY + 1, EXP - NOW - DEFAULT_LEEWAY - 1),  # much later
        st.integers(ISSUED - NOW, -DEFAULT_LEEWAY - 1),  # a KB-JWT dated in the verifier's future
    )
)
@example(shift=DEFAULT_KB_MAX_AGE + DEFAULT_LEEWAY + 1)
@example(shift=-DEFAULT_LEEWAY - 1)
def test_old_kb_jwt_verified_later_is_rejected(shift):
    assert rejected_with(PRESENTATION, now=NOW + shift) == "kb_stale"


def test_kb_jwt_within_its_age_verifies():
    """The boundary of the property above: one second less and the same KB-JWT is fine."""
    assert verify(PRESENTATION, now=NOW + DEFAULT_KB_MAX_AGE + DEFAULT_LEEWAY).key_binding is not None
    assert verify(PRESENTATION, now=NOW - DEFAULT_LEEWAY).key_binding is not None


@SOME
@given(paths=subsets, strip_from_presentation=st.booleans())
def test_missing_kb_jwt_is_rejected(paths, strip_from_presentation):
    if strip_from_presentation:
        jwt, disclosures, _ = split(present(paths))
        tampered = assemble(jwt, disclosures)
    else:
        tampered = sdjwt_vc.present(CREDENTIAL, paths)
    assert tampered.endswith("~")
    assert rejected_with(tampered) == "key_binding_required"


# ---------------------------------------------------------------------------------------------
# A trusted issuer that made a plain claim selectively disclosable.

PLAIN = {"iss": ISS, "vct": VCT, "iat": ISSUED, "exp": EXP, "cnf": {"jwk": HOLDER.public_jwk}}
CONCEALABLE = ("exp", "iss", "cnf", "vct")
CRAFTED = {
    name: sdjwt.issue({**PLAIN, **CLAIMS}, ISSUER, typ=sdjwt_vc.TYP, visible=set(PLAIN) - {name})
    for name in CONCEALABLE
}


def _crafted_presentation(name: str, paths: Iterable[str]) -> str:
    # sdjwt.present cannot bind a credential whose cnf is not plain, so the KB-JWT is made by hand.
    jwt, disclosures, _ = split(sdjwt.present(CRAFTED[name], paths))
    return bind(jwt, disclosures)


@SOME
@given(name=st.sampled_from(CONCEALABLE), paths=subsets)
def test_plain_claim_made_disclosable_is_rejected(name, paths):
    assert rejected_with(_crafted_presentation(name, [name, *paths])) == "not_disclosable"


@SOME
@given(name=st.sampled_from(["iss", "vct", "cnf"]), paths=subsets)
def test_plain_claim_made_disclosable_and_hidden_is_rejected(name, paths):
    expected = "no_holder_key" if name == "cnf" else "missing_claim"
    assert rejected_with(_crafted_presentation(name, paths)) == expected
