"""The kit's HTTP client: every request and answer is kept, so that later checks can look at all of them.

The API-Version check and the BSN-in-URL check judge every answer the participant gave during the run,
not only the ones made for them. Answers are read with a cap: a broken participant cannot fill memory.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from blauweknop.capped import TooLarge, read_at_most

TIMEOUT = 10.0
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
    """A recording HTTP client; use as a context manager."""

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        self.exchanges: list[Exchange] = []
        self._levels: dict[str, int] = {}
        self._client = httpx.Client(
            timeout=TIMEOUT,
            follow_redirects=False,  # a redirect is an answer to judge (its Location too), not to follow blindly
            headers={"User-Agent": "blauweknop-conformance", "Accept-Encoding": "identity"},
            transport=transport,
        )

    def __enter__(self) -> Probe:
        for name in QUIET_LOGGERS:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)

    def request(self, method: str, url: str, what: str, **kwargs: Any) -> Exchange:
        """Send one request; a transport failure is an exchange without a status, never an exception."""
        try:
            with self._client.stream(method, url, **kwargs) as response:
                body = read_at_most(response, MAX_ANSWER)
                exchange = Exchange(method, url, what, response.status_code, response.headers, body)
        except TooLarge:
            exchange = Exchange(method, url, what, None, httpx.Headers(), b"", f"more than {MAX_ANSWER} bytes")
        except httpx.HTTPError as exc:
            exchange = Exchange(method, url, what, None, httpx.Headers(), b"", f"{type(exc).__name__}: {exc}")
        self.exchanges.append(exchange)
        return exchange

    def get(self, url: str, what: str, accept: str = "application/json") -> Exchange:
        """GET ``url``."""
        return self.request("GET", url, what, headers={"Accept": accept})

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
