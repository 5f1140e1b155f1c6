"""The portal's notices to other participants, sent one way: signed, timed, retried, in turn.

Two outboxes use it: ended standing consents to their requesters (:mod:`blauweknop.portal.end_notices`) and
refused standing fetches to the holders that delivered under the consent (:mod:`blauweknop.portal.refusal_notices`).
Each notice is a JSON POST with a client assertion of this app manager for exactly the receiver's address.
A 2xx settles it; so does a final refusal (400, 404, 422 …), with an error in the log. No answer, a timeout,
401, 403, 408, 429 or 5xx is tried again later (:mod:`blauweknop.retries`), and the run stops for that receiver.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from blauweknop import keystore, signing
from blauweknop.conformance.probe import Probe
from blauweknop.protocol import client_assertion
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.retries import Outcome, final_refusal, settle, tell_in_a_run, waiting

logger = logging.getLogger(__name__)

PER_RECEIVER = 50  # notices to one receiver per run
ANSWER_DEADLINE = 10.0  # seconds for one notice, answer included
RUN_DEADLINE = 45.0  # seconds for all notices of a run: the next run starts a minute later
MAX_ANSWER = 4096  # bytes: the answer is empty, or a short problem
USER_AGENT = "blauweknop-portal"


def tell_waiting(
    model: type[models.Model],
    receiver: str,
    per_receiver: int,
    lease: str,
    tell: Callable[[Probe, SchemeDocument, Any], Outcome],
    failed: Callable[[Any], None],
    what: str,
) -> int:
    """Tell each receiver (the field ``receiver`` of ``model``) of at most ``per_receiver`` due notices; how many."""
    return tell_in_a_run(
        lambda: waiting(model),
        receiver,
        per_receiver,
        lease,
        tell,
        failed,
        answer_deadline=ANSWER_DEADLINE,
        run_deadline=RUN_DEADLINE,
        max_answer=MAX_ANSWER,
        user_agent=USER_AGENT,
        what=what,
    )


def send(
    probe: Probe,
    scheme: SchemeDocument,
    notice: models.Model,
    address: str,
    payload: dict[str, Any],
    about: str,
    *,
    keep_told_at: bool = False,
) -> Outcome:
    """POST ``payload``, signed for ``address``; settle ``notice`` once taken or refused for good.

    ``about`` names the notice and its receiver in the log, never a BSN. With ``keep_told_at`` the moment the
    receiver's answer came is kept as the notice's ``told_at``: what it was told, it knew from then on.
    """
    try:
        key = signing.key_in(scheme, settings.PORTAL_OIN)
    except keystore.MissingKey:
        return Outcome.RECEIVER_FAILED  # signing.key_for told the operator which key to add
    body = {
        **payload,
        "client_assertion_type": client_assertion.ASSERTION_TYPE,
        "client_assertion": client_assertion.sign(key, client_id=settings.PORTAL_OIN, audience=address),
    }
    answer = probe.request("POST", address, about, json=body, headers={"Accept": "application/json"})
    status = answer.status
    if status is not None and 200 <= status < 300:
        settle(notice, **({"told_at": timezone.now()} if keep_told_at else {}))
        logger.info("%s: taken", about)
        return Outcome.TOLD
    if final_refusal(status):
        settle(notice)
        logger.error("%s dropped: the receiver refused it: %s", about, answer.described())
        return Outcome.REFUSED
    logger.warning("%s not taken: %s; tried again later", about, answer.described())
    return Outcome.RECEIVER_FAILED
