"""The ``blauweknop`` command: keys, credentials and verification for participants' developers.

Exit codes are a contract: 0 success (for ``verify``: valid), 1 the credential is not valid or the
work failed, 2 a usage error (bad arguments, unreadable or unusable files). Never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

from blauweknop.protocol import scheme_document, sdjwt_vc
from blauweknop.protocol.errors import InvalidInput, ProtocolError, VerificationError
from blauweknop.protocol.jwk import ALLOWED_ALGS, KeyResolver, KeySet, SigningKey, generate_jwk
from blauweknop.protocol.jws import unverified_parts
from blauweknop.protocol.sdjwt import split
from blauweknop.protocol.status_list import MAX_TOKEN_BYTES, StatusListClient, StatusReference

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
FETCH_DEADLINE = 15.0  # seconds for a whole download: a server that sends a byte at a time is cut off
MAX_DOWNLOAD = 5 * 1024 * 1024


class UsageError(Exception):
    """The command was called wrongly; the message says how to call it right."""


# ---------------------------------------------------------------------------------------------
# Reading inputs


def _read_text(source: str, what: str) -> str:
    """Text from a file, ``-`` (standard input) or an http(s) URL."""
    if source == "-":
        return sys.stdin.read()
    if source.startswith(("https://", "http://")):
        return _fetch(source, what)
    try:
        with open(source, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the {what} {source!r}: {getattr(exc, 'strerror', None) or exc}") from exc


def _read_bytes(source: str, what: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        with open(source, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {source!r}: {exc.strerror}") from exc


def _read_json(source: str, what: str) -> Any:
    try:
        return json.loads(_read_text(source, what))
    except json.JSONDecodeError as exc:
        raise UsageError(f"the {what} {source!r} is not valid JSON (line {exc.lineno}, column {exc.colno})") from exc


def _fetch(url: str, what: str, accept: str = "application/json", limit: int = MAX_DOWNLOAD) -> str:
    """The text at ``url``: the whole answer within ``FETCH_DEADLINE`` seconds, at most ``limit`` bytes."""
    from blauweknop.conformance.probe import Probe  # bounds time and size; here, as only downloads need it

    # URLs can come from a credential (its status list): never let one read a local file.
    if not url.startswith(("https://", "http://")):
        raise UsageError(f"the {what} address {url!r} is not an http(s) URL")
    with Probe(answer_deadline=FETCH_DEADLINE, limit=limit, user_agent="blauweknop-cli") as probe:
        answer = probe.get(url, what, accept, follow_redirects=True)
    if answer.status != 200:
        raise UsageError(f"cannot fetch the {what} from {url}: {answer.described()}")
    try:
        return answer.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot fetch the {what} from {url}: it is not UTF-8 text") from exc


def _signing_key(path: str) -> SigningKey:
    try:
        return SigningKey(_read_json(path, "private key"))
    except InvalidInput as exc:
        raise UsageError(f"the key in {path!r} cannot be used: {exc.message}") from exc


# ---------------------------------------------------------------------------------------------
# Commands


def _keys_generate(args: argparse.Namespace) -> int:
    jwk = generate_jwk(args.alg)
    try:
        # Private keys are created readable by their owner only, and never over an existing file.
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise UsageError(f"{args.out!r} already exists; choose another name or remove it first") from exc
    except OSError as exc:
        raise UsageError(f"cannot write {args.out!r}: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(jwk, handle, indent=2)
        handle.write("\n")
    print(f"Wrote a new {args.alg} private key to {args.out} (kid {jwk['kid']}). Keep it secret.", file=sys.stderr)
    return EXIT_OK


def _keys_public(args: argparse.Namespace) -> int:
    key = _signing_key(args.file)
    print(json.dumps(key.public_jwk, indent=2))
    return EXIT_OK


def _credential_issue(args: argparse.Namespace) -> int:
    if (args.status_uri is None) != (args.status_idx is None):
        raise UsageError("give --status-uri and --status-idx together")
    claims = _read_json(args.claims, "claims file")
    holder = _read_json(args.holder_jwk, "holder key") if args.holder_jwk else None
    if args.valid_days < 1:
        raise UsageError("--valid-days must be at least 1")
    try:
        credential = sdjwt_vc.issue(
            claims,
            _signing_key(args.issuer_key),
            iss=args.iss,
            vct=args.vct,
            holder_jwk=holder,
            valid_for=args.valid_days * 86400,
            status=StatusReference(args.status_uri, args.status_idx) if args.status_uri else None,
        )
    except InvalidInput as exc:
        raise UsageError(exc.message) from exc
    print(credential)
    return EXIT_OK


def _credential_present(args: argparse.Namespace) -> int:
    binding = (args.holder_key, args.aud, args.nonce)
    if any(binding) and not all(binding):
        raise UsageError("key binding needs --holder-key, --aud and --nonce together")
    credential = _read_text(args.file, "credential").strip()
    holder = _signing_key(args.holder_key) if args.holder_key else None
    try:
        presentation = sdjwt_vc.present(credential, args.disclose, holder_key=holder, aud=args.aud, nonce=args.nonce)
    except InvalidInput as exc:
        raise UsageError(exc.message) from exc
    except VerificationError as exc:
        raise UsageError(f"the file is not a usable credential: {exc.message}") from exc
    print(presentation)
    return EXIT_OK


def _scheme(source: str, operator_jwks: str | None) -> scheme_document.SchemeDocument:
    if operator_jwks is None:
        if not source.startswith(("https://", "http://")):
            raise UsageError("with a scheme document from a file, also give --scheme-jwks (the operator's keys)")
        operator_jwks = source.rsplit("/", 1)[0] + "/jwks.json"
    try:
        operator = KeySet.from_jwks(_read_json(operator_jwks, "scheme operator keys"))
    except InvalidInput as exc:
        raise UsageError(f"the scheme operator keys cannot be used: {exc.message}") from exc
    return scheme_document.verify(_read_text(source, "scheme document").strip(), operator)


def _issuer_metadata_keys(presentation: str) -> KeyResolver:
    """Keys from the issuer's own metadata: proves integrity and origin, not membership of the scheme."""
    _, payload = unverified_parts(split(presentation)[0])
    iss = payload.get("iss")
    if not isinstance(iss, str):
        raise VerificationError("unknown_issuer", "The credential does not say who issued it.")
    try:
        url = sdjwt_vc.issuer_metadata_url(iss)
    except InvalidInput as exc:
        raise VerificationError("unknown_issuer", "The issuer is not an http(s) address.") from exc
    try:
        document = json.loads(_fetch(url, "issuer metadata"))
    except (UsageError, json.JSONDecodeError) as exc:
        raise VerificationError("unknown_issuer", f"The issuer's keys could not be fetched from {url}.") from exc
    return sdjwt_vc.keys_from_issuer_metadata(document, iss)


def _fetch_status_list(uri: str) -> str:
    return _fetch(uri, "status list", accept="application/statuslist+jwt", limit=MAX_TOKEN_BYTES).strip()


def _verify(args: argparse.Namespace) -> int:
    if args.issuer_jwks and args.scheme_document:
        raise UsageError("give either --issuer-jwks or --scheme-document, not both")
    data = _read_bytes(args.file, "credential")
    document = None
    try:
        # The trusted keys, and the thumbprints a PDF's signer must have; from the issuer's own
        # metadata, both can only be learnt from the credential itself.
        keys: KeyResolver | None = None
        signers: frozenset[str] | None = None
        revoked: frozenset[str] = frozenset()
        if args.issuer_jwks:
            try:
                key_set = KeySet.from_jwks(_read_json(args.issuer_jwks, "issuer keys"))
            except InvalidInput as exc:
                raise UsageError(f"the issuer keys cannot be used: {exc.message}") from exc
            keys, signers = key_set, key_set.thumbprints()
        elif args.scheme_document:
            document = _scheme(args.scheme_document, args.scheme_jwks)
            keys, signers = document.issuer_keys(), document.issuer_thumbprints()
            revoked = document.revoked_thumbprints()

        def check(presentation: str) -> sdjwt_vc.VerifiedCredential:
            return sdjwt_vc.verify(
                presentation,
                keys if keys is not None else _issuer_metadata_keys(presentation),
                status_lists=StatusListClient(_fetch_status_list),
                require_key_binding=args.require_key_binding,
                aud=args.aud,
                nonce=args.nonce,
            )

        if data.startswith(b"%PDF-"):
            from blauweknop import pdf  # only a PDF needs the PDF libraries

            result = pdf.check(data, check, signers=signers, revoked=revoked)
        else:
            result = check(data.decode("ascii", errors="replace").strip())
    except ProtocolError as exc:
        _print_invalid(exc, args.json)
        return EXIT_INVALID
    issuer = document.issuer(result.iss) if document else None
    _print_valid(result, issuer, args.json)
    return EXIT_OK


def _time(value: int | None) -> str | None:
    return None if value is None else datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")


def _print_valid(
    result: sdjwt_vc.VerifiedCredential, issuer: scheme_document.Participant | None, as_json: bool
) -> None:
    report = {
        "valid": True,
        "iss": result.iss,
        "issuer": {"oin": issuer.oin, "name": issuer.name} if issuer else None,
        "vct": result.vct,
        "issuedAt": _time(result.issued_at),
        "expiresAt": _time(result.expires_at),
        "status": "valid" if result.status else "none",
        "keyBinding": {"aud": result.key_binding.aud, "nonce": result.key_binding.nonce}
        if result.key_binding
        else None,
        "disclosed": sorted(result.disclosed),
        "claims": result.claims,
    }
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    who = f"{issuer.name} (OIN {issuer.oin})" if issuer else result.iss
    print("VALID: the credential is genuine and still valid.")
    print(f"  issued by:   {who}")
    print(f"  type:        {result.vct}")
    print(f"  issued at:   {report['issuedAt'] or 'not stated'}")
    print(f"  valid until: {report['expiresAt']}")
    print(f"  status:      {'checked, valid' if result.status else 'the credential has no status list'}")
    if result.key_binding:
        print(f"  presented to {result.key_binding.aud} by the holder (nonce {result.key_binding.nonce})")
    print("  claims:")
    for line in json.dumps(result.claims, indent=2, ensure_ascii=False).splitlines():
        print("    " + line)


def _print_invalid(error: ProtocolError, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"valid": False, "code": error.code, "message": error.message}, indent=2))
    else:
        print(f"NOT VALID ({error.code}): {error.message}")


# ---------------------------------------------------------------------------------------------
# Wiring


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: usage error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``blauweknop`` command."""
    parser = _Parser(prog="blauweknop", description="Keys, credentials and verification for De Blauwe Knop.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    keys = commands.add_parser("keys", help="make and show signing keys").add_subparsers(dest="action", required=True)
    generate = keys.add_parser("generate", help="write a new private JWK")
    generate.add_argument("--alg", choices=ALLOWED_ALGS, default="ES256")
    generate.add_argument("--out", required=True, metavar="FILE")
    generate.set_defaults(run=_keys_generate)
    public = keys.add_parser("public", help="print the public JWK of a private key file")
    public.add_argument("file", metavar="FILE")
    public.set_defaults(run=_keys_public)

    credential = commands.add_parser("credential", help="issue and present SD-JWT VCs").add_subparsers(
        dest="action", required=True
    )
    issue = credential.add_parser("issue", help="print an SD-JWT VC with every data claim disclosable")
    issue.add_argument("--issuer-key", required=True, metavar="FILE")
    issue.add_argument("--iss", required=True, metavar="URL")
    issue.add_argument("--vct", required=True, metavar="URI")
    issue.add_argument("--claims", required=True, metavar="FILE.json")
    issue.add_argument("--holder-jwk", metavar="FILE")
    issue.add_argument("--valid-days", type=int, default=30, metavar="N")
    issue.add_argument("--status-uri", metavar="URI")
    issue.add_argument("--status-idx", type=int, metavar="N")
    issue.set_defaults(run=_credential_issue)
    present = credential.add_parser("present", help="print a presentation with only the chosen claims")
    present.add_argument("file", metavar="FILE", help="the issued credential, or - for standard input")
    present.add_argument("--disclose", action="append", default=[], metavar="PATH", help="e.g. adres.woonplaats")
    present.add_argument("--holder-key", metavar="FILE")
    present.add_argument("--aud", metavar="A")
    present.add_argument("--nonce", metavar="N")
    present.set_defaults(run=_credential_present)

    verify = commands.add_parser("verify", help="check a credential or presentation")
    verify.add_argument("file", metavar="FILE", help="the credential, presentation or PDF, or - for standard input")
    trust = verify.add_mutually_exclusive_group()
    trust.add_argument("--issuer-jwks", metavar="FILE", help="trust exactly these issuer keys")
    trust.add_argument("--scheme-document", metavar="FILE_OR_URL", help="trust the holders of the scheme")
    verify.add_argument("--scheme-jwks", metavar="FILE_OR_URL", help="the scheme operator's keys")
    verify.add_argument("--aud", metavar="A")
    verify.add_argument("--nonce", metavar="N")
    verify.add_argument("--require-key-binding", action="store_true")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.set_defaults(run=_verify)

    # Joining the scheme and testing a participant: modules of their own, which use this module's helpers.
    from blauweknop import conformance, joining

    joining.add_commands(commands)
    conformance.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"blauweknop: usage error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ProtocolError as exc:
        print(f"blauweknop: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_INVALID


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
