"""Printed copies that can be checked by their code, without the file (issue 8, item 4).

When a citizen downloads a PDF, the portal draws a check code, keeps the presentation sealed under
it (:mod:`blauweknop.protocol.check_code`) and asks the holder to print the code on the PDF. Whoever
holds the paper types the code on the verify page; the portal unseals the presentation and checks it
exactly as an uploaded file. The row lives as long as the copy is valid; the prune task deletes it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from asgiref.sync import sync_to_async
from django.conf import settings

from blauweknop.db import write_transaction
from blauweknop.portal import attempts
from blauweknop.portal.holders import Citizen, print_copy
from blauweknop.portal.models import PrintedCopy
from blauweknop.protocol import check_code, sdjwt
from blauweknop.protocol.scheme_document import Participant, SchemeDocument

logger = logging.getLogger(__name__)

# Opening a copy runs scrypt at 32 MiB: this many at once per process bound the memory it takes.
UNSEALING = 3
BUSY_WAIT = 10.0  # seconds a check waits for its turn before the page says it is busy
_unsealing = threading.BoundedSemaphore(UNSEALING)


class Busy(Exception):
    """Too many copies are being opened in this process: try again shortly."""


class TooOften(Exception):
    """This code was checked too often lately (:data:`attempts.CHECKS_PER_CODE`)."""


@dataclass(frozen=True)
class Opened:
    """A printed copy opened with its code: the presentation to verify, and whose copy it is."""

    code: str  # normalised
    presentation: str
    citizen: str  # keyed pseudonym


def _lookup(code: str) -> str:
    return check_code.lookup(code, settings.PSEUDONYM_KEY.encode())


def _context(holder_oin: str, type_id: str, citizen: str) -> bytes:
    # Bound into the seal: a row whose holder, type or citizen was changed in the database no longer opens.
    return f"{holder_oin}|{type_id}|{citizen}".encode()


def _keep(code: str, presentation: str, holder_oin: str, type_id: str, citizen: str) -> None:
    expires_at = datetime.fromtimestamp(sdjwt.unverified_claims(presentation)["exp"], UTC)
    sealed = check_code.seal(presentation, code, _context(holder_oin, type_id, citizen))
    with write_transaction():
        PrintedCopy.objects.create(
            lookup=_lookup(code),
            sealed=sealed,
            citizen=citizen,
            holder_oin=holder_oin,
            document_type=type_id,
            expires_at=expires_at,
        )


async def print_checkable(
    scheme: SchemeDocument, holder: Participant, citizen: Citizen, presentation: str, language: str, type_id: str
) -> bytes | None:
    """A PDF of ``presentation`` signed by ``holder``, with a check code that opens its verify page.

    ``None`` if the holder cannot print it now; the code is then not kept either. ``presentation``
    is a copy the portal verified when it was fetched.
    """
    code = check_code.new_code()
    printed = await print_copy(scheme, holder, citizen, presentation, language, code)
    if printed is not None:
        await sync_to_async(_keep)(code, presentation, holder.oin, type_id, citizen.pseudonym)
    return printed


def _open(typed: str) -> Opened | None:
    code = check_code.normalise(typed)
    # A code that cannot be one is still looked up (under a name no code has), so that a malformed
    # and an unknown code cost the same; only the right code costs the scrypt of unsealing.
    found = PrintedCopy.objects.filter(lookup=_lookup(code) if code else "-").first()
    if found is None or code is None:
        return None
    if not attempts.code_checked(found.lookup):
        raise TooOften
    context = _context(found.holder_oin, found.document_type, found.citizen)
    if not _unsealing.acquire(timeout=BUSY_WAIT):
        raise Busy
    try:
        presentation = check_code.unseal(bytes(found.sealed), code, context)
    except check_code.WrongCode:
        logger.warning("printed copy %s does not open with its own code: changed in the database?", found.pk)
        return None
    finally:
        _unsealing.release()
    return Opened(code, presentation, found.citizen)


async def open_copy(typed: str) -> Opened | None:
    """The printed copy whose code someone typed, or ``None`` for a code that is malformed or unknown.

    :class:`TooOften` if the code was checked too often lately, :class:`Busy` if its turn to be
    opened did not come within :data:`BUSY_WAIT`.
    """
    return await sync_to_async(_open)(typed)


def prune(now: datetime) -> int:
    """Delete the printed copies that have expired: their codes stop working. How many."""
    with write_transaction():
        return PrintedCopy.objects.filter(expires_at__lt=now).delete()[0]
