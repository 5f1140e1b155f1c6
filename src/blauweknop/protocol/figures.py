"""The counts an app manager publishes per requester (``GET /appbeheerder/api/v1/cijfers``): counts, nothing else.

No personal data and no pseudonyms: per requester OIN, how often something happened under the consents
the citizens gave or refused it, in one period of whole days (``vanaf`` up to, not including, ``tot``).
The scheme operator's monitoring reads them from every app manager (:mod:`blauweknop.scheme.monitoring`),
so they are checked here as strictly as anything else that comes from another party.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.identifiers import is_valid_oin

# What is counted per requester, by the names the API uses.
ANSWERED = "verzoekenBeantwoord"  # the citizen decided: yes or no
APPROVALS = "toestemmingen"
REFUSALS = "weigeringen"
WITHDRAWALS = "intrekkingen"
FETCHES = "ophalingen"  # fetches under standing access that delivered data (not the first answer)
FETCHES_REFUSED = "ophalingenGeweigerd"
FETCHES_AFTER_WITHDRAWAL = "ophalingenNaIntrekking"  # refused because the citizen had withdrawn
COUNTS = (ANSWERED, APPROVALS, REFUSALS, WITHDRAWALS, FETCHES, FETCHES_REFUSED, FETCHES_AFTER_WITHDRAWAL)

MAX_REQUESTERS = 10_000  # far more than any scheme will have: past this, an answer is junk
MAX_COUNT = 10**12


@dataclass(frozen=True)
class Figures:
    """One app manager's counts for one period: per requester OIN, each of :data:`COUNTS`."""

    app_manager: str
    start: date
    end: date
    requesters: dict[str, dict[str, int]]


def zero() -> dict[str, int]:
    """A requester's counts before anything is counted."""
    return dict.fromkeys(COUNTS, 0)


def as_json(figures: Figures) -> dict[str, Any]:
    """The API's answer for ``figures``: requesters in OIN order, every count present."""
    return {
        "appbeheerder": figures.app_manager,
        "vanaf": figures.start.isoformat(),
        "tot": figures.end.isoformat(),
        "vragers": [{"oin": oin, **{**zero(), **figures.requesters[oin]}} for oin in sorted(figures.requesters)],
    }


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise VerificationError("malformed", "A count is not a whole number from 0.")
    return value


def _day(value: Any) -> date:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else date.min
    except ValueError:
        return date.min


def parse(body: Any) -> Figures:
    """An app manager's answer, checked: :class:`VerificationError` ``malformed`` for anything else."""
    if not isinstance(body, Mapping):
        raise VerificationError("malformed", "The figures are not a JSON object.")
    manager, rows = body.get("appbeheerder"), body.get("vragers")
    start, end = _day(body.get("vanaf")), _day(body.get("tot"))
    if not is_valid_oin(manager):
        raise VerificationError("malformed", "The figures do not name their app manager by OIN.")
    if start == date.min or end == date.min or end <= start:
        raise VerificationError("malformed", "The figures do not name a period of whole days.")
    if not isinstance(rows, list) or len(rows) > MAX_REQUESTERS:
        raise VerificationError("malformed", "The figures have no list of requesters.")
    requesters: dict[str, dict[str, int]] = {}
    for row in rows:
        oin = row.get("oin") if isinstance(row, Mapping) else None
        if not is_valid_oin(oin) or oin in requesters:
            raise VerificationError("malformed", "A requester is not named by an OIN of its own.")
        requesters[oin] = {name: _count(row.get(name, 0)) for name in COUNTS}
    return Figures(manager, start, end, requesters)
