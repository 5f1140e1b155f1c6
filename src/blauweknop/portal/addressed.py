"""Is a verified copy the one the portal asked for: from that holder, of that type, about this citizen?

Verification proves that some certified holder signed a copy and has not withdrawn it. It does not prove that
the copy answers the question asked: a faulty or hostile holder could send a genuine copy about another person,
of another type, or signed by another holder. The portal shows a copy only when every one of these holds.
"""

from __future__ import annotations

import hmac
from typing import Any

from blauweknop.protocol.jwk import thumbprint
from blauweknop.protocol.sdjwt_vc import VerifiedCredential


def mismatch(
    verified: VerifiedCredential, *, issuer: str, vct: str | None, wallet_jwk: dict[str, Any], bsn: str
) -> str | None:
    """Why ``verified`` is not the copy asked for, as a reason code for the operator's log; ``None`` if it is.

    ``issuer``: the issuer URL of the holder asked; ``vct``: the catalogue's type of the document asked for;
    ``wallet_jwk``: the key the copy must be bound to (this session's); ``bsn``: whom it must be about.
    """
    if verified.iss != issuer:
        return "wrong_issuer"
    if vct is None or verified.vct != vct:
        return "wrong_type"
    if verified.holder_jwk is None or thumbprint(verified.holder_jwk) != thumbprint(wallet_jwk):
        return "wrong_wallet"
    subject = verified.claims.get("burgerservicenummer")
    if not isinstance(subject, str) or not hmac.compare_digest(subject.encode(), bsn.encode()):
        return "wrong_subject"
    if verified.status is None:  # a copy without a status could never be withdrawn
        return "no_status"
    return None
