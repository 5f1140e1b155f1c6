"""Stand-in holders for ``bench/centraal.py``: one asyncio server, many holders, each answering after a delay.

Every holder is served under its own prefix (``/<slug>/api/v1/...``), as the demo serves its own, and signs
with its own key, which the scheme lists for it. It answers:

- ``POST /<slug>/api/v1/verklaringen``: a genuine SD-JWT VC of the document asked for, issued by this
  holder to the wallet key in the app manager's assertion, ``--delay-ms`` after the request came in
  (an ``asyncio.sleep``: a slow holder costs no CPU here). The assertion is read, not verified: the
  portal is under test, not this stand-in. A copy is signed once per holder, type and wallet key, so
  this process's own CPU stays small beside the portal's.
- ``GET /<slug>/api/v1/statuslijsten/1``: its Token Status List, signed again when two minutes old (as
  the demo holders' worker does), in which every copy is valid.

The configuration is a JSON file that ``bench/centraal.py`` writes: ``base_url``, ``holders`` (``slug``,
``key``: a private JWK) and ``documents`` (per document type: ``vct`` and ``data`` per holder slug).

    python bench/stand_in_holders.py CONFIG --port PORT --delay-ms L
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn

from blauweknop.protocol import jws, sdjwt_vc, status_list
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.jwk import SigningKey, thumbprint
from blauweknop.protocol.status_list import StatusList, StatusReference

VALID_FOR = 86400  # a copy of a benchmark outlives the run
LIST_SIZE = 1024  # one index per copy signed here, a handful per run
RESIGN_AFTER = 120  # the list's ttl is 300 s: a verifier refuses an older token
MAX_BODY = 64 * 1024  # an issuance request is an assertion and a type name: a few kB

Send = Callable[[dict[str, Any]], Awaitable[None]]
Answer = tuple[int, str, bytes]


class StandInHolder:
    """One holder: its key, its issuer URL, its copies per (type, wallet key) and its status list."""

    def __init__(self, base_url: str, slug: str, key: dict[str, Any], documents: dict[str, Any]) -> None:
        self.key = SigningKey(key)
        self.issuer = f"{base_url}/{slug}"
        self.status_uri = f"{self.issuer}/api/v1/statuslijsten/1"
        self.documents = {type_id: (d["vct"], d["data"][slug]) for type_id, d in documents.items()}
        self._copies: dict[tuple[str, str], bytes] = {}
        self._list: tuple[float, bytes] = (0.0, b"")

    def issue(self, request: dict[str, Any]) -> Answer:
        """The answer to an issuance request: 201 with a copy, 404 ``no_data``, or 400."""
        type_id, assertion = request.get("documentsoort"), request.get("appbeheerderverklaring")
        if type_id not in self.documents or not isinstance(assertion, str):
            return _problem(404, "no_data")
        try:
            wallet = jws.unverified_parts(assertion)[1]["cnf"]["jwk"]
            wallet_id = thumbprint(wallet)
        except (ProtocolError, KeyError, TypeError):
            return _problem(400, "malformed")
        copy = self._copies.get((type_id, wallet_id))
        if copy is None:
            vct, data = self.documents[type_id]
            now = int(time.time())
            credential = sdjwt_vc.issue(
                data,
                self.key,
                iss=self.issuer,
                vct=vct,
                holder_jwk=wallet,
                status=StatusReference(self.status_uri, len(self._copies)),
                valid_for=VALID_FOR,
                now=now,
            )
            until = datetime.fromtimestamp(now + VALID_FOR, UTC).isoformat()
            answer = {"verklaring": credential, "documentsoort": type_id, "vct": vct, "geldigTot": until}
            copy = self._copies[(type_id, wallet_id)] = json.dumps(answer).encode()
        return 201, "application/json", copy

    def status_list(self) -> Answer:
        """The status list token, all valid, signed again when it is ``RESIGN_AFTER`` seconds old."""
        signed_at, token = self._list
        if time.time() - signed_at >= RESIGN_AFTER:
            signed_at = time.time()
            text = status_list.sign(StatusList(LIST_SIZE, bits=2), self.key, uri=self.status_uri, iss=self.issuer)
            token = text.encode()
            self._list = (signed_at, token)
        return 200, "application/statuslist+jwt", token


def _problem(status: int, code: str) -> Answer:
    return status, "application/problem+json", json.dumps({"status": status, "code": code}).encode()


async def _body(receive: Callable[[], Awaitable[dict[str, Any]]]) -> bytes | None:
    """The request body, or ``None`` when it is larger than ``MAX_BODY``."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            return None
        if not message.get("more_body"):
            return body


class StandIn:
    """The ASGI application serving every stand-in holder under its own prefix."""

    def __init__(self, config: dict[str, Any], delay_ms: float) -> None:
        self.delay = delay_ms / 1000
        self.holders = {
            h["slug"]: StandInHolder(config["base_url"], h["slug"], h["key"], config["documents"])
            for h in config["holders"]
        }

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict]], send: Send) -> None:
        """Answer one HTTP request."""
        if scope["type"] != "http":
            return
        arrived = asyncio.get_running_loop().time()
        slug, _, rest = scope["path"].strip("/").partition("/")
        holder = self.holders.get(slug)
        if holder is not None and scope["method"] == "POST" and rest == "api/v1/verklaringen":
            answer = await self._issue(holder, await _body(receive))
            await asyncio.sleep(max(0.0, self.delay - (asyncio.get_running_loop().time() - arrived)))
        elif holder is not None and scope["method"] == "GET" and rest == "api/v1/statuslijsten/1":
            answer = holder.status_list()
        else:
            answer = _problem(404, "not_found")
        status, content_type, body = answer
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _issue(holder: StandInHolder, body: bytes | None) -> Answer:
        try:
            request = json.loads(body) if body is not None else None
        except ValueError:
            request = None
        return holder.issue(request) if isinstance(request, dict) else _problem(400, "malformed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, required=True)
    args = parser.parse_args()
    app = StandIn(json.loads(args.config.read_text()), args.delay_ms)
    uvicorn.run(app, host="127.0.0.1", port=args.port, lifespan="off", log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
