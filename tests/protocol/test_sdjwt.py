"""RFC 9901 rules: issuing, presenting and every verification check."""

import itertools

import pytest

from blauweknop.protocol import jws, sdjwt
from blauweknop.protocol.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.jwk import SigningKey, generate_jwk

from .conftest import CLAIMS, NOW

TYP = "example+sd-jwt"


def _issue(issuer_key, holder_key=None, claims=CLAIMS, **kwargs):
    plain = {"iss": "https://issuer.example", "iat": NOW, "exp": NOW + 3600}
    if holder_key is not None:
        plain["cnf"] = {"jwk": holder_key.public_jwk}
    return sdjwt.issue({**plain, **claims}, issuer_key, typ=TYP, visible=plain, **kwargs)


def _verify(token, issuer_keys, **kwargs):
    kwargs.setdefault("require_key_binding", False)
    kwargs.setdefault("now", NOW)
    return sdjwt.verify(token, issuer_keys, typ=TYP, **kwargs)


def _code(call, *args, **kwargs):
    with pytest.raises(VerificationError) as caught:
        call(*args, **kwargs)
    return caught.value.code


def _disclosure(*content):
    return b64url_encode(json_dumps(list(content)).encode())


def _signed(issuer_key, payload, disclosures=()):
    """An SD-JWT with exactly this payload and these disclosures, signed by the trusted issuer."""
    return jws.sign({"_sd_alg": "sha-256", **payload}, issuer_key, TYP) + "~" + "".join(d + "~" for d in disclosures)


# --- issuing ---------------------------------------------------------------------------------


def test_every_data_claim_is_hidden_behind_a_digest(issuer_key):
    token = _issue(issuer_key)
    _, payload = jws.unverified_parts(token.split("~")[0])
    assert set(payload) == {"iss", "iat", "exp", "_sd", "_sd_alg"}
    assert payload["_sd_alg"] == "sha-256"
    assert payload["_sd"] == sorted(payload["_sd"])
    for value in CLAIMS.values():
        assert json_dumps(value) not in token  # no data claim in plain view in the payload


def test_nested_members_and_array_elements_are_disclosable_too(issuer_key):
    disclosures = [json_loads(b64url_decode(d)) for d in _issue(issuer_key).split("~")[1:-1]]
    names = {d[1] for d in disclosures if len(d) == 3}
    assert {"voornaam", "woonplaats", "schuldeiser", "vorderingen"} <= names
    assert sum(1 for d in disclosures if len(d) == 2) == 2  # the two vorderingen
    vorderingen = next(d[2] for d in disclosures if len(d) == 3 and d[1] == "vorderingen")
    assert all(set(element) == {"..."} for element in vorderingen)


def test_salts_are_at_least_128_bits_and_never_repeat(issuer_key):
    salts = [json_loads(b64url_decode(d))[0] for d in _issue(issuer_key).split("~")[1:-1]]
    assert all(len(b64url_decode(s)) >= 16 for s in salts)
    assert len(set(salts)) == len(salts)


def test_decoys_are_added_so_the_number_of_claims_does_not_show(issuer_key):
    counts = set()
    for _ in range(20):
        token = _issue(issuer_key)
        _, payload = jws.unverified_parts(token.split("~")[0])
        counts.add(len(payload["_sd"]))
        assert len(payload["_sd"]) >= len(CLAIMS)
    assert len(counts) > 1
    token = _issue(issuer_key, max_decoys=0)
    assert len(jws.unverified_parts(token.split("~")[0])[1]["_sd"]) == len(CLAIMS)


def test_a_fixed_salt_makes_disclosures_reproducible(issuer_key):
    counter = itertools.count()
    token = _issue(issuer_key, claims={"a": 1}, salt=lambda: f"salt{next(counter)}", max_decoys=0)
    disclosure = token.split("~")[1]
    assert json_loads(b64url_decode(disclosure)) == ["salt0", "a", 1]
    _, payload = jws.unverified_parts(token.split("~")[0])
    assert payload["_sd"] == [sdjwt.digest(disclosure)]


@pytest.mark.parametrize("name", ["_sd", "...", "_sd_alg"])
def test_reserved_names_cannot_be_issued(issuer_key, name):
    with pytest.raises(InvalidInput) as caught:
        sdjwt.issue({name: 1}, issuer_key, typ=TYP)
    assert caught.value.code == "bad_claims"


def test_the_full_issuance_verifies_with_every_claim(issuer_key, issuer_keys):
    result = _verify(_issue(issuer_key), issuer_keys)
    assert {k: result.claims[k] for k in CLAIMS} == CLAIMS
    assert "_sd_alg" not in result.claims and "_sd" not in str(result.claims)
    assert "vorderingen.1.schuldeiser" in result.disclosed
    assert result.key_binding is None


# --- presenting ------------------------------------------------------------------------------


def test_a_presentation_shows_exactly_the_chosen_paths(issuer_key, issuer_keys):
    token = _issue(issuer_key)
    presentation = sdjwt.present(token, ["adres.woonplaats", "naam"])
    claims = _verify(presentation, issuer_keys).claims
    assert claims["adres"] == {"woonplaats": "Voorbeeldstad"}
    assert claims["naam"] == CLAIMS["naam"]  # a path shows everything inside it
    assert not {"geboorte", "inkomen", "vorderingen"} & set(claims)


def test_array_elements_are_chosen_by_position(issuer_key, issuer_keys):
    presentation = sdjwt.present(_issue(issuer_key), ["vorderingen.1.openstaandBedragInCenten"])
    claims = _verify(presentation, issuer_keys).claims
    # The verifier sees only the element that was shown, so it becomes element 0 there.
    assert claims["vorderingen"] == [{"openstaandBedragInCenten": 9_500}]


def test_presenting_nothing_shows_only_plain_claims(issuer_key, issuer_keys):
    result = _verify(sdjwt.present(_issue(issuer_key), []), issuer_keys)
    assert set(result.claims) == {"iss", "iat", "exp"}
    assert result.disclosed == frozenset()


@pytest.mark.parametrize("path", ["adres.postcode", "vorderingen.2", "naam.voornaam.x", "", "adres..straat"])
def test_a_path_that_is_not_in_the_credential_is_refused(issuer_key, path):
    with pytest.raises(InvalidInput) as caught:
        sdjwt.present(_issue(issuer_key), [path])
    assert caught.value.code == "bad_path"


def test_key_binding_proves_the_holder_presented_it(issuer_key, issuer_keys, holder_key):
    token = _issue(issuer_key, holder_key)
    presentation = sdjwt.present(
        token, ["naam"], holder_key=holder_key, aud="https://bank.example", nonce="n-1", now=NOW
    )
    result = _verify(presentation, issuer_keys, require_key_binding=True, aud="https://bank.example", nonce="n-1")
    assert result.key_binding == sdjwt.KeyBinding("https://bank.example", "n-1", NOW)
    kb_header, kb_payload = jws.unverified_parts(presentation.rsplit("~", 1)[1])
    assert kb_header["typ"] == "kb+jwt"
    assert kb_payload["sd_hash"] == sdjwt.digest(presentation.rsplit("~", 1)[0] + "~")


def test_only_the_bound_holder_key_can_make_key_binding(issuer_key, holder_key):
    other = SigningKey(generate_jwk("EdDSA"))
    with pytest.raises(InvalidInput) as caught:
        sdjwt.present(_issue(issuer_key, holder_key), ["naam"], holder_key=other, aud="a", nonce="n")
    assert caught.value.code == "bad_key"
    with pytest.raises(InvalidInput) as caught:
        sdjwt.present(_issue(issuer_key), ["naam"], holder_key=holder_key, aud="a", nonce="n")
    assert caught.value.code == "no_holder_key"


def test_a_presentation_cannot_be_presented_again(issuer_key, holder_key):
    presentation = sdjwt.present(_issue(issuer_key, holder_key), ["naam"], holder_key=holder_key, aud="a", nonce="n")
    with pytest.raises(InvalidInput):
        sdjwt.present(presentation, ["naam"])


# --- verifying: structure --------------------------------------------------------------------


def test_a_digest_that_appears_twice_is_refused(issuer_key, issuer_keys):
    d = _disclosure("salt-a", "naam", "Jan")
    digest = sdjwt.digest(d)
    token = _signed(issuer_key, {"_sd": [digest], "adres": {"_sd": [digest]}}, [d])
    assert _code(_verify, token, issuer_keys) == "duplicate_digest"


def test_a_decoy_digest_that_appears_twice_is_refused_too(issuer_key, issuer_keys):
    decoy = b64url_encode(b"x" * 32)
    token = _signed(issuer_key, {"_sd": [decoy, decoy]})
    assert _code(_verify, token, issuer_keys) == "duplicate_digest"


def test_a_disclosure_sent_twice_is_refused(issuer_key, issuer_keys):
    d = _disclosure("salt-a", "naam", "Jan")
    token = _signed(issuer_key, {"_sd": [sdjwt.digest(d)]}, [d, d])
    assert _code(_verify, token, issuer_keys) == "duplicate_disclosure"


def test_a_disclosure_no_digest_refers_to_is_refused(issuer_key, issuer_keys):
    d = _disclosure("salt-a", "naam", "Jan")
    stray = _disclosure("salt-b", "bsn", "999993653")
    token = _signed(issuer_key, {"_sd": [sdjwt.digest(d)]}, [d, stray])
    assert _code(_verify, token, issuer_keys) == "unreferenced_disclosure"


def test_a_nested_disclosure_without_its_parent_is_unreferenced(issuer_key, issuer_keys):
    child = _disclosure("salt-c", "woonplaats", "Utrecht")
    parent = _disclosure("salt-p", "adres", {"_sd": [sdjwt.digest(child)]})
    token = _signed(issuer_key, {"_sd": [sdjwt.digest(parent)]}, [child])
    assert _code(_verify, token, issuer_keys) == "unreferenced_disclosure"
    full = _signed(issuer_key, {"_sd": [sdjwt.digest(parent)]}, [child, parent])
    assert _verify(full, issuer_keys).claims["adres"] == {"woonplaats": "Utrecht"}


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_a_disclosure_with_a_reserved_name_is_refused(issuer_key, issuer_keys, name):
    d = _disclosure("salt-a", name, ["x"])
    token = _signed(issuer_key, {"_sd": [sdjwt.digest(d)]}, [d])
    assert _code(_verify, token, issuer_keys) == "reserved_claim_name"


def test_a_disclosed_claim_may_not_overwrite_a_plain_one(issuer_key, issuer_keys):
    d = _disclosure("salt-a", "iss", "https://evil.example")
    token = _signed(issuer_key, {"iss": "https://issuer.example", "_sd": [sdjwt.digest(d)]}, [d])
    assert _code(_verify, token, issuer_keys) == "claim_conflict"


def test_disclosures_must_match_their_place(issuer_key, issuer_keys):
    element = _disclosure("salt-e", "Jan")
    member = _disclosure("salt-m", "naam", "Jan")
    wrong_in_object = _signed(issuer_key, {"_sd": [sdjwt.digest(element)]}, [element])
    wrong_in_array = _signed(issuer_key, {"lijst": [{"...": sdjwt.digest(member)}]}, [member])
    assert _code(_verify, wrong_in_object, issuer_keys) == "malformed"
    assert _code(_verify, wrong_in_array, issuer_keys) == "malformed"


@pytest.mark.parametrize(
    "content", [["only-salt"], [1, "naam", "x"], ["s", 2, "x"], ["s", "a", "b", "c"], {"salt": "s"}, "text"]
)
def test_malformed_disclosures_are_refused(issuer_key, issuer_keys, content):
    d = b64url_encode(json_dumps(content).encode())
    token = _signed(issuer_key, {"_sd": [sdjwt.digest(d)]}, [d])
    assert _code(_verify, token, issuer_keys) == "malformed"


def test_an_unsupported_digest_algorithm_is_refused(issuer_key, issuer_keys):
    token = jws.sign({"_sd_alg": "md5", "_sd": []}, issuer_key, TYP) + "~"
    assert _code(_verify, token, issuer_keys) == "unsupported_hash_alg"


def test_sha_512_digests_are_understood(issuer_key, issuer_keys):
    token = _issue(issuer_key, hash_alg="sha-512")
    assert _verify(token, issuer_keys).claims["naam"] == CLAIMS["naam"]


def test_a_plain_jwt_without_separators_is_refused(issuer_key, issuer_keys):
    jwt = jws.sign({"iss": "x"}, issuer_key, TYP)
    assert _code(_verify, jwt, issuer_keys) == "malformed"


# --- verifying: time ---------------------------------------------------------------------------


def test_time_claims_are_checked_with_a_small_leeway(issuer_key, issuer_keys):
    token = _issue(issuer_key)  # iat NOW, exp NOW + 3600
    assert _verify(token, issuer_keys, now=NOW + 3600 + 30).claims  # within the leeway
    assert _code(_verify, token, issuer_keys, now=NOW + 3600 + 61) == "expired"
    assert _code(_verify, token, issuer_keys, now=NOW - 61) == "issued_in_future"
    not_yet = _signed(issuer_key, {"nbf": NOW + 600})
    assert _code(_verify, not_yet, issuer_keys) == "not_yet_valid"
    bad_time = _signed(issuer_key, {"exp": "tomorrow"})
    assert _code(_verify, bad_time, issuer_keys) == "malformed"


# --- verifying: key binding ------------------------------------------------------------------


@pytest.fixture
def bound(issuer_key, holder_key):
    return _issue(issuer_key, holder_key)


def _present(bound, holder_key, aud="https://bank.example", nonce="n-1", now=NOW):
    return sdjwt.present(bound, ["naam"], holder_key=holder_key, aud=aud, nonce=nonce, now=now)


def test_key_binding_is_the_verifiers_policy_not_the_presenters(bound, issuer_keys):
    without = sdjwt.present(bound, ["naam"])
    assert _code(_verify, without, issuer_keys, require_key_binding=True) == "key_binding_required"
    assert _code(_verify, without, issuer_keys, aud="https://bank.example") == "key_binding_required"
    assert _verify(without, issuer_keys).claims["naam"]


def test_key_binding_for_another_receiver_is_refused(bound, holder_key, issuer_keys):
    presentation = _present(bound, holder_key, aud="https://other.example")
    code = _code(_verify, presentation, issuer_keys, require_key_binding=True, aud="https://bank.example", nonce="n-1")
    assert code == "aud_mismatch"


def test_key_binding_for_another_request_is_refused(bound, holder_key, issuer_keys):
    presentation = _present(bound, holder_key, nonce="n-2")
    code = _code(_verify, presentation, issuer_keys, require_key_binding=True, aud="https://bank.example", nonce="n-1")
    assert code == "nonce_mismatch"


def test_key_binding_must_be_fresh(bound, holder_key, issuer_keys):
    kwargs = {"require_key_binding": True, "aud": "https://bank.example", "nonce": "n-1"}
    assert _verify(_present(bound, holder_key, now=NOW - 300), issuer_keys, **kwargs)
    assert _code(_verify, _present(bound, holder_key, now=NOW - 400), issuer_keys, **kwargs) == "kb_stale"
    assert _code(_verify, _present(bound, holder_key, now=NOW + 120), issuer_keys, **kwargs) == "kb_stale"


def test_key_binding_covers_exactly_the_disclosures_shown(bound, holder_key, issuer_keys):
    presentation = _present(bound, holder_key)
    jwt, *disclosures, kb = presentation.split("~")
    extra = next(d for d in bound.split("~")[1:-1] if json_loads(b64url_decode(d))[1:2] == ["geboorte"])
    widened = "~".join([jwt, *disclosures, extra, kb])
    kwargs = {"require_key_binding": True, "aud": "https://bank.example", "nonce": "n-1"}
    assert _code(_verify, widened, issuer_keys, **kwargs) == "sd_hash_mismatch"


def test_key_binding_must_be_signed_by_the_holder(bound, issuer_keys):
    thief = SigningKey(generate_jwk("EdDSA"))
    presentation = sdjwt.present(bound, ["naam"])
    forged = presentation + sdjwt.key_binding_jwt(presentation, thief, aud="https://bank.example", nonce="n-1", now=NOW)
    kwargs = {"require_key_binding": True, "aud": "https://bank.example", "nonce": "n-1"}
    assert _code(_verify, forged, issuer_keys, **kwargs) == "bad_signature"


def test_key_binding_without_a_bound_key_is_refused(issuer_key, issuer_keys, holder_key):
    presentation = sdjwt.present(_issue(issuer_key), ["naam"])
    forged = presentation + sdjwt.key_binding_jwt(presentation, holder_key, aud="a", nonce="n", now=NOW)
    assert _code(_verify, forged, issuer_keys, require_key_binding=True) == "no_holder_key"


def test_a_kb_jwt_must_have_the_kb_type(bound, holder_key, issuer_keys):
    presentation = sdjwt.present(bound, ["naam"])
    payload = {"iat": NOW, "aud": "a", "nonce": "n", "sd_hash": sdjwt.digest(presentation)}
    wrong = presentation + jws.sign(payload, holder_key, "jwt")
    assert _code(_verify, wrong, issuer_keys, require_key_binding=True) == "wrong_typ"


def test_hostile_nesting_is_refused_without_exhausting_the_stack(issuer_key, issuer_keys):
    deep = {"a": 1}
    for _ in range(40):
        deep = {"n": deep}
    assert _code(_verify, _signed(issuer_key, deep), issuer_keys) == "malformed"
    very_deep = b64url_encode(("[" * 100_000 + "]" * 100_000).encode())
    token = _signed(issuer_key, {"_sd": [sdjwt.digest(very_deep)]}, [very_deep])
    assert _code(_verify, token, issuer_keys) == "malformed"
