"""Limits on the verify page's check codes: per client address, and per code.

Per address: a code has 60 random bits, so guessing one is hopeless anyway; the limit also keeps
anyone from using the page to make the server look up codes by the thousand. Per code: a valid
code costs an scrypt to open, so one code checked again and again is limited too.

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


def _address_key(request: HttpRequest) -> str:
    return shared_cache.key("controlecode-pogingen", shared_cache.client_address(request))


async def take(request: HttpRequest) -> bool:
    """Count one try of a code for this client; whether it may try now (``False``: too many wrong ones).

    A try that turns out right is given back (:func:`give_back`): the count is of wrong and pending tries.
    """
    tries = await sync_to_async(shared_cache.count)(_address_key(request), 1, WINDOW)
    return tries is None or tries <= WRONG_CODES


async def give_back(request: HttpRequest) -> None:
    """Uncount the try of a code that was right."""
    await sync_to_async(shared_cache.count)(_address_key(request), -1, WINDOW)


def code_checked(lookup: str) -> bool:
    """Count one check of the code stored under ``lookup``; whether it may be opened now. Blocking."""
    checks = shared_cache.count(shared_cache.key("controlecode-controles", lookup), 1, CODE_WINDOW)
    return checks is None or checks <= CHECKS_PER_CODE
