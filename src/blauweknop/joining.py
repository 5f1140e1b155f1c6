"""``blauweknop scheme apply`` and ``blauweknop scheme status``: an organisation applies to join the scheme.

``apply`` signs the participant's description (the JSON file the operator would admit) with one of
the private keys whose public part is in it, and sends it to the scheme operator's API
(``POST <scheme>/api/v1/aanmeldingen``). ``status`` asks how the application stands, with a client
assertion signed with one of the organisation's keys: only the applicant may know. Both print in
plain words what happened and what comes next. Exit codes follow ``blauweknop.cli``: 0 done, 1 the
operator refused it or could not be reached, 2 a usage error (arguments, or a file to fix).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from blauweknop import cli
from blauweknop.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, UsageError, _read_json, _signing_key
from blauweknop.protocol import application, client_assertion, scheme_document
from blauweknop.protocol.errors import InvalidInput
from blauweknop.protocol.identifiers import is_valid_oin
from blauweknop.protocol.jwk import SigningKey, thumbprint

DEFAULT_SCHEME = "http://127.0.0.1:8000/stelsel"
MAX_ANSWER = 64 * 1024  # the operator's answers are a few hundred bytes
# Refusals that mean the file or the key must be fixed (a usage error); any other refusal is the work failing.
FIX_YOUR_INPUT = frozenset({400, 413, 422})
# The status words of the operator's API (Dutch, as its fields are): in English, and what each means.
STATUS_MEANING = {
    "aangemeld": ("applied", "waiting for the scheme operator, who reviews it and certifies or refuses it"),
    "gecertificeerd": ("certified", "the organisation takes part in the scheme"),
    "geschorst": ("suspended", "the organisation may not take part for now"),
    "ingetrokken": ("revoked", "the organisation no longer takes part"),
    "geweigerd": ("refused", "the scheme operator refused the application"),
}
# What to do when the operator was not shown that the question comes from the organisation itself, by its code.
UNPROVEN_HINTS = {
    "invalid_client": "Only the organisation itself may ask. The operator has no key {key} for OIN {oin}: check the "
    "OIN, and give --key a private key whose public part was in the jwks it applied with (not one that was revoked). "
    "Not applied yet? Apply with: blauweknop scheme apply --file FILE.json --key FILE",
    "aud_mismatch": "Give --scheme exactly the operator's /stelsel address, as the operator publishes it.",
    "expired": "Check that your computer's clock is right, then ask again.",
    "assertion_replayed": "Ask again: each question is signed anew.",
}
# What to do about an application the operator refused for being meant for another address.
OTHER_OPERATOR_HINT = (
    "The application was signed for {url}, and the operator expects another address. Give --scheme exactly the "
    "operator's /stelsel address, as the operator publishes it (same http or https, host and port), then apply again."
)
GUIDE = "docs/scheme-operator.md, section Joining, and the example docs/examples/participant.json"
APPLY_HELP = f"""\
The file describes the organisation as one JSON object:
  oin             its OIN: 20 digits, as a text
  name            its name, as citizens will read it
  slug            letters, digits, - and _ (such as waterschap-noord): its own addresses end in it
  base_url        the root of its deployment, WITHOUT the slug: the scheme adds /<slug>
                  (https://example.org gives the API https://example.org/<slug>/api/v1)
  roles           a list of holder and/or requester; or app_manager alone
  document_types  for a holder: the catalogue ids of the document types it issues (such as vorderingen)
  jwks            {{"keys": [...]}}: what 'blauweknop keys public FILE' prints, for each of its keys
  description     {{"nl": "...", "en": "..."}}: what it does, in Dutch and in English
  contact         optional: {{"telefoon": "...", "website": "https://...", "email": "..."}}; telefoon and
                  website are for citizens; email (never published) is told at once when a new key is
                  announced for the organisation
  kind            optional: {", ".join(scheme_document.KINDS)} (default {scheme_document.OTHER_KIND})
--scheme is the operator's /stelsel address (not its API, not the scheme document).
Step by step: {GUIDE}."""


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``blauweknop scheme apply`` and ``blauweknop scheme status``."""
    scheme = commands.add_parser("scheme", help="apply to join the scheme, and see how it stands").add_subparsers(
        dest="action", required=True
    )
    apply = scheme.add_parser(
        "apply",
        help="send the scheme operator an application to join",
        epilog=APPLY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    apply.add_argument("--file", required=True, metavar="FILE.json", help="the organisation's description (see below)")
    apply.add_argument("--key", required=True, metavar="FILE", help="a private key whose public part is in the file")
    apply.add_argument("--scheme", default=DEFAULT_SCHEME, metavar="URL", help=f"default {DEFAULT_SCHEME}")
    apply.set_defaults(run=_apply)
    status = scheme.add_parser("status", help="ask the scheme operator how your own application stands")
    status.add_argument("--oin", required=True, metavar="OIN")
    status.add_argument("--key", required=True, metavar="FILE", help="a private key the organisation applied with")
    status.add_argument("--scheme", default=DEFAULT_SCHEME, metavar="URL", help=f"default {DEFAULT_SCHEME}")
    status.set_defaults(run=_status)


def _api(scheme: str) -> str:
    if not scheme.startswith(("https://", "http://")):
        raise UsageError(f"the scheme address {scheme!r} is not an http(s) URL")
    return scheme.rstrip("/") + "/api/v1"


def _call(url: str, body: bytes | None = None, assertion: str | None = None) -> tuple[int, dict[str, Any]] | None:
    """The status and JSON answer of a GET (or, with ``body``, a JSON POST) to ``url``; ``None`` if not reached.

    ``assertion`` (a client assertion) goes in the ``Authorization`` header.
    """
    from blauweknop.conformance.probe import Probe  # bounds the answer's time and size

    headers = {"Accept": "application/json"}
    if assertion is not None:
        headers["Authorization"] = f"Bearer {assertion}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    with Probe(answer_deadline=cli.FETCH_DEADLINE, limit=MAX_ANSWER, user_agent="blauweknop-cli") as probe:
        method = "GET" if body is None else "POST"
        answer = probe.request(method, url, "the scheme operator", headers=headers, content=body)
    if answer.status is None:  # no connection, a missed deadline, a broken address
        reason = answer.error or "no answer"
        if body is None:
            print(f"Could not ask the scheme operator at {url}: {reason}.")
        else:
            print(f"Could not reach the scheme operator at {url}: {reason}. Nothing was sent.")
        print(
            "Check the address given with --scheme (the operator's /stelsel address) and your network, then try again."
        )
        return None
    status, content = answer.status, answer.body
    try:
        answer = json.loads(content)
    except ValueError:
        answer = None
    return status, answer if isinstance(answer, dict) else {}


def _refused(status: int, answer: dict[str, Any], what: str) -> int:
    code, detail = answer.get("code") or f"HTTP {status}", answer.get("detail") or "The operator gave no reason."
    problems = [p["reason"] for p in answer.get("invalidParams") or [] if isinstance(p, dict) and "reason" in p]
    if problems:  # the problems say it all, one a line
        print(f"The scheme operator did not accept {what} ({code}):")
        for problem in problems:
            print(f"- {problem}")
    else:
        print(f"The scheme operator did not accept {what} ({code}): {detail}")
    if status in FIX_YOUR_INPUT:
        print("Nothing was stored. Fix this in your file or key, then apply again.")
        return EXIT_USAGE
    print("Nothing was stored.")
    return EXIT_INVALID


def _when(value: str) -> str:
    """A time from the operator's answer in plain words (UTC); a date stays a date."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    if "T" not in value or moment.tzinfo is None:
        return value
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _explained(word: Any) -> str:
    """A status word of the operator's API in English, with the word itself and what it means."""
    english, meaning = STATUS_MEANING.get(word, (None, "ask the scheme operator what this means"))
    return f"{english} ({word}): {meaning}" if english else f"{word}: {meaning}"


def _lists(described: Any, key: SigningKey) -> bool:
    """Whether the description's jwks holds ``key``'s public key under its kid: the operator checks the same."""
    jwks = described.get("jwks") if isinstance(described, dict) else None
    listed = jwks.get("keys") if isinstance(jwks, dict) else None
    for candidate in listed if isinstance(listed, list) else []:
        if isinstance(candidate, dict) and candidate.get("kid") == key.kid:
            try:
                return thumbprint(candidate) == thumbprint(key.public_jwk)
            except (InvalidInput, KeyError):
                return False
    return False


def _apply(args: argparse.Namespace) -> int:
    api = _api(args.scheme)
    described = _read_json(args.file, "participant file")
    key = _signing_key(args.key)
    if not _lists(described, key):
        raise UsageError(
            f"the public part of the key in {args.key!r} (kid {key.kid}) is not in the jwks of {args.file!r}: "
            f"add what 'blauweknop keys public {args.key}' prints to its jwks"
        )
    try:
        token = application.sign(described, key, audience=f"{api}/aanmeldingen")
    except InvalidInput as exc:
        raise UsageError(f"{args.file!r}: {exc.message}") from exc
    answered = _call(f"{api}/aanmeldingen", json.dumps({"aanmelding": token}).encode())
    if answered is None:
        return EXIT_INVALID
    status, answer = answered
    if status != 201:
        refused = _refused(status, answer, "the application")
        if answer.get("code") == "aud_mismatch":
            print(OTHER_OPERATOR_HINT.format(url=f"{api}/aanmeldingen"))
        return refused
    oin = answer.get("aanmelding", described.get("oin"))
    scheme = "" if args.scheme == DEFAULT_SCHEME else f" --scheme {args.scheme}"
    print(f"The scheme operator received the application of {described.get('name')} (OIN {oin}).")
    print(f"Its status is now {_explained(answer.get('status'))}. The organisation does not take part yet.")
    print("Once certified, the scheme document publishes these addresses for it; check that they answer:")
    for name, address in application.endpoints(described["base_url"], described["slug"], described["roles"]).items():
        print(f"  {name}: {address}")
    print(f"Ask the operator for the status with: blauweknop scheme status --oin {oin} --key {args.key}{scheme}")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    if not is_valid_oin(args.oin):
        raise UsageError("an OIN is exactly 20 digits")
    url = f"{_api(args.scheme)}/aanmeldingen/{args.oin}"
    key = _signing_key(args.key)
    answered = _call(url, assertion=client_assertion.sign(key, client_id=args.oin, audience=url))
    if answered is None:
        return EXIT_INVALID
    status, answer = answered
    if status in (401, 403):
        code = answer.get("code") or f"HTTP {status}"
        print(f"The scheme operator did not answer ({code}): {answer.get('detail') or 'it gave no reason.'}")
        print(UNPROVEN_HINTS.get(code, UNPROVEN_HINTS["invalid_client"]).format(key=key.kid, oin=args.oin))
        return EXIT_INVALID
    if status != 200:
        return _refused(status, answer, "the question")
    print(f"OIN {args.oin}: {_explained(answer.get('status'))}.")
    for name, label in (
        ("aangemeldOp", "Applied on"),
        ("gewijzigdOp", "Last change"),
        ("gecertificeerdSinds", "Certified since"),
    ):
        if answer.get(name):
            print(f"{label}: {_when(answer[name])}")
    return EXIT_OK
