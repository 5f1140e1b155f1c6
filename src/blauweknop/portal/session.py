"""What the portal keeps for a citizen's session, which ends at most 15 minutes after login.

The session lives on the server; the browser holds only its random id. The session holds the
wallet key and the DigiD level; each holder's copies are in a row of their own (``SessionCopies``),
so that presses at two holders at the same time cannot overwrite each other's copies. Nothing is
kept after the session ends: keeping data longer is the wallet's job, and only when the citizen asks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import user_passes_test
from django.contrib.sessions.models import Session
from django.db import IntegrityError, connections, transaction
from django.http import HttpRequest
from django.utils import timezone

from blauweknop.portal.holders import Citizen
from blauweknop.portal.models import SessionCopies
from blauweknop.protocol.jwk import SigningKey, generate_jwk

logger = logging.getLogger(__name__)

WALLET = "bk_wallet"
LEVEL = "bk_assurance_level"
CHOICES = "bk_choices"  # {holder oin: {document type: [chosen paths]}}, the last choice sent per type
ABSENT = "bk_absent"  # {holder oin: [document types]}: what the holder said, at the last press, it has none of
NOTHING_CHOSEN = "bk_nothing_chosen"  # [holder oin, document type]: a download sent with nothing ticked, said once

SESSION_AGE = 15 * 60  # DigiD's rule for a session, also for the mock
PRUNE_BATCH = 500


def start(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """On every login (``user_logged_in``): the end of the session, and its own wallet key.

    The end is a moment, not a number of seconds: Django re-applies a number of seconds on every
    save, which would extend the session each time the citizen presses a button. The wallet key is
    made here, once, so that two first presses at the same time cannot each make their own.
    """
    request.session.set_expiry(timezone.now() + timedelta(seconds=SESSION_AGE))
    request.session[WALLET] = generate_jwk()


def set_assurance_level(request: HttpRequest, assurance_level: str) -> None:
    """The DigiD level this login reached."""
    request.session[LEVEL] = assurance_level


def is_citizen(user: Any) -> bool:
    """Logged in with DigiD: a BSN. A requester's staff member logged in to this same site has none."""
    return bool(user.is_authenticated and getattr(user, "bsn", ""))


# login_required for the citizen's pages: a staff member's login (password and second factor, no BSN) does not
# open them; it is sent to the DigiD login instead, as anyone else without a citizen's login.
citizen_required = user_passes_test(is_citizen)


async def citizen(request: HttpRequest, user: Any) -> Citizen:
    """The logged-in citizen as the holders must know them."""
    wallet = await request.session.aget(WALLET)
    level = await request.session.aget(LEVEL, "midden")
    return Citizen(user.bsn, level, SigningKey(wallet).public_jwk)


@dataclass(frozen=True)
class HolderAnswer:
    """How one holder last answered in this session: its verified copies, what it has none of, or why not."""

    oin: str
    outcome: str  # a SessionCopies.Outcome value
    credentials: dict[str, str]  # document type: the copy as issued, verified when it was fetched
    absent: list[str]
    fetched_at: datetime

    def __repr__(self) -> str:  # the copies hold personal data
        return f"HolderAnswer({self.oin}, {self.outcome})"


class Answered(NamedTuple):
    """How one holder answered, to be kept: see :func:`keep_answers`."""

    oin: str
    outcome: str  # a SessionCopies.Outcome value
    credentials: dict[str, str]  # document type: a verified copy
    absent: list[str]


def _keep(session_key: str, answered: list[Answered], *, release: bool = False) -> None:
    """Keep every answer in one write; ``release``: then give the database connection back."""
    rows = [
        SessionCopies(
            session_id=session_key, holder_oin=a.oin, credentials=a.credentials, outcome=a.outcome, absent=a.absent
        )
        for a in answered
    ]
    try:
        with transaction.atomic():
            SessionCopies.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["session", "holder_oin"],
                update_fields=["credentials", "outcome", "absent", "fetched_at"],
            )
    except IntegrityError:  # the session row is gone: the citizen logged out, or it was pruned
        # The next page sends the citizen to the login page, which says that the session ended.
        logger.info("copies of %d holders not kept: the session ended while they were fetched", len(rows))
    finally:
        if release:
            connections.close_all()


async def keep_credentials(request: HttpRequest, oin: str, credentials: dict[str, str]) -> None:
    """Keep this holder's fresh copies for the rest of the session, replacing its older ones."""
    answered = Answered(oin, SessionCopies.Outcome.FETCHED, credentials, [])
    await sync_to_async(_keep)(request.session.session_key, [answered])


async def keep_answers(session_key: str, answered: Iterable[Answered], *, release: bool = True) -> None:
    """Keep how each of several holders answered, replacing their earlier answers, in one write.

    Safe while a response is streamed: it takes the session key, not the request, for a streamed page
    can no longer change the session itself. ``release``: then give the database connection back (one
    hop to the database's thread for both), for a streamed page that goes on to wait for other holders.
    """
    if answered := list(answered):
        await sync_to_async(_keep)(session_key, answered, release=release)


async def answers(request: HttpRequest) -> dict[str, HolderAnswer]:
    """Every holder's last answer in this session (from the overview or a press of its button), by OIN."""
    rows = SessionCopies.objects.filter(session_id=request.session.session_key).order_by("holder_oin")
    return {
        row.holder_oin: HolderAnswer(row.holder_oin, row.outcome, row.credentials, row.absent, row.fetched_at)
        async for row in rows
    }


async def credentials(request: HttpRequest, oin: str) -> dict[str, str]:
    """The copies from holder ``oin`` fetched in this session, by document type."""
    kept = SessionCopies.objects.filter(session_id=request.session.session_key, holder_oin=oin)
    return await kept.values_list("credentials", flat=True).afirst() or {}


async def keep_choices(request: HttpRequest, oin: str, paths: dict[str, list[str]]) -> None:
    """Remember the fields the citizen last sent per type, so the data page shows them again."""
    kept = await request.session.aget(CHOICES, {})
    kept.setdefault(oin, {}).update(paths)
    await request.session.aset(CHOICES, kept)


async def choices(request: HttpRequest, oin: str) -> dict[str, list[str]]:
    """The fields last sent per document type of holder ``oin``; a type not in it was not sent yet."""
    return (await request.session.aget(CHOICES, {})).get(oin, {})


async def forget_choices(request: HttpRequest, oin: str) -> None:
    """Fresh copies from holder ``oin`` start from the default choice again."""
    kept = await request.session.aget(CHOICES, {})
    if kept.pop(oin, None) is not None:
        await request.session.aset(CHOICES, kept)


async def keep_absent(request: HttpRequest, oin: str, type_ids: list[str]) -> None:
    """Remember which document types holder ``oin`` said it has none of, replacing what an earlier press said."""
    kept = await request.session.aget(ABSENT, {})
    kept[oin] = type_ids
    await request.session.aset(ABSENT, kept)


async def absent(request: HttpRequest, oin: str) -> list[str]:
    """The document types holder ``oin`` has none of about the citizen, as it said at the last press."""
    return (await request.session.aget(ABSENT, {})).get(oin, [])


async def note_nothing_chosen(request: HttpRequest, oin: str, type_id: str) -> None:
    """The citizen asked for a download of ``type_id`` with nothing ticked: the next data page says so there."""
    await request.session.aset(NOTHING_CHOSEN, [oin, type_id])


async def nothing_chosen(request: HttpRequest, oin: str) -> str | None:
    """The document type of holder ``oin`` last downloaded with nothing ticked, once; then it is forgotten."""
    noted = await request.session.apop(NOTHING_CHOSEN, None)
    return noted[1] if isinstance(noted, list) and noted[0] == oin else None


def prune(now: datetime) -> int:
    """Delete the sessions that ended before ``now`` with their copies, a batch at a time; how many sessions.

    Safe to run twice at once: what the other run deleted first is simply no longer there.
    """
    deleted = 0
    while keys := list(Session.objects.filter(expire_date__lt=now).values_list("pk", flat=True)[:PRUNE_BATCH]):
        with transaction.atomic():
            deleted += Session.objects.filter(pk__in=keys, expire_date__lt=now).delete()[1].get("sessions.Session", 0)
            # Copies a request was still writing while its session ended; the foreign key is checked at commit.
            SessionCopies.objects.filter(session_id__in=keys).delete()
    return deleted
