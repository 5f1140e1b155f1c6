"""What the portal keeps in the citizen's session (at most 15 minutes): wallet key and copies.

The session lives on the server; the browser holds only its random id. Nothing here is kept
after the session ends: keeping data longer is the wallet's job, and only when the citizen asks.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from blauweknop.portal.holders import Citizen
from blauweknop.protocol.jwk import SigningKey, generate_jwk

WALLET = "bk_wallet"
LEVEL = "bk_assurance_level"
COPIES = "bk_copies"


SESSION_AGE = 15 * 60  # DigiD's rule for a session, also for the mock


def start(request: HttpRequest, assurance_level: str) -> None:
    """Call right after login: the DigiD level, and at most 15 minutes from now."""
    request.session[LEVEL] = assurance_level
    request.session.set_expiry(SESSION_AGE)


async def citizen(request: HttpRequest, user: Any) -> Citizen:
    """The logged-in citizen as the holders must know them; the session's wallet key is made at first use."""
    wallet = await request.session.aget(WALLET)
    if wallet is None:
        wallet = generate_jwk()
        await request.session.aset(WALLET, wallet)
    level = await request.session.aget(LEVEL, "midden")
    return Citizen(user.bsn, level, SigningKey(wallet).public_jwk)


async def keep_credentials(request: HttpRequest, oin: str, credentials: dict[str, str]) -> None:
    """Keep this holder's fresh copies for the rest of the session, replacing older ones."""
    copies = dict(await request.session.aget(COPIES, {}))
    copies[oin] = credentials
    await request.session.aset(COPIES, copies)


async def credentials(request: HttpRequest, oin: str) -> dict[str, str]:
    """The copies from holder ``oin`` fetched in this session, by document type."""
    return (await request.session.aget(COPIES, {})).get(oin, {})
