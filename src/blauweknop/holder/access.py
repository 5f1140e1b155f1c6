"""A holder tells a citizen (through their app manager) every read of their data it recorded."""

from __future__ import annotations

from typing import Any

from blauweknop.audit.models import AccessRecord
from blauweknop.db import write_transaction
from blauweknop.holder import sessions
from blauweknop.holder.tenants import Holder
from blauweknop.protocol.scheme_document import SchemeDocument

LIMIT = 500


def records_for(holder: Holder, assertion: str, scheme: SchemeDocument) -> list[dict[str, Any]]:
    """The access records about the citizen in ``assertion`` at ``holder``, newest first."""
    with write_transaction():
        session = sessions.accept(holder.oin, assertion, scheme)
        records = AccessRecord.objects.about(session.bsn).filter(holder=holder.tenant)[:LIMIT]
        return [
            {
                "tijdstip": r.at,
                "documentsoort": r.document_type,
                "gevraagdDoor": r.actor_oin,
                "activiteit": r.activity,
                "doel": r.purpose,
                "grondslag": r.legal_basis,
            }
            for r in records
        ]
