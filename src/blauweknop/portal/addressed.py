"""Is a verified copy the one the portal asked for: from that holder, of that type, about this citizen?

Verification proves that some certified holder signed a copy and has not withdrawn it. It does not prove that
the copy answers the question asked: a faulty or hostile holder could send a genuine copy about another person,
of another type, or signed by another holder. The portal shows a copy only when every one of these holds.
"""

from __future__ import annotations

import hmac
from typing import Any

from blauweknop.document_types import Catalogue
from blauweknop.protocol.jwk import thumbprint
from blauweknop.protocol.sdjwt_vc import VerifiedCredential


def mismatch(
    verified: VerifiedCredential,
    *,
    issuer: str,
    type_id: str | None,
    catalogue: Catalogue,
    wallet_jwk: dict[str, Any],
    bsn: str,
) -> str | None:
    """Why ``verified`` is not the copy asked for, as a reason code for the operator's log; ``None`` if it is.

    ``issuer``: the issuer URL of the holder asked; ``type_id``: the catalogue id of the document type asked
    for (``None``: one the holder does not issue); ``catalogue``: the types of the scheme document in force;
    ``wallet_jwk``: the key the copy must be bound to (this session's); ``bsn``: whom it must be about.
    """
    if verified.iss != issuer:
        return "wrong_issuer"
    # Any version the scheme lists: a holder that read a newer scheme document than ours (the minutes between
    # refreshes) issues the newest version, which may be one we do not know as the newest yet, or the reverse.
    document_type = catalogue.by_vct(verified.vct)
    if type_id is None or document_type is None or document_type.id != type_id:
        return "wrong_type"
    if verified.holder_jwk is None or thumbprint(verified.holder_jwk) != thumbprint(wallet_jwk):
        return "wrong_wallet"
    subject = verified.claims.get("burgerservicenummer")
    if not isinstance(subject, str) or not hmac.compare_digest(subject.encode(), bsn.encode()):
        return "wrong_subject"
    if verified.status is None:  # a copy without a status could never be withdrawn
        return "no_status"
    return None
