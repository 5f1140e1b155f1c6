"""Telling app managers that a correction request has news: the holder's side of ``POST …/meldingen``.

When holder staff decide on a correction request or extend its term, the request gets ``notice_pending``.
Every minute the worker tells the app manager the request came through (the portal) that there is news:
``POST <its fetch endpoint>/meldingen`` with the kenmerk only, and a client assertion signed with the holder
tenant's current key. The portal then e-mails the citizen if asked (no data, only "log in"). On a 2xx the
flag is cleared; on anything else it stays for the next run. An app manager the scheme document does not
list (or suspended) is not told: the flag stays, and it is told once it is back.

Two workers at once send each notice once: on PostgreSQL the request's row is locked while it is told
(``SELECT … FOR UPDATE SKIP LOCKED``: the other worker passes it by); SQLite has no row locks, and a writing
transaction there would lock the whole database while the portal (maybe in the same database) answers, so a
short lease in the shared cache marks the request as being told. The flag is cleared only if the request is
still as it was when told: news that came meanwhile (a decision after an extension) is told on the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django_tasks import task

from blauweknop import keystore, shared_cache, signing
from blauweknop.conformance.probe import Probe
from blauweknop.holder.models import CorrectionRequest
from blauweknop.protocol import client_assertion
from blauweknop.protocol.scheme_document import HOLDER, SchemeDocument
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)

PER_APP_MANAGER = 50  # notices to one app manager per run: its limit is 120 a minute per holder
ANSWER_DEADLINE = 10.0  # seconds for one notice, answer included
RUN_DEADLINE = 45.0  # seconds for all notices of a run: the next run starts a minute later
MAX_ANSWER = 4096  # bytes: the answer is empty, or a short problem
LEASE = 120  # seconds a request counts as being told (SQLite): longer than a whole run
USER_AGENT = "blauweknop-holder"
FINAL = (CorrectionRequest.State.CORRECTED, CorrectionRequest.State.REJECTED)


@task()
def tell_app_managers() -> int:
    """Tell the app managers of the correction requests with news; how many were told."""
    return tell_pending()


def tell_pending(per_app_manager: int = PER_APP_MANAGER) -> int:
    """Tell each app manager of at most ``per_app_manager`` requests with news; how many were told. Blocking.

    An app manager that fails a notice is not asked again in this run: its others wait for the next.
    """
    scheme = scheme_client.in_hand()
    if scheme is None:
        logger.warning("correction notices wait: no valid scheme document")
        return 0
    pending = CorrectionRequest.objects.filter(notice_pending=True)
    told = 0
    with Probe(
        answer_deadline=ANSWER_DEADLINE, run_deadline=RUN_DEADLINE, limit=MAX_ANSWER, user_agent=USER_AGENT
    ) as probe:
        for app_manager in sorted(set(pending.values_list("app_manager_oin", flat=True))):
            requests = pending.filter(app_manager_oin=app_manager).order_by("pk").values_list("pk", flat=True)
            for pk in requests[:per_app_manager]:
                with _claimed(pk) as request:
                    if request is None:
                        continue  # another worker tells it, or told it already
                    if not _tell(probe, scheme, request):
                        break
                told += 1
    return told


@contextmanager
def _claimed(pk: int) -> Iterator[CorrectionRequest | None]:
    """Request ``pk`` if it still has news and no other worker is telling it; held while the block runs."""
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            yield (
                CorrectionRequest.objects.select_for_update(skip_locked=True).filter(pk=pk, notice_pending=True).first()
            )
        return
    lease = shared_cache.key("melding", str(pk))
    if shared_cache.count(lease, 1, LEASE) != 1:
        yield None
        return
    try:
        yield CorrectionRequest.objects.filter(pk=pk, notice_pending=True).first()
    finally:
        shared_cache.delete(lease)


def _tell(probe: Probe, scheme: SchemeDocument, request: CorrectionRequest) -> bool:
    """Tell the app manager of ``request`` that it has news, and clear the flag if it took the notice."""
    holder, reference = request.holder_id, request.reference
    manager = scheme.app_managers.get(request.app_manager_oin)
    endpoint = manager.endpoints.get("fetch") if manager is not None and manager.is_certified else None
    if endpoint is None:
        logger.warning(
            "notice of correction request %s of holder %s waits: app manager %s is not certified in the scheme",
            reference,
            holder,
            request.app_manager_oin,
        )
        return False
    if not scheme.is_certified(holder, HOLDER):
        logger.warning("notice of correction request %s waits: holder %s is not certified now", reference, holder)
        return False
    address = f"{endpoint.rstrip('/')}/meldingen"
    try:
        key = signing.key_in(scheme, holder)
    except keystore.MissingKey:
        return False  # signing.key_for told the operator which key to add
    body = {
        "kenmerk": reference,
        "afgerond": request.state in FINAL,
        "client_assertion_type": client_assertion.ASSERTION_TYPE,
        "client_assertion": client_assertion.sign(key, client_id=holder, audience=address),
    }
    answer = probe.request("POST", address, "notice", json=body, headers={"Accept": "application/json"})
    if answer.status is None or not 200 <= answer.status < 300:
        logger.warning(
            "notice of correction request %s of holder %s not taken by app manager %s: %s",
            reference,
            holder,
            request.app_manager_oin,
            answer.described(),
        )
        return False
    CorrectionRequest.objects.filter(
        pk=request.pk,
        notice_pending=True,
        state=request.state,
        deadline=request.deadline,
        decided_at=request.decided_at,
    ).update(notice_pending=False)
    logger.info("app manager %s told of news about correction request %s", request.app_manager_oin, reference)
    return True
