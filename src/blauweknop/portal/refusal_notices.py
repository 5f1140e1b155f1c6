"""Telling holders of standing fetches this portal refused: the portal's side of ``POST …/geweigerde-ophalingen``.

A requester fetching under a withdrawn, ended or refused consent, under a one-time one, or while suspended,
is refused by the portal without asking the holders (:mod:`blauweknop.portal.fetch_api`). The holders that
delivered under that consent must still record it (issue 10, item 8): the citizen's "Wie heeft mijn gegevens
ingezien?" is built from their records. The refusal queues a :class:`RefusalNotice` per such holder
(:func:`blauweknop.portal.consents.fetch_refused`); every minute the worker tells each holder: the consent id
and the refusal code, with a client assertion of this app manager for the exact address. No BSN: it was
wiped with the withdrawal, and the holder finds the citizen in its own records of that consent.

Sent as every notice of the portal (:mod:`blauweknop.portal.notices`): a 2xx, or a final refusal (400, 404,
422 …; a 404 says the holder shared nothing under the consent for us), settles the notice. No answer, a
timeout, 401, 403, 408, 429 or 5xx is tried again later with :func:`blauweknop.retries.backoff`, and the run
stops for that holder; after about three days it is given up with an error in the log. A holder the scheme
does not certify now waits the same way. Holders are told in turn (:func:`blauweknop.retries.tell_due`): a few
that hang cannot starve the others.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from blauweknop.conformance.probe import Probe
from blauweknop.db import write_transaction
from blauweknop.portal import notices
from blauweknop.portal.models import RefusalNotice
from blauweknop.protocol.scheme_document import HOLDER, SchemeDocument
from blauweknop.retries import GIVE_UP, Outcome, count_failure

logger = logging.getLogger(__name__)

PATH = "geweigerde-ophalingen"  # under the holder's API address
KEEP_DONE = timedelta(hours=2)  # a done notice still blocks a second one in its hour; then it goes


@task()
def tell_holders() -> int:
    """Tell the holders of the standing fetches refused under consents they delivered under; how many were told."""
    return tell_pending()


def tell_pending(per_holder: int = notices.PER_RECEIVER) -> int:
    """Tell each holder of at most ``per_holder`` refusals that are due; how many were told. Blocking.

    Done notices whose hour is over are deleted first: the table holds little more than an hour's refusals.
    """
    with write_transaction():
        RefusalNotice.objects.filter(done_at__isnull=False, hour__lt=timezone.now() - KEEP_DONE).delete()
    return notices.tell_waiting(
        RefusalNotice, "holder_oin", per_holder, "weigeringsmelding", _tell, _failed, "refused-fetch notices"
    )


def _tell(probe: Probe, scheme: SchemeDocument, notice: RefusalNotice) -> Outcome:
    """Tell the holder of ``notice``; settle it if the holder took it or refused it for good."""
    holder, consent = notice.holder_oin, notice.consent_id
    participant = scheme.organisations.get(holder)
    endpoint = participant.endpoints.get("api") if participant is not None else None
    if endpoint is None or not scheme.is_certified(holder, HOLDER):
        logger.warning("notice of a refused fetch under consent %s waits: holder %s is not certified", consent, holder)
        return Outcome.RECEIVER_FAILED
    payload = {"toestemming": consent, "code": notice.code}
    about = f"notice of a refused fetch under consent {consent} ({notice.code}) to holder {holder}"
    return notices.send(probe, scheme, notice, f"{endpoint.rstrip('/')}/{PATH}", payload, about)


def _failed(notice: RefusalNotice) -> None:
    """Count a failed try of ``notice``; log when it is given up after :data:`GIVE_UP`."""
    if count_failure(notice):
        logger.error(
            "notice of a refused fetch under consent %s given up: holder %s did not take it in %d tries over %s",
            notice.consent_id,
            notice.holder_oin,
            notice.tries + 1,
            GIVE_UP,
        )
