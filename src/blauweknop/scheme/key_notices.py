"""Telling a participant at once that a new key was announced for it through the API, and showing the operator.

Whoever holds a participant's current key (a thief too) can announce a key of its own through
``POST /stelsel/api/v1/deelnemers/{oin}/sleutels``; after the notice it signs for the participant. So the
participant's contact address (``contact.email``, given when it applied; never published) gets a mail at
once: which key, when it starts to sign, and to call the operator to stop it. The mail goes from the
worker (Django's tasks), never from the request: a slow mail server must not hold the API. A mail that
cannot be sent is tried again, :data:`ATTEMPTS` times in all. The operator's monitoring page lists the
keys participants announced themselves in the last :data:`RECENT` that still stand (:func:`recent`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django_tasks import task

from blauweknop.scheme import keys
from blauweknop.scheme.models import AuditEntry, Key, Organisation

logger = logging.getLogger(__name__)

ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=2)  # times the attempt: the notice is short, so try again soon
RECENT = timedelta(days=14)
SUBJECT = "Nieuwe sleutel aangekondigd / New key announced"
BODY = """Voor {name} (OIN {oin}) is een nieuwe sleutel aangekondigd bij De Blauwe Knop: {kid}.
Dat gebeurde op {added} via de API van de stelselbeheerder, ondertekend met een van uw sleutels.
Op {usable} gaat deze sleutel voor u ondertekenen.

Heeft uw organisatie dit gedaan? Dan hoeft u niets te doen.
Weet u hier niets van? Bel dan meteen de stelselbeheerder van De Blauwe Knop ({operator}).
Vraag of die sleutel {kid} intrekt, voor {usable}. Dan is een sleutel van u misschien gestolen: vraag
ook een nieuwe sleutel aan.

A new key was announced for {name} (OIN {oin}) at De Blauwe Knop: {kid}.
This happened on {added} through the scheme operator's API, signed with one of your keys.
From {usable}, this key will sign for you.

Did your organisation do this? Then you need not do anything.
Do you know nothing of this? Then call the scheme operator of De Blauwe Knop at once ({operator}).
Ask it to revoke key {kid} before {usable}. A key of yours may have been stolen: ask for a new key too.

Deze e-mail is automatisch verstuurd door De Blauwe Knop. U kunt er niet op antwoorden.
This e-mail was sent automatically by De Blauwe Knop. You cannot reply to it.
"""


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%d-%m-%Y %H:%M (%Z)")


def message(organisation: Organisation, key: Key) -> tuple[str, str]:
    """The subject and body of the mail about ``key``, a new key of ``organisation``."""
    return SUBJECT, BODY.format(
        name=organisation.name,
        oin=organisation.oin,
        kid=key.kid,
        added=_when(key.added_at),
        usable=_when(key.usable_from or key.added_at),
        operator=settings.SCHEME_URL,
    )


@task()
def tell_key_announced(oin: str, kid: str, attempt: int = 1) -> bool:
    """Mail ``oin``'s contact that its key ``kid`` was announced; whether a mail went.

    Nothing goes when the key was revoked or retired meanwhile, or the participant gave no e-mail address.
    """
    organisation = Organisation.objects.filter(oin=oin).first()
    key = Key.objects.filter(owner=oin, kid=kid, state__in=[Key.State.NEXT, Key.State.CURRENT]).first()
    address = organisation.contact.get("email") if organisation is not None else None
    if organisation is None or key is None or not address:
        logger.warning("no mail about the new key %s of %s: no such key, or no contact e-mail", kid, oin)
        return False
    subject, body = message(organisation, key)
    try:
        send_mail(subject, body, None, [address])
    except OSError as exc:  # smtplib's errors are OSErrors too
        logger.warning(
            "mail about the new key %s of %s not sent (attempt %s of %s): %s",
            kid,
            oin,
            attempt,
            ATTEMPTS,
            type(exc).__name__,
        )
        if attempt < ATTEMPTS:
            tell_key_announced.using(run_after=timezone.now() + RETRY_AFTER * attempt).enqueue(oin, kid, attempt + 1)
        return False
    logger.info("mail about the new key %s of %s sent", kid, oin)
    return True


@dataclass(frozen=True)
class Announced:
    """A key a participant announced itself: whose, which, when, and whether it signs yet."""

    owner: str
    name: str
    kid: str
    added_at: datetime
    usable_from: datetime | None
    state: str


def recent(now: datetime) -> list[Announced]:
    """The keys participants announced through the API since ``now - RECENT`` that are not revoked or retired."""
    added = AuditEntry.objects.filter(action="key_added", actor=keys.PARTICIPANT, at__gte=now - RECENT)
    wanted = {(owner, details.get("kid")) for owner, details in added.values_list("subject", "details")}
    names = dict(Organisation.objects.filter(oin__in={owner for owner, _ in wanted}).values_list("oin", "name"))
    standing = Key.objects.filter(
        owner__in=names, kid__in={kid for _, kid in wanted}, state__in=[Key.State.NEXT, Key.State.CURRENT]
    ).order_by("-added_at", "pk")
    return [
        Announced(key.owner, names[key.owner], key.kid, key.added_at, key.usable_from, key.state)
        for key in standing
        if (key.owner, key.kid) in wanted
    ]
