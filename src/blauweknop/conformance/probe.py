"""The kit's HTTP client: every request and answer is kept, so that later checks can look at all of them.

The API-Version check and the BSN-in-URL check judge every answer the participant gave during the run,
not only the ones made for them. Answers are read with a cap and a deadline: a broken participant cannot
fill memory, nor keep the kit waiting by sending its answer a byte at a time (every read on time, the whole
never done). The deadline covers the whole answer, headers included: the client is asynchronous, so that
waiting can be cancelled wherever it is.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from blauweknop.capped import TooLarge, aread_at_most

TIMEOUT = 10.0  # for each read; ANSWER_DEADLINE bounds them all together
ANSWER_DEADLINE = 15.0  # seconds for one whole answer, from sending the request to its last byte
RUN_DEADLINE = 120.0  # seconds for all the answers of one run
MAX_ANSWER = 4 * 1024 * 1024  # a status list token is at most 3 MB; every other answer is far smaller
SEMVER = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")
URL_TEXT = re.compile(r"https?://[^\s\"'<>]+")
# The HTTP library logs every address and header it sees, and a participant's addresses may carry a BSN
# (the very fault no_bsn_in_urls looks for): while the kit runs, those loggers write only warnings.
QUIET_LOGGERS = ("httpx", "httpcore")


@dataclass(frozen=True)
class Exchange:
    """One request the kit made and what came back; ``status`` is ``None`` when nothing usable came back."""

    method: str
    url: str
    what: str  # in words, for the report: "POST with a body that is not JSON"
    status: int | None
    headers: httpx.Headers
    body: bytes
    error: str | None = None

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower case."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON, or ``None`` when it is not JSON."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None

    def text(self) -> str:
        """The body as text (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def described(self) -> str:
        """What came back, in a few words: ``HTTP 500 text/html``, or why nothing came."""
        if self.status is None:
            return f"no answer ({self.error})"
        return f"HTTP {self.status} {self.media_type or 'without a Content-Type'}"


class Probe:
    """A recording HTTP client; use as a context manager.

    Each answer must be whole within ``answer_deadline`` seconds, and all of them within ``run_deadline``
    seconds from the start: once that is used up, nothing more is asked and every later request is an
    exchange without an answer that says so. Answers of at most ``limit`` bytes are read.
    """

    def __init__(
        self,
        *,
        answer_deadline: float = ANSWER_DEADLINE,
        run_deadline: float = RUN_DEADLINE,
        limit: int = MAX_ANSWER,
        user_agent: str = "blauweknop-conformance",
    ) -> None:
        self.exchanges: list[Exchange] = []
        self._levels: dict[str, int] = {}
        self._answer_deadline, self._run_deadline, self._limit = answer_deadline, run_deadline, limit
        self._ends = time.monotonic() + run_deadline
        self._loop = asyncio.Runner()
        self._client = httpx.AsyncClient(
            timeout=TIMEOUT,
            follow_redirects=False,  # a redirect is an answer to judge (its Location too), not to follow blindly
            headers={"User-Agent": user_agent, "Accept-Encoding": "identity"},
        )

    def __enter__(self) -> Probe:
        for name in QUIET_LOGGERS:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.run(self._client.aclose())
        self._loop.close()
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)

    def request(self, method: str, url: str, what: str, **kwargs: Any) -> Exchange:
        """Send one request; a transport failure or a missed deadline is an exchange without a status, never raised."""
        exchange = self._answer(method, url, what, **kwargs)
        self.exchanges.append(exchange)
        return exchange

    def _answer(self, method: str, url: str, what: str, **kwargs: Any) -> Exchange:
        deadline = min(self._answer_deadline, self._ends - time.monotonic())
        if deadline <= 0:
            error = f"not asked: the {self._run_deadline:g} seconds for the whole run were used up"
        else:
            try:
                return self._loop.run(asyncio.wait_for(self._send(method, url, what, **kwargs), deadline))
            except TimeoutError:
                error = f"it did not come whole within {deadline:.3g} seconds"
            except TooLarge:
                error = f"more than {self._limit} bytes"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
        return Exchange(method, url, what, None, httpx.Headers(), b"", error)

    async def _send(self, method: str, url: str, what: str, **kwargs: Any) -> Exchange:
        async with self._client.stream(method, url, **kwargs) as response:
            body = await aread_at_most(response, self._limit)
            return Exchange(method, url, what, response.status_code, response.headers, body)

    def get(self, url: str, what: str, accept: str = "application/json", *, follow_redirects: bool = False) -> Exchange:
        """GET ``url``; a redirect is followed only when asked, and only to another http(s) address."""
        return self.request("GET", url, what, headers={"Accept": accept}, follow_redirects=follow_redirects)

    def under(self, prefix: str) -> list[Exchange]:
        """Every exchange with an address under ``prefix``."""
        return [e for e in self.exchanges if e.url == prefix or e.url.startswith(prefix.rstrip("/") + "/")]

    def addresses(self) -> Iterator[tuple[str, str]]:
        """Every address a participant gave the kit, with where it was: Location and Link headers, URLs in bodies."""
        for exchange in self.exchanges:
            for header in ("Location", "Content-Location", "Link"):
                if header in exchange.headers:
                    yield (
                        exchange.headers[header],
                        f"the {header} header of the answer to {exchange.method} {exchange.url}",
                    )
            if exchange.media_type.endswith("json") and exchange.body:
                for url in URL_TEXT.findall(exchange.text()):
                    yield url, f"the answer to {exchange.method} {exchange.url}"
