"""Telling a citizen by e-mail that a correction request has news: "log in to see it", nothing more.

The portal does not know at send time which language the citizen reads, so the one mail says it in Dutch
and in English. It holds no name, no BSN, no data, no field and no kenmerk: a mailbox is not a safe place,
and an address may be mistyped. What the news is, the citizen sees after logging in (``/correctieverzoeken/``).

A request has at most two pieces of news: the holder extends its term (once, GDPR art. 12(3)), and the
holder decides. The address is kept until the decision has been told, then erased; news the citizen was
told already is not told twice (the holder may tell the portal again when it missed the portal's answer).
The rules, on :class:`~blauweknop.portal.models.CorrectionTicket`:

- news is *untold* while ``news_at`` is set and ``told_at`` is empty or older;
- a mail goes out only for untold news, and ``told_at`` is set before it goes, so a second task for the
  same news (or two workers at once) sends nothing;
- after the decision's mail (``final``) the address is erased; a mail that cannot be sent is tried again
  later, :data:`ATTEMPTS` times in all, and after a decision the address is erased then anyway.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from blauweknop.db import lock_name, write_transaction
from blauweknop.portal.models import CorrectionTicket

logger = logging.getLogger(__name__)

ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=10)  # times the attempt: 10, 20, 30 and 40 minutes later
SUBJECT = "Nieuws over uw verzoek / News about your request"
BODY = """Er is nieuws over uw verzoek om gegevens te verbeteren. Log in op {url} om het te zien.

There is news about your request to correct your data. Log in at {url} to see it.

Deze e-mail is automatisch verstuurd door De Blauwe Knop. U kunt er niet op antwoorden.
This e-mail was sent automatically by De Blauwe Knop. You cannot reply to it.
"""


def message() -> tuple[str, str]:
    """The subject and body of the mail: the same for every citizen and every request."""
    return SUBJECT, BODY.format(url=settings.BASE_URL + reverse("portal:corrections"))


def untold(ticket: CorrectionTicket) -> bool:
    """Whether the ticket has news the citizen was not told of yet."""
    return ticket.news_at is not None and (ticket.told_at is None or ticket.told_at < ticket.news_at)


def _lock(ticket_id: int) -> CorrectionTicket | None:
    lock_name(f"correctieticket:{ticket_id}")
    return CorrectionTicket.objects.filter(pk=ticket_id).first()


def _claim(ticket_id: int, final: bool, now: datetime) -> tuple[str, datetime | None] | None:
    """The address to tell and the ticket's ``told_at`` before, now set to ``now``; ``None``: nothing to tell.

    With nothing to tell after a decision, the address is erased here.
    """
    with write_transaction():
        ticket = _lock(ticket_id)
        if ticket is None or not ticket.email:
            return None
        if not untold(ticket):
            if final:
                ticket.email = ""
                ticket.save(update_fields=["email"])
            return None
        before, ticket.told_at = ticket.told_at, now
        ticket.save(update_fields=["told_at"])
        return ticket.email, before


def _sent(ticket_id: int, final: bool) -> None:
    if final:
        with write_transaction():
            CorrectionTicket.objects.filter(pk=ticket_id).update(email="")


def _not_sent(ticket_id: int, claimed: datetime, before: datetime | None, give_up: bool) -> None:
    """The mail did not go: the news is untold again, or (``give_up``) the address goes."""
    with write_transaction():
        ticket = _lock(ticket_id)
        if ticket is None:
            return
        if give_up:
            ticket.email = ""
        if ticket.told_at == claimed:
            ticket.told_at = before
        ticket.save(update_fields=["email", "told_at"])


@task()
def tell_citizen(ticket_id: int, final: bool, attempt: int = 1) -> bool:
    """Send the "there is news" mail of ticket ``ticket_id`` if it has untold news; whether a mail went.

    ``final``: the news is the decision, so the address is erased after it. Safe twice at once.
    """
    now = timezone.now()
    claimed = _claim(ticket_id, final, now)
    if claimed is None:
        return False
    address, before = claimed
    subject, body = message()
    try:
        send_mail(subject, body, None, [address])
    except OSError as exc:  # smtplib's errors are OSErrors too
        give_up = attempt >= ATTEMPTS
        _not_sent(ticket_id, now, before, give_up and final)
        logger.warning(
            "news mail of correction ticket %s not sent (attempt %s of %s): %s",
            ticket_id,
            attempt,
            ATTEMPTS,
            type(exc).__name__,
        )
        if not give_up:
            tell_citizen.using(run_after=now + RETRY_AFTER * attempt).enqueue(ticket_id, final, attempt + 1)
        return False
    _sent(ticket_id, final)
    logger.info("news mail of correction ticket %s sent", ticket_id)
    return True
