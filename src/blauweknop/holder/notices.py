"""Telling app managers that a correction request has news: the holder's side of ``POST …/meldingen``.

When holder staff decide on a correction request or extend its term, the request gets ``notice_pending``.
Every minute the worker tells the app manager the request came through (the portal) that there is news:
``POST <its fetch endpoint>/meldingen`` with the kenmerk, the portal's own ``verzoeksleutel`` if the request came
with one (a portal whose answer to the request was lost knows the request only by that key), and a client
assertion signed with the holder tenant's current key. The portal then e-mails the citizen if asked (no data,
only "log in"). On a 2xx the flag is cleared.

A refusal is final: a 404 means the portal has no ticket for the kenmerk (it lost it, or never kept it) and
never will, and any other 4xx but 401, 403, 408 and 429 says the notice itself is wrong; asking again would change
nothing, and stopping there would block every later notice to that portal. The flag is cleared and the
operator warned (kenmerk and OINs, never a BSN); the citizen still sees the news after logging in.
No answer, a timeout, 401, 403, 408, 429 or 5xx means the portal cannot take it now (or does not trust the
holder for a moment): this request is tried again later (after 1, 2, 4 … minutes, at most an hour apart,
:func:`backoff`) and the run stops for that app manager.
So does an app manager the scheme document does not list (or suspended); a holder that is not certified now,
or lacks its key, waits the same way without stopping other holders' notices. Each request keeps its own
clock (``notice_tries``, ``notice_next_try``): one that waits never blocks the others. After about three days
of tries the notice is given up with an error in the log.

Two workers at once send each notice once (:func:`blauweknop.retries.claimed`). The flag is cleared only if the
request is still as it was when told: news that came meanwhile (a decision after an extension) is told on the
next run.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tasks import task

from blauweknop import keystore, signing
from blauweknop.conformance.probe import Probe
from blauweknop.holder.models import CorrectionRequest
from blauweknop.protocol import client_assertion
from blauweknop.protocol.scheme_document import HOLDER, SchemeDocument
from blauweknop.retries import GIVE_UP, Outcome, backoff, final_refusal, given_up, tell_in_a_run

logger = logging.getLogger(__name__)

PER_APP_MANAGER = 50  # notices to one app manager per run: its limit is 120 a minute per holder
ANSWER_DEADLINE = 10.0  # seconds for one notice, answer included
RUN_DEADLINE = 45.0  # seconds for all notices of a run: the next run starts a minute later
MAX_ANSWER = 4096  # bytes: the answer is empty, or a short problem
USER_AGENT = "blauweknop-holder"
FINAL = (CorrectionRequest.State.CORRECTED, CorrectionRequest.State.REJECTED)


@task()
def tell_app_managers() -> int:
    """Tell the app managers of the correction requests with news; how many were told."""
    return tell_pending()


def tell_pending(per_app_manager: int = PER_APP_MANAGER) -> int:
    """Tell each app manager of at most ``per_app_manager`` requests with news that are due; how many were told.

    An app manager that cannot take a notice now is not asked again in this run: its others wait for the
    next. Blocking.
    """
    return tell_in_a_run(
        lambda: _due(timezone.now()),
        "app_manager_oin",
        per_app_manager,
        "melding",
        _tell,
        _failed,
        answer_deadline=ANSWER_DEADLINE,
        run_deadline=RUN_DEADLINE,
        max_answer=MAX_ANSWER,
        user_agent=USER_AGENT,
        what="correction notices",
    )


def _due(now: datetime) -> QuerySet[CorrectionRequest]:
    """The requests with news whose next try has come."""
    return CorrectionRequest.objects.filter(notice_pending=True).filter(
        Q(notice_next_try__isnull=True) | Q(notice_next_try__lte=now)
    )


def _tell(probe: Probe, scheme: SchemeDocument, request: CorrectionRequest) -> Outcome:
    """Tell the app manager of ``request`` that it has news; clear the flag if it took the notice or refused it."""
    holder, reference, app_manager = request.holder_id, request.reference, request.app_manager_oin
    manager = scheme.app_managers.get(app_manager)
    endpoint = manager.endpoints.get("fetch") if manager is not None and manager.is_certified else None
    if endpoint is None:
        logger.warning(
            "notice of correction request %s of holder %s waits: app manager %s is not certified in the scheme",
            reference,
            holder,
            app_manager,
        )
        return Outcome.RECEIVER_FAILED
    if not scheme.is_certified(holder, HOLDER):
        logger.warning("notice of correction request %s waits: holder %s is not certified now", reference, holder)
        return Outcome.WAITS
    address = f"{endpoint.rstrip('/')}/meldingen"
    try:
        key = signing.key_in(scheme, holder)
    except keystore.MissingKey:
        return Outcome.WAITS  # signing.key_for told the operator which key to add
    body = {
        "kenmerk": reference,
        "afgerond": request.state in FINAL,
        **({"verzoeksleutel": request.request_key} if request.request_key else {}),
        "client_assertion_type": client_assertion.ASSERTION_TYPE,
        "client_assertion": client_assertion.sign(key, client_id=holder, audience=address),
    }
    answer = probe.request("POST", address, "notice", json=body, headers={"Accept": "application/json"})
    status = answer.status
    if status is not None and 200 <= status < 300:
        _settled(request)
        logger.info("app manager %s told of news about correction request %s", app_manager, reference)
        return Outcome.TOLD
    if status == 404:
        _settled(request)
        logger.warning(
            "notice of correction request %s of holder %s dropped: app manager %s does not know it (HTTP 404); "
            "the citizen sees the news only after logging in. Find out why that portal has no ticket for it",
            reference,
            holder,
            app_manager,
        )
        return Outcome.REFUSED
    if final_refusal(status):
        _settled(request)
        logger.error(
            "notice of correction request %s of holder %s dropped: app manager %s refused it: %s",
            reference,
            holder,
            app_manager,
            answer.described(),
        )
        return Outcome.REFUSED
    logger.warning(
        "notice of correction request %s of holder %s not taken by app manager %s: %s; tried again later",
        reference,
        holder,
        app_manager,
        answer.described(),
    )
    return Outcome.RECEIVER_FAILED


def _settled(request: CorrectionRequest) -> None:
    """Clear the flag of ``request`` if it is still as it was when told; news that came meanwhile waits its turn."""
    CorrectionRequest.objects.filter(
        pk=request.pk,
        notice_pending=True,
        state=request.state,
        deadline=request.deadline,
        decided_at=request.decided_at,
    ).update(notice_pending=False, notice_tries=0, notice_next_try=None)


def _failed(request: CorrectionRequest) -> None:
    """Count a failed try of ``request``: try again after :func:`backoff`, or give up after :data:`GIVE_UP`."""
    tries = request.notice_tries + 1
    if given_up(tries):
        _settled(request)
        logger.error(
            "notice of correction request %s of holder %s given up: app manager %s did not take it in %d tries "
            "over %s; the citizen sees the news only after logging in",
            request.reference,
            request.holder_id,
            request.app_manager_oin,
            tries,
            GIVE_UP,
        )
        return
    CorrectionRequest.objects.filter(pk=request.pk).update(
        notice_tries=tries, notice_next_try=timezone.now() + backoff(tries)
    )
