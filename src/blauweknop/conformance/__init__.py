"""``blauweknop conformance``: the scheme's checks run against a participant, over HTTP.

A participant runs it while building its holder or requester; the scheme operator runs it before it
certifies one. Every check has a stable name, passes, fails or is not run (an option is missing, or a check
it needs did not pass), and says why in words a developer can act on. Exit codes: 0 every check passed,
1 any check failed or was not run, 2 a usage error.
No Django here: the kit is a client, like any other party in the scheme.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

from blauweknop.conformance import holder, requester
from blauweknop.conformance.checks import Result, masked
from blauweknop.conformance.probe import RUN_DEADLINE, Probe
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.identifiers import is_valid_bsn, is_valid_oin
from blauweknop.protocol.scheme_document import Participant

DEFAULT_SCHEME_DOCUMENT = "http://127.0.0.1:8000/stelsel/api/v1/stelseldocument"
MAX_BSNS = 20  # test citizens to try, each a request per document type
MAX_DEADLINE = 3600  # seconds: a run longer than an hour is a hang, whatever was asked
MARKERS = {"passed": "PASS", "failed": "FAIL", "not_run": "SKIP"}
JSON_OUTCOMES = {"passed": "passed", "failed": "failed", "not_run": "notRun"}


def add_command(commands: argparse._SubParsersAction) -> None:
    """Register ``blauweknop conformance``."""
    parser = commands.add_parser(
        "conformance",
        help="check a holder or requester against the scheme's protocol",
        description="Run the scheme's checks against a participant and print a pass/fail report. "
        "Exit 0 only when every check passes, 1 when any fails, 2 on a usage error.",
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--holder", metavar="ISSUER_URL", help="the holder's issuer URL, as in the scheme document")
    who.add_argument("--requester", metavar="URL", help="the requester's API address (endpoints.requester)")
    parser.add_argument(
        "--scheme-document",
        metavar="FILE_OR_URL",
        default=DEFAULT_SCHEME_DOCUMENT,
        help=f"the signed scheme document (default {DEFAULT_SCHEME_DOCUMENT})",
    )
    parser.add_argument("--scheme-jwks", metavar="FILE_OR_URL", help="the scheme operator's keys (the trust anchor)")
    parser.add_argument("--app-manager-key", metavar="FILE", help="holder: the private key of a certified app manager")
    parser.add_argument("--app-manager-oin", metavar="OIN", help="holder: that app manager's OIN")
    parser.add_argument(
        "--bsn",
        action="append",
        default=[],
        metavar="BSN",
        help="holder: a test citizen's BSN to ask copies for; repeat it to cover every document type",
    )
    parser.add_argument("--requester-key", metavar="FILE", help="requester: its private key, for a test request")
    parser.add_argument(
        "--deadline",
        type=float,
        default=RUN_DEADLINE,
        metavar="SECONDS",
        help=f"stop asking the participant after this many seconds in all (default {RUN_DEADLINE:g}); "
        "a check whose answer did not come in time fails",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)


def _arguments(args: argparse.Namespace) -> None:
    """Refuse combinations that cannot work, before anything is sent."""
    from blauweknop.cli import UsageError

    if args.holder and args.requester_key:
        raise UsageError("--requester-key goes with --requester, not with --holder")
    if args.requester and (args.app_manager_key or args.app_manager_oin or args.bsn):
        raise UsageError("--app-manager-key, --app-manager-oin and --bsn go with --holder, not with --requester")
    if bool(args.app_manager_key) != bool(args.app_manager_oin):
        raise UsageError("give --app-manager-key and --app-manager-oin together")
    if args.app_manager_oin and not is_valid_oin(args.app_manager_oin):
        raise UsageError("--app-manager-oin must be an OIN (20 digits)")
    if not 0 < args.deadline <= MAX_DEADLINE:
        raise UsageError(f"--deadline must be more than 0 and at most {MAX_DEADLINE} seconds")
    if len(args.bsn) > MAX_BSNS:
        raise UsageError(f"give at most {MAX_BSNS} test citizens with --bsn")
    if any(not is_valid_bsn(bsn) for bsn in args.bsn):
        raise UsageError("a --bsn is not a valid BSN (9 digits that pass the 11-proef)")
    address = args.holder or args.requester
    if not address.startswith(("https://", "http://")):
        raise UsageError(f"{address!r} is not an http(s) URL")


def run(args: argparse.Namespace) -> int:
    """The ``conformance`` command: check, print the report, and return the exit code."""
    from blauweknop.cli import EXIT_INVALID, EXIT_OK, UsageError, _scheme, _signing_key

    _arguments(args)
    try:
        scheme = _scheme(args.scheme_document, args.scheme_jwks)
    except ProtocolError as exc:
        raise UsageError(f"the scheme document cannot be used ({exc.code}): {exc.message}") from exc
    with Probe(run_deadline=args.deadline) as probe:
        if args.holder:
            manager = None
            if args.app_manager_key:
                manager = holder.AppManager(args.app_manager_oin, _signing_key(args.app_manager_key))
            entry, results = holder.check(probe, scheme, args.holder, manager, args.bsn)
        else:
            key = _signing_key(args.requester_key) if args.requester_key else None
            entry, results = requester.check(probe, scheme, args.requester, key)
    role, address = ("holder", args.holder) if args.holder else ("requester", args.requester)
    report(role, address, entry, scheme.version, results, as_json=args.json)
    return EXIT_OK if all(r.passed for r in results) else EXIT_INVALID


def report(
    role: str,
    address: str,
    entry: Participant | None,
    scheme_version: int,
    results: Sequence[Result],
    *,
    as_json: bool,
) -> None:
    """Print the report: one line per check with its reason, then the verdict and how many passed, failed, not run.

    Every text in it is masked here, once: a participant's answers end up in reasons, and a broken one may
    send back the test citizen's BSN in any of them (its issuer URL, a document type, a problem's detail).
    """
    counts = Counter(r.outcome for r in results)
    good, bad, skipped = counts["passed"], counts["failed"], counts["not_run"]
    if as_json:
        document = {
            "role": role,
            "address": address,
            "organisation": {"oin": entry.oin, "name": entry.name} if entry else None,
            "schemeVersion": scheme_version,
            "passed": good == len(results),
            "counts": {JSON_OUTCOMES[outcome]: counts[outcome] for outcome in JSON_OUTCOMES},
            "checks": [
                {
                    "name": r.name,
                    "title": r.title,
                    "passed": r.passed,
                    "outcome": JSON_OUTCOMES[r.outcome],
                    "reason": r.reason,
                }
                for r in results
            ],
        }
        print(json.dumps(_masked(document), indent=2, ensure_ascii=False))
        return
    who = f"{entry.name} (OIN {entry.oin})" if entry else "an organisation the scheme document does not list"
    lines = [f"Conformance of {role} {address}: {who}, scheme document version {scheme_version}."]
    width = max(len(r.name) for r in results)
    for result in results:
        lines.append(f"  {MARKERS[result.outcome]}  {result.name:<{width}}  {result.title}")
        lines.append(f"        {' ' * width}  {result.reason}")
    if good == len(results):
        lines.append(f"CONFORMS: {good} of {len(results)} checks passed.")
    else:
        # Not run is no pass: the exit code stays 1, but the count shows one missing option as one cause, not five.
        verdict = "DOES NOT CONFORM" if bad else "NOT FULLY CHECKED"
        lines.append(f"{verdict}: {good} of {len(results)} checks passed, {bad} failed, {skipped} not run.")
        if skipped:
            lines.append("  Each SKIP says why it was not run: an option to give, or a check above to fix first.")
    print(masked("\n".join(lines)))
    sys.stdout.flush()


def _masked(value: Any) -> Any:
    """``value`` (parsed JSON) with every string in it masked."""
    if isinstance(value, str):
        return masked(value)
    if isinstance(value, dict):
        return {name: _masked(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value
