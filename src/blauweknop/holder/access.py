"""A holder records what it did with a citizen's data, and tells the citizen (through their app manager).

Each record says truly what happened: copies fetched for the citizen to view (the Blauwe Knop),
a search that found nothing of a kind (the holder still looked the citizen up), or a copy printed
as a signed PDF. What the citizen then does with a copy (download it, hand it
over) happens outside the holder; the app manager records that itself.

Variant Plus adds three kinds: copies the citizen agreed to share with a requester (the actor is that
requester, the purpose and legal basis are those of the share, and the record keeps the consent id),
copies a requester fetched on a legal basis (:mod:`blauweknop.holder.lawful`), delivered or refused,
and a later fetch under that consent the app manager refused (:mod:`blauweknop.holder.refused_fetches`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from blauweknop.audit.models import AccessRecord
from blauweknop.db import write_transaction
from blauweknop.display import FETCHED, PRINTED, SEARCHED, rows
from blauweknop.document_types import DocumentType
from blauweknop.holder import sessions
from blauweknop.holder.tenants import Holder
from blauweknop.paging import Bound, page
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.session_assertion import SessionAssertion
from blauweknop.pseudonyms import pseudonym

# Why, in the words of the Logboek Dataverwerkingen: the processing activity's purpose.
PURPOSES = {
    FETCHED: "De burger bekijkt de eigen gegevens.",
    SEARCHED: "De burger wil de eigen gegevens bekijken; er waren geen gegevens van deze soort.",
    PRINTED: "De burger laat een kopie van de eigen gegevens afdrukken als PDF.",
}
LEGAL_BASIS = "verzoek-betrokkene"  # AVG art. 15 and 20: the citizen asks for their own data


MAX_PURPOSE = AccessRecord._meta.get_field("purpose").max_length


def write(
    holder: Holder,
    bsn: str,
    *,
    actor_oin: str,
    activity: str,
    purpose: str,
    legal_basis: str,
    type_id: str,
    fields: list[str],
    at: datetime,
    app_manager_oin: str = "",
    consent: str = "",
) -> None:
    """Write one access record about the citizen ``bsn`` (kept only as a pseudonym). Inside the caller's transaction.

    A purpose longer than the record keeps (a requester's own words may be) is cut, and says so with "…".
    A share names the app manager that asked and its ``consent`` record.
    """
    if len(purpose) > MAX_PURPOSE:
        purpose = purpose[: MAX_PURPOSE - 1] + "…"
    AccessRecord.objects.create(
        at=at,
        subject=pseudonym(bsn),
        holder=holder.tenant,
        actor_oin=actor_oin,
        activity=activity,
        purpose=purpose,
        legal_basis=legal_basis,
        document_type=type_id,
        fields=fields,
        app_manager_oin=app_manager_oin,
        consent=consent,
    )


def record(
    holder: Holder, session: SessionAssertion, activity: str, type_id: str, fields: list[str], at: datetime
) -> None:
    """Write the access record of ``activity`` on the citizen's ``type_id`` data, asked for in ``session``.

    For a share the record names the requester the copies are for, with the share's purpose and legal basis,
    and keeps the consent it was made under: a refusal under that consent later is told of by its id alone.
    """
    sharing = session.sharing
    write(
        holder,
        session.bsn,
        actor_oin=sharing.requester_oin if sharing else session.app_manager_oin,
        activity=activity,
        purpose=sharing.purpose if sharing else PURPOSES[activity],
        legal_basis=sharing.legal_basis if sharing else LEGAL_BASIS,
        type_id=type_id,
        fields=fields,
        at=at,
        app_manager_oin=session.app_manager_oin if sharing else "",
        consent=sharing.consent_id if sharing else "",
    )


def fields_in(document_type: DocumentType, claims: dict[str, Any]) -> list[str]:
    """The catalogue paths of the fields in ``claims`` (e.g. of a presentation), in catalogue order."""
    present = {field.path for row in rows(document_type, claims) if (field := document_type.field(row.path))}
    return [field.path for field in document_type.fields if field.path in present]


def records_for(
    holder: Holder, assertion: str, scheme: SchemeDocument, bound: Bound | None, limit: int
) -> list[dict[str, Any]]:
    """One page of the access records about the citizen in ``assertion`` at ``holder``, newest first.

    At most ``limit`` records just beyond ``bound`` (the newest without one); ties at one moment
    are ordered by the record's span id, its ``kenmerk``.
    """
    with write_transaction():
        session = sessions.accept(holder.oin, assertion, scheme)
        records = AccessRecord.objects.filter(holder=holder.tenant, subject=pseudonym(session.bsn))
        return [
            {
                "tijdstip": r.at,
                "kenmerk": r.span_id,
                "documentsoort": r.document_type,
                "gevraagdDoor": r.actor_oin,
                "activiteit": r.activity,
                "doel": r.purpose,
                "grondslag": r.legal_basis,
                "toestemming": r.consent or None,
                "velden": r.fields if isinstance(r.fields, list) else [],
            }
            for r in page(records, bound, limit, key="span_id")
        ]
