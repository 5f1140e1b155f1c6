"""One error hierarchy for the protocol core.

Every failure carries a stable machine ``code`` (for APIs, logs and translations) and a plain
English ``message`` (for people). Messages never contain personal data such as a BSN.
"""

from __future__ import annotations

# The stable codes and their default plain messages. Callers may give a more specific message,
# but never a new code that is not listed here: the codes are a public contract.
MESSAGES: dict[str, str] = {
    # Input that is not even well-formed.
    "malformed": "The data is damaged or is not in the expected format.",
    "bad_key": "The key is not a valid key for this scheme.",
    "bad_claims": "The claims cannot be used to make a credential.",
    "bad_path": "The claim path does not point at a claim in this credential.",
    "bad_bsn": "This is not a valid BSN.",
    "bad_oin": "This is not a valid OIN.",
    # Signatures and keys.
    "bad_signature": "The signature does not match: the data was changed or signed by someone else.",
    "alg_not_allowed": "The signing algorithm is not allowed.",
    "unknown_key": "The key that signed this is not known.",
    "key_revoked": "The key that signed this was revoked in the scheme (lost or stolen): what it signed is not valid.",
    "unknown_issuer": "The issuer is not known or not trusted.",
    "wrong_typ": "The data is not of the expected type.",
    # SD-JWT structure (RFC 9901).
    "unsupported_hash_alg": "The digest algorithm is not supported.",
    "duplicate_digest": "A digest appears more than once.",
    "duplicate_disclosure": "A disclosure appears more than once.",
    "unreferenced_disclosure": "A disclosure does not belong to this credential.",
    "reserved_claim_name": "A disclosure uses a reserved claim name.",
    "claim_conflict": "A disclosed claim would overwrite a claim that is already there.",
    "not_disclosable": "This claim may never be selectively disclosed.",
    # Time.
    "expired": "Expired: its end date has passed. Ask for a new one.",
    "not_yet_valid": "The credential is not valid yet.",
    "issued_in_future": "The credential claims to be issued in the future.",
    "missing_claim": "A required claim is missing.",
    # Key binding.
    "key_binding_required": "Proof that the holder presented this is required but missing.",
    "no_holder_key": "The credential is not bound to a holder key.",
    "kb_stale": "The proof of the holder is too old or from the future.",
    "aud_mismatch": "The data was meant for another receiver.",
    "nonce_mismatch": "The proof of the holder does not match this request.",
    "sd_hash_mismatch": "The proof of the holder belongs to another presentation.",
    # Status lists.
    "revoked": (
        "Replaced by newer data: the organisation changed the data after this copy was made. "
        "Ask for a new copy (the citizen downloads one with the Blauwe Knop)."
    ),
    "suspended": "The credential is suspended for now.",
    "status_unavailable": "The status of the credential could not be checked.",
    "status_index_out_of_range": "The status index is outside the status list.",
    "status_elsewhere": "The status list is not published on the issuer's own address.",
    # Scheme document.
    "unknown_organisation": "The organisation is not in the scheme.",
    "not_certified": "The organisation is not certified for this role.",
    "scheme_rollback": "This scheme document is older than one already seen.",
    # OAuth and OpenID4VP (RFC 6749 §5.2, OpenID4VP 1.0 §8.5): the error codes those specifications name.
    "invalid_client": "The client could not be authenticated.",
    "invalid_request": "The request is not valid or uses something that is not supported.",
    "invalid_presentation": "The presentation does not answer the request.",
}


class ProtocolError(Exception):
    """Base of every protocol failure: a stable ``code`` plus a plain ``message``."""

    def __init__(self, code: str, message: str | None = None) -> None:
        if code not in MESSAGES:
            raise ValueError(f"unknown error code {code!r}")
        self.code = code
        self.message = message or MESSAGES[code]
        super().__init__(f"{code}: {self.message}")


class InvalidInput(ProtocolError):
    """Input given to build something (claims, keys, paths, identifiers) is not usable."""


class VerificationError(ProtocolError):
    """Something presented to a verifier must be rejected."""
