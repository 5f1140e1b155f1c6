"""Benchmark: SD-JWT VC issuing and verifying, ours vs. the reference `sd-jwt` package vs. a raw crypto floor.

The credential has exactly 20 *leaf claims*: scalar values (strings, integers) that are each selectively
disclosable on their own, either as an object member or as an array element. The 5 containers that hold
them (persoon, adres, inkomen, nationaliteiten, toeslagen) are selectively disclosable too, because our
`sdjwt.issue` conceals every member and element; the reference is given the same structure with SDObj on
every key and every array element, so both credentials carry 25 disclosures (20 leaves + 5 containers).
iss, vct, iat, exp and cnf are plain (never disclosable) in both.

Method: every measured callable is warmed up, N is calibrated so that one repeat takes about --seconds,
then R repeats of N calls are timed with time.perf_counter (GC stays on). The table reports ops/s of the
*best* repeat (min time) and of the median repeat; ratios and targets use the best repeat. Keys, claims
and presentations are built outside the timed regions.

Run: .venv/bin/python bench/sdjwt_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from blauweknop.protocol import sdjwt, sdjwt_vc
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk, public_jwk

ISS = "https://uitgever.example.nl"
VCT = "https://blauweknop.example.nl/vct/inkomensverklaring"
AUD = "https://verifier.example.nl"
NONCE = "n-0S6_WzA2Mj"
LEEWAY = 60
KB_MAX_AGE = 300

# 20 leaf claims: persoon 4 + adres 4 + inkomen 3 + nationaliteiten 2 + 5 flat + toeslagen 2.
CLAIMS: dict[str, Any] = {
    "persoon": {
        "voornaam": "Jan-Willem",
        "achternaam": "van der Berg",
        "geboortedatum": "1984-03-12",
        "bsn": "999993653",
    },
    "adres": {
        "straat": "Keizersgracht",
        "huisnummer": "123-A",
        "postcode": "1015 CJ",
        "woonplaats": "Amsterdam",
    },
    "inkomen": {
        "jaar": 2024,
        "bruto_cents": 5_432_100,
        "toetsingsinkomen_cents": 5_123_400,
    },
    "nationaliteiten": ["NL", "MA"],
    "email": "jw.vandenberg@example.nl",
    "telefoon": "+31612345678",
    "iban": "NL91ABNA0417164300",
    "burgerlijke_staat": "gehuwd",
    "aantal_kinderen": 2,
    "toeslagen": ["huurtoeslag", "zorgtoeslag"],
}


def leaf_paths(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaf_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in leaf_paths(v, (*path, str(i)))]
    return [path]


def container_count(value: Any, top: bool = True) -> int:
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    own = 0 if top or not isinstance(value, dict | list) else 1
    return own + sum(container_count(v, top=False) for v in children)


LEAVES = leaf_paths(CLAIMS)
assert len(LEAVES) == 20, LEAVES
N_DISCLOSURES = len(LEAVES) + container_count(CLAIMS)  # 20 + 5


def to_ref(value: Any) -> Any:
    """The same claims for the reference: every key and array element wrapped in SDObj."""
    if isinstance(value, dict):
        return {SDObj(k): to_ref(v) for k, v in value.items()}
    if isinstance(value, list):
        return [SDObj(to_ref(v)) for v in value]
    return value


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jose_to_der(sig: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    return encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))


# ---------------------------------------------------------------------------------------------
# Timing


def measure(fn: Callable[[], object], seconds: float, repeats: int) -> tuple[float, float]:
    """(best ops/s, median ops/s) over `repeats` runs of N calls, N calibrated to ~`seconds` per run."""
    for _ in range(3):
        fn()
    n, elapsed = 1, 0.0
    while True:  # calibrate (doubles as warm-up)
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= 0.05:
            break
        n *= 4
    n = max(1, int(n * seconds / elapsed))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append(time.perf_counter() - t0)
    return n / min(times), n / statistics.median(times)


# ---------------------------------------------------------------------------------------------
# Setup


class Setup:
    def __init__(self) -> None:
        issuer_jwk, holder_jwk = generate_jwk("ES256"), generate_jwk("ES256")
        self.issuer = SigningKey(issuer_jwk)
        self.holder = SigningKey(holder_jwk)
        self.holder_pub = public_jwk(holder_jwk)
        self.keys = KeySet([public_jwk(issuer_jwk)])
        self.ref_issuer = JWK(**issuer_jwk)
        self.ref_issuer_pub = JWK(**public_jwk(issuer_jwk))
        self.ref_holder = JWK(**holder_jwk)
        now = int(time.time())
        self.ref_claims = {"iss": ISS, "vct": VCT, "iat": now, "exp": now + 30 * 86400, **to_ref(CLAIMS)}

        # Our credential and presentation (all 20 leaves disclosed, with KB-JWT).
        self.credential = self.issue_ours()
        _, disclosures, _ = sdjwt.split(self.credential)
        assert len(disclosures) == N_DISCLOSURES, len(disclosures)
        self.presentation = sdjwt_vc.present(
            self.credential, [list(p) for p in LEAVES], holder_key=self.holder, aud=AUD, nonce=NONCE
        )
        # The reference's own presentation of its own credential, for the informational row.
        issuance = self.issue_ref(decoys=True).sd_jwt_issuance
        holder = SDJWTHolder(issuance)
        select = {
            k: ([True] * len(v) if isinstance(v, list) else dict.fromkeys(v, True) if isinstance(v, dict) else True)
            for k, v in CLAIMS.items()
        }
        holder.create_presentation(select, nonce=NONCE, aud=AUD, holder_key=self.ref_holder, sign_alg="ES256")
        self.ref_presentation = holder.sd_jwt_presentation

        # Raw floor inputs: the disclosures of our credential and the two JWS signing inputs.
        jwt, pres_disclosures, kb = sdjwt.split(self.presentation)
        assert len(pres_disclosures) == N_DISCLOSURES
        assert kb is not None
        self.floor_disclosures = [d.encode("ascii") for d in disclosures]
        self.floor_key = self.issuer._ec
        self.floor_holder_pub = self.holder._ec.public_key()
        self.floor_issuer_pub = self.floor_key.public_key()
        h, p, s = jwt.split(".")
        self.floor_jwt_input, self.floor_jwt_sig = f"{h}.{p}".encode(), jose_to_der(b64url_decode(s))
        h, p, s = kb.split(".")
        self.floor_kb_input, self.floor_kb_sig = f"{h}.{p}".encode(), jose_to_der(b64url_decode(s))

        # Sanity: each verifier accepts what it is timed on and sees all 20 leaves.
        for check in (
            self.verify_ours,
            lambda: self.verify_ref(self.presentation),
            lambda: self.verify_ref(self.ref_presentation),
        ):
            result = check()
            claims = result.claims if isinstance(result, sdjwt_vc.VerifiedCredential) else result
            assert len(leaf_paths({k: claims[k] for k in CLAIMS})) == 20
        self.floor_issue()
        self.floor_verify()

    # -- issuing

    def issue_ours(self) -> str:
        return sdjwt_vc.issue(CLAIMS, self.issuer, iss=ISS, vct=VCT, holder_jwk=self.holder_pub)

    def issue_ref(self, decoys: bool) -> SDJWTIssuer:
        return SDJWTIssuer(
            self.ref_claims,
            self.ref_issuer,
            self.ref_holder,
            sign_alg="ES256",
            add_decoy_claims=decoys,
            extra_header_parameters={"typ": "dc+sd-jwt"},
        )

    def floor_issue(self) -> bytes:
        sha256 = hashlib.sha256
        for d in self.floor_disclosures:
            sha256(d).digest()
        return self.floor_key.sign(self.floor_jwt_input, ec.ECDSA(hashes.SHA256()))

    # -- verifying

    def verify_ours(self) -> sdjwt_vc.VerifiedCredential:
        return sdjwt_vc.verify(
            self.presentation,
            self.keys,
            status_lists=None,
            require_key_binding=True,
            aud=AUD,
            nonce=NONCE,
            leeway=LEEWAY,
        )

    def _ref_key(self, iss: str | None, header: dict[str, Any]) -> JWK:
        if iss != ISS or header.get("typ") not in ("dc+sd-jwt", "vc+sd-jwt"):
            raise ValueError("unknown issuer or wrong typ")
        return self.ref_issuer_pub

    def verify_ref(self, presentation: str) -> dict[str, Any]:
        verifier = SDJWTVerifier(presentation, self._ref_key, expected_aud=AUD, expected_nonce=NONCE)
        claims = verifier.get_verified_payload()
        # The package checks no times; do what our verifier does so the work is comparable.
        now = int(time.time())
        if not claims["iat"] - LEEWAY <= now < claims["exp"] + LEEWAY:
            raise ValueError("not valid now")
        kb = json.loads(b64url_decode(presentation.rsplit("~", 1)[1].split(".")[1]))
        if not now - KB_MAX_AGE - LEEWAY <= kb["iat"] <= now + LEEWAY:
            raise ValueError("stale KB-JWT")
        return claims

    def floor_verify(self) -> None:
        sha256 = hashlib.sha256
        for d in self.floor_disclosures:
            sha256(d).digest()
        algorithm = ec.ECDSA(hashes.SHA256())
        self.floor_issuer_pub.verify(self.floor_jwt_sig, self.floor_jwt_input, algorithm)
        self.floor_holder_pub.verify(self.floor_kb_sig, self.floor_kb_input, algorithm)


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter run (~8 s), noisier numbers")
    args = parser.parse_args()
    seconds, repeats = (0.25, 3) if args.quick else (1.0, 5)

    s = Setup()
    rows: list[tuple[str, str, Callable[[], object]]] = [
        ("issue", "ours      sdjwt_vc.issue, decoys 0-3/container", s.issue_ours),
        ("issue", "reference SDJWTIssuer, decoys 2-5/object  [T]", lambda: s.issue_ref(decoys=True)),
        ("issue", "reference SDJWTIssuer, no decoys", lambda: s.issue_ref(decoys=False)),
        ("issue", f"floor     {N_DISCLOSURES} x SHA-256 + 1 ES256 sign", s.floor_issue),
        ("verify", "ours      sdjwt_vc.verify (our presentation)", s.verify_ours),
        ("verify", "reference SDJWTVerifier, same presentation [T]", lambda: s.verify_ref(s.presentation)),
        ("verify", "reference SDJWTVerifier, own presentation", lambda: s.verify_ref(s.ref_presentation)),
        ("verify", f"floor     {N_DISCLOSURES} x SHA-256 + 2 ES256 verify", s.floor_verify),
    ]
    print(
        f"SD-JWT VC, 20 leaf claims ({N_DISCLOSURES} disclosures incl. 5 containers), ES256, holder key; "
        f"presentation discloses all 20 + KB-JWT ({len(s.presentation)} chars)"
    )
    print(
        f"Python {sys.version.split()[0]}; {repeats} repeats x ~{seconds:g} s; "
        "best = fastest repeat (used for ratios), median shown for spread"
    )
    print(f"{'op':<7}{'implementation':<50}{'best ops/s':>12}{'median ops/s':>14}{'us/op':>9}")
    rates: list[float] = []
    for op, name, fn in rows:
        b, m = measure(fn, seconds, repeats)
        rates.append(b)
        print(f"{op:<7}{name:<50}{b:>12,.0f}{m:>14,.0f}{1e6 / b:>9.1f}")
    ours_i, ref_i, _, floor_i, ours_v, ref_v, _, floor_v = rates
    print("[T] = the reference row the target ratio uses")
    targets = [
        ("issue  ours/reference", ours_i / ref_i, 2.0),
        ("issue  ours/floor    ", ours_i / floor_i, 0.40),
        ("verify ours/reference", ours_v / ref_v, 1.0),
        ("verify ours/floor    ", ours_v / floor_v, None),
    ]
    for label, ratio, target in targets:
        verdict = (
            "(no target)" if target is None else f"target >= {target:.2f}x  {'PASS' if ratio >= target else 'FAIL'}"
        )
        print(f"{label}  {ratio:6.2f}x   {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
