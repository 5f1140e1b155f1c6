#!/usr/bin/env python3
"""Peak memory of the verify page's check on hostile uploads (issue 6, item 8).

Crafts two hostile inputs and measures each in a fresh subprocess (ru_maxrss, so one run cannot
hide another's peak):

- ``pdf``: a self-signed PDF (a key that is not in the scheme) whose attachment ``gegevens.sdjwt``
  is a ZLIB stream of about 1 MB that inflates to ``--inflate-mib`` MiB, checked by the verify
  page's own function (``blauweknop.portal.verify._check``), one and ``--parallel`` uploads at once;
- ``pdf-holder``: the same, signed with the key of a holder in the scheme (a rogue holder);
- ``status-list``: a Status List Token from a hostile issuer whose list inflates the same way,
  checked as the ``blauweknop verify`` command checks a list it fetched.

Usage: ``.venv/bin/python scripts/pdf-bomb-memory.py [--inflate-mib 1024] [--parallel 8]``.
It prints the peak RSS before the check, after it, and the growth, in MiB. It is a report: exit 0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

HOLDER_OIN = "00000001003214345000"
ISSUER = "https://gemeente.example/blauweknop"
STATUS_URI = "https://gemeente.example/blauweknop/api/v1/statuslijsten/1"

# Runs in the subprocess: set up, then read the peak before and after the one check being measured.
MEASURE = """
import json, os, resource, sys, threading, time
import django
django.setup()
from blauweknop.protocol import scheme_document, status_list
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.jwk import KeySet, SigningKey, VerifyingKey, generate_jwk
from blauweknop.protocol.scheme_document import HOLDER, participant_entry
from blauweknop.portal.verify import _check

kind, path, parallel = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(path, "rb").read()
operator, holder = SigningKey(generate_jwk()), SigningKey(json.loads(os.environ["HOLDER_JWK"]))
entry = participant_entry(oin=os.environ["HOLDER_OIN"], name="Gemeente Voorbeeldstad", roles=[HOLDER],
                          jwks={"keys": [holder.public_jwk]}, endpoints={"issuer": os.environ["ISSUER"]})
payload = scheme_document.build(iss="https://stelsel.example", version=1, organisations=[entry])
scheme = scheme_document.verify(scheme_document.sign(payload, operator), VerifyingKey(operator.public_jwk))
outcomes = []

def once():
    try:
        if kind.startswith("pdf"):
            _check(data, scheme)
        else:
            hostile = KeySet([json.loads(os.environ["HOSTILE_JWK"])])
            status_list.verify(data.decode(), hostile, uri=os.environ["STATUS_URI"])
        outcomes.append("accepted")
    except ProtocolError as exc:
        outcomes.append(exc.code)
    except Exception as exc:
        outcomes.append(type(exc).__name__)

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
threads = [threading.Thread(target=once) for _ in range(parallel)]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{before / 1024:.0f} {after / 1024:.0f} {elapsed:.2f} {','.join(sorted(set(outcomes)))}")
"""


def craft(kind: str, inflate: int, folder: Path, holder_jwk: dict) -> tuple[Path, dict[str, str]]:
    """Write the hostile input of ``kind`` to ``folder``; return its path and extra environment."""
    import time

    from cryptography.hazmat.primitives.asymmetric import ec
    from tests.portal.hostile_pdfs import deflate_bomb, signed_pdf

    from blauweknop.protocol import jws
    from blauweknop.protocol.encoding import b64url_encode
    from blauweknop.protocol.jwk import SigningKey, generate_jwk

    bomb = deflate_bomb(inflate)
    if kind.startswith("pdf"):
        # A stranger's key, or (the worst case) the key of a holder in the scheme gone rogue.
        signer = ec.generate_private_key(ec.SECP256R1()) if kind == "pdf" else SigningKey(holder_jwk).cryptography_key
        path = folder / f"{kind}.pdf"
        path.write_bytes(signed_pdf(signer, compressed_attachment=bomb))
        return path, {}
    hostile = SigningKey(generate_jwk())
    payload = {"iss": ISSUER, "sub": STATUS_URI, "iat": int(time.time()), "ttl": 300}
    payload["status_list"] = {"bits": 1, "lst": b64url_encode(bomb)}
    path = folder / "bomb.statuslist.jwt"
    path.write_text(jws.sign(payload, hostile, "statuslist+jwt"))
    return path, {"HOSTILE_JWK": json.dumps(hostile.public_jwk)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inflate-mib", type=int, default=1024, help="what the hostile stream inflates to")
    parser.add_argument("--parallel", type=int, default=8, help="PDF uploads checked at the same time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "blauweknop.settings",
            "DJANGO_SECRET_KEY": "pdf-bomb-memory",
            "BLAUWEKNOP_PSEUDONYM_KEY": "pdf-bomb-memory",
            "BLAUWEKNOP_VAULT_KEY": "pdf-bomb-memory",
            "BLAUWEKNOP_DATA_DIR": tmp,
            "PYTHONPATH": str(ROOT / "src"),
            "HOLDER_OIN": HOLDER_OIN,
            "ISSUER": ISSUER,
            "STATUS_URI": STATUS_URI,
        }
        print("input         file MiB  runs  peak before MiB  peak after MiB  growth MiB  seconds  outcome")
        from blauweknop.protocol.jwk import generate_jwk

        holder_jwk = generate_jwk()
        env["HOLDER_JWK"] = json.dumps(holder_jwk)
        scenarios = (("pdf", 1), ("pdf", args.parallel), ("pdf-holder", 1), ("pdf-holder", args.parallel))
        for kind, runs in (*scenarios, ("status-list", 1)):
            path, extra = craft(kind, args.inflate_mib * 1024 * 1024, folder, holder_jwk)
            result = subprocess.run(  # noqa: S603 (this interpreter, this script's own code)
                [sys.executable, "-c", MEASURE, kind, str(path), str(runs)],
                env={**env, **extra},
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                print(f"{kind}: the measurement failed:\n{result.stderr}", file=sys.stderr)
                continue
            before, after, seconds, outcome = result.stdout.split()
            size = path.stat().st_size / 1024 / 1024
            growth = int(after) - int(before)
            columns = f"{kind:<13} {size:>8.2f}  {runs:>4}  {before:>15}  {after:>14}  {growth:>10}"
            print(f"{columns}  {seconds:>7}  {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
