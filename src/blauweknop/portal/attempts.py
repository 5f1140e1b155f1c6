"""Limits on codes and links that turn out wrong: per client address, per citizen, and per code.

Per address: a code has 60 random bits, so guessing one is hopeless anyway; the limit also keeps
anyone from using the page to make the server look up codes by the thousand. Per code: a valid
code costs an scrypt to open, so one code checked again and again is limited too.

Per citizen (a logged-in one, by pseudonym): share codes and request links the requester does not know.
The portal asks every requester for all citizens from one address, so a requester that limits wrong codes
per caller would otherwise see one citizen's made-up links as the portal's (attacker review A7).

Counted in the deployment's shared cache, so every process counts together, and counted at once
(an atomic increment) before the work it limits, so requests that come together cannot all slip
under the limit. If the cache cannot be reached the page keeps working (a lost count, not a lost
page), which the 60 bits make safe.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest

from blauweknop import shared_cache

WRONG_CODES = 20  # wrong codes per address before the page stops looking codes up
WINDOW = 15 * 60  # seconds after the last wrong code that the count is kept
CHECKS_PER_CODE = 30  # checks of one code within CODE_WINDOW
CODE_WINDOW = 60 * 60  # seconds after the last check of a code that its count is kept


ADDRESS, CITIZEN = "adres", "burger"  # which limit a refused try reached


def _keys(request: HttpRequest, citizen: str | None) -> dict[str, str]:
    keys = {ADDRESS: shared_cache.key("controlecode-pogingen", shared_cache.client_address(request))}
    if citizen:
        keys[CITIZEN] = shared_cache.key("deelcode-pogingen-burger", citizen)
    return keys


def _count_all(keys: dict[str, str], delta: int) -> dict[str, int | None]:
    return {limit: shared_cache.count(key, delta, WINDOW) for limit, key in keys.items()}


async def take_counted(request: HttpRequest, citizen: str | None = None) -> str | None:
    """Count one try of a code (or link) for this client, and for ``citizen`` (a pseudonym) if given.

    ``None`` when it may try now; else the limit it reached: :data:`CITIZEN` (this citizen's own wrong
    tries) before :data:`ADDRESS` (anyone's at this address). A try that turns out right, or fails for
    another reason than being wrong, is given back (:func:`give_back`): the count is of wrong and pending tries.
    """
    counts = await sync_to_async(_count_all)(_keys(request, citizen), 1)
    over = [limit for limit, tries in counts.items() if tries is not None and tries > WRONG_CODES]
    return CITIZEN if CITIZEN in over else (over[0] if over else None)


async def take(request: HttpRequest) -> bool:
    """Count one try of a code for this client; whether it may try now (``False``: too many wrong ones)."""
    return await take_counted(request) is None


async def give_back(request: HttpRequest, citizen: str | None = None) -> None:
    """Uncount the try of a code (or link) that was right, or that failed for another reason than being wrong."""
    await sync_to_async(_count_all)(_keys(request, citizen), -1)


def code_checked(lookup: str) -> bool:
    """Count one check of the code stored under ``lookup``; whether it may be opened now. Blocking."""
    checks = shared_cache.count(shared_cache.key("controlecode-controles", lookup), 1, CODE_WINDOW)
    return checks is None or checks <= CHECKS_PER_CODE
