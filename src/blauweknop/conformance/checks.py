"""What every participant's API must do, whatever its role: problem+json, API-Version, OpenAPI, no BSN in URLs.

Each check gives a :class:`Result`: a stable name, passed, failed or not run, and a reason a developer can act on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from blauweknop.conformance.probe import SEMVER, Exchange, Probe
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.identifiers import is_valid_bsn

PROBLEM = "application/problem+json"
PROBLEM_MEMBERS = {"type": str, "title": str, "status": int, "detail": str, "code": str}
NINE_DIGITS = re.compile(r"(?<![0-9])[0-9]{9}(?![0-9])")
MAJOR_IN_PATH = re.compile(r"/v([0-9]+)(/|$)")
PATH_PARAMETER = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True)
class Result:
    """One check's outcome."""

    name: str
    title: str
    passed: bool
    reason: str
    checked: bool = True  # False: the check could not be made; it does not pass either, since nothing was shown

    @property
    def outcome(self) -> str:
        """``passed``, ``failed`` or ``not_run``: a check that was not made is no failure of the participant."""
        return "passed" if self.passed else "failed" if self.checked else "not_run"


def passed(name: str, title: str, reason: str) -> Result:
    """A passed check."""
    return Result(name, title, True, reason)


def failed(name: str, title: str, reason: str) -> Result:
    """A failed check."""
    return Result(name, title, False, reason)


def not_run(name: str, title: str, why: str) -> Result:
    """A check that could not be made: it does not pass, since nothing was shown, but it did not fail either."""
    return Result(name, title, False, f"Not checked: {why}", checked=False)


def sentence(parts: Iterable[str]) -> str:
    """``parts`` as one sentence: joined by semicolons, ending in one full stop (a part may end in its own)."""
    return "; ".join(part.rstrip(" .") for part in parts) + "."


def said(error: ProtocolError) -> str:
    """A protocol error as the report shows it: its stable code, then its plain message."""
    return f"{error.code}: {error.message.rstrip('.')}"


def problem_fault(exchange: Exchange) -> str | None:
    """Why ``exchange`` is not a proper refusal of bad input (4xx, RFC 9457 problem+json); ``None`` if it is."""
    if exchange.status is None or not 400 <= exchange.status < 500:
        return f"answered {exchange.described()}, not a 4xx refusal"
    if exchange.media_type != PROBLEM:
        return f"answered {exchange.described()}, not {PROBLEM} (RFC 9457)"
    body = exchange.json()
    if not isinstance(body, dict):
        return "answered problem+json whose body is not a JSON object"
    missing = [
        name
        for name, kind in PROBLEM_MEMBERS.items()
        if not isinstance(body.get(name), kind) or isinstance(body.get(name), bool)
    ]
    if missing:
        return f"answered a problem without {', '.join(missing)} (each problem has type, title, status, detail, code)"
    if body["status"] != exchange.status:
        return f"answered HTTP {exchange.status} with a problem whose status is {body['status']}"
    if "Traceback" in exchange.text():
        return "answered with a traceback in the problem: never show your code's insides"
    return None


def problem_json(name: str, title: str, exchanges: Iterable[Exchange]) -> Result:
    """Every one of ``exchanges`` (bad requests) must be refused with a 4xx problem+json."""
    exchanges = list(exchanges)
    faults = [f"{e.what} ({e.method} {e.url}) {fault}" for e in exchanges if (fault := problem_fault(e))]
    if faults:
        return failed(name, title, sentence(faults))
    return passed(name, title, f"{len(exchanges)} bad requests were each refused with a 4xx {PROBLEM}.")


def api_version(name: str, title: str, probe: Probe, api_url: str) -> Result:
    """Every answer under ``api_url`` says its version in ``API-Version`` (NL API Design Rules, API-57)."""
    exchanges = [e for e in probe.under(api_url) if e.status is not None]
    if not exchanges:
        return not_run(name, title, f"no answer came from {api_url} during the run.")
    major = MAJOR_IN_PATH.search(urlsplit(api_url).path)
    faults = []
    for exchange in exchanges:
        value = exchange.headers.get("API-Version")
        if value is None:
            faults.append(f"the answer to {exchange.method} {exchange.url} ({exchange.described()}) has no API-Version")
        elif not SEMVER.fullmatch(value.strip()):
            faults.append(f"the answer to {exchange.method} {exchange.url} has API-Version {value!r}, not x.y.z")
        elif major and value.split(".")[0] != major.group(1):
            faults.append(f"API-Version {value} at {exchange.url} is not major version {major.group(1)} of its address")
    if faults:
        return failed(name, title, sentence(faults) + " Every API answer, errors included, carries API-Version: x.y.z.")
    return passed(name, title, f"all {len(exchanges)} answers from {api_url} carry API-Version.")


def openapi(name: str, title: str, probe: Probe, api_url: str, operations: dict[str, str]) -> Result:
    """``{api_url}/openapi.json`` is an OpenAPI 3 description listing ``operations`` (path end -> method).

    A path parameter is written ``{}`` in ``operations``: its name is the participant's to choose.
    """
    url = f"{api_url}/openapi.json"
    exchange = probe.get(url, "the OpenAPI description")
    document = exchange.json() if exchange.status == 200 else None
    if not isinstance(document, dict):
        return failed(name, title, f"GET {url} {exchange.described()}; publish the OpenAPI 3 description there.")
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        return failed(name, title, f"{url} is not an OpenAPI 3 description (its 'openapi' is {version!r}).")
    paths = document.get("paths") if isinstance(document.get("paths"), dict) else {}
    missing = [
        f"{method.upper()} …{end}"
        for end, method in operations.items()
        if not any(
            PATH_PARAMETER.sub("{}", path).endswith(end) and isinstance(item, dict) and method in item
            for path, item in paths.items()
        )
    ]
    if missing:
        return failed(name, title, f"{url} does not describe {', '.join(missing)}.")
    info = document.get("info") if isinstance(document.get("info"), dict) else {}
    header = exchange.headers.get("API-Version")
    if header and info.get("version") != header:
        return failed(name, title, f"{url} says version {info.get('version')!r}, its API-Version header {header}.")
    return passed(name, title, f"{url} describes every operation the scheme needs ({len(operations)}).")


def masked(text: str) -> str:
    """``text`` with every nine-digit number blanked: a report never shows a BSN (the report masks all it prints)."""
    return NINE_DIGITS.sub("*********", text)


def holds_bsn(url: str, bsns: Iterable[str]) -> bool:
    """Whether ``url`` (after undoing %-escapes) carries one of ``bsns`` or any number that passes the 11-proef."""
    text = url
    for _ in range(3):  # escaped twice over is still readable
        text = unquote(text)
    return any(bsn in text for bsn in bsns) or any(is_valid_bsn(number) for number in NINE_DIGITS.findall(text))


def no_bsn_in_urls(
    name: str, title: str, addresses: Iterable[tuple[str, str]], bsns: Iterable[str], enough: Callable[[], str | None]
) -> Result:
    """None of ``addresses`` (URL, where it was seen) carries a BSN; ``enough()`` says why too little was seen."""
    addresses, bsns = list(addresses), list(bsns)
    leaks = [f"{url} in {where}" for url, where in addresses if holds_bsn(url, bsns)]
    if leaks:
        return failed(
            name,
            title,
            "a BSN (or a number that passes the 11-proef) is in "
            + "; ".join(leaks)
            + ". URLs end up in logs and browser histories: keep personal data in POST bodies only.",
        )
    if (why := enough()) is not None:
        return not_run(name, title, why)
    return passed(name, title, f"none of the {len(addresses)} addresses the participant gave holds a BSN.")
