"""'Wie heeft mijn gegevens ingezien?': what every holder and this portal recorded about the citizen's data.

The holders say what they did (copies fetched to view, a look-up that found nothing, a PDF made for
a download, copies shared with an organisation with the citizen's consent, or given to one because
a law says so); the portal says what happened to the copies here (downloaded, checked on the verify
page). For a share or a delivery by law the page also says why: the law and article (from the
scheme's register of legal bases) and the purpose.

One page at a time, newest first: each source is asked for just one page beyond the last entry
shown, and the answers are merged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from blauweknop import document_types, i18n
from blauweknop.display import LAWFUL, LAWFUL_SEARCHED, PRINTED, SHARED, activity_words
from blauweknop.portal import session
from blauweknop.portal.events import events_of
from blauweknop.portal.holders import Citizen, access_report
from blauweknop.portal.models import CitizenEvent, Consent
from blauweknop.portal.pages import arender
from blauweknop.portal.session import citizen_required
from blauweknop.portal.timeline import (
    PAGE_SIZE,
    PORTAL,
    Entry,
    Page,
    Place,
    bound_at,
    from_link,
    holder_query,
    merge,
    moment,
    portal_key,
    to_link,
)
from blauweknop.protocol.scheme_document import Participant, SchemeDocument
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)


def _holder_entry(record: dict[str, Any]) -> Entry | None:
    at = moment(record["tijdstip"])
    if at is None:  # no link could name its place: one misbehaving holder must not break the page
        logger.warning("holder %s sent an access record at a moment out of range; left out", record["houder"])
        return None
    place = Place(at, record["houder"], record["kenmerk"])
    return Entry(place, record["houder"], record["documentsoort"], record["gevraagdDoor"], record["activiteit"])


def _portal_entry(event: CitizenEvent) -> Entry:
    place = Place(event.at, PORTAL, portal_key(event.pk))
    return Entry(place, event.holder_oin, event.document_type, "", f"{event.activity}:{event.format}")


@dataclass(frozen=True)
class Reason:
    """Why a holder says it did something: the purpose it recorded, the id of the legal basis, and for a share
    the consent it was made under (``""`` if none); the claim paths it gave."""

    purpose: str
    legal_basis: str
    consent: str = ""
    fields: tuple[str, ...] = ()


async def _page(
    scheme: SchemeDocument, citizen: Citizen, place: Place | None, older: bool
) -> tuple[Page, list[str], dict[Place, Reason]]:
    """One page of entries beyond ``place``, the names of the holders that did not answer, and the holders' reasons."""
    asked = PAGE_SIZE + 1  # one more than shown: whether there is more beyond the page
    own_bound = bound_at(place, PORTAL, older) if place is not None else None
    # The portal's own events first: asking the holders gives the database connection back before waiting.
    events = await events_of(citizen, own_bound, asked)
    report = await access_report(scheme, citizen, lambda oin: holder_query(place, oin, older, asked))
    parts: dict[str, list[Entry]] = {PORTAL: [_portal_entry(e) for e in events]}
    reasons: dict[Place, Reason] = {}
    for record in report.records:
        if (entry := _holder_entry(record)) is not None:
            parts.setdefault(record["houder"], []).append(entry)
            purpose, basis = record.get("doel"), record.get("grondslag")
            if isinstance(purpose, str) and isinstance(basis, str):  # without them, the entry says no reason
                consent, fields = record.get("toestemming"), record.get("velden")
                reasons[entry.place] = Reason(
                    purpose,
                    basis,
                    consent if isinstance(consent, str) else "",
                    tuple(f for f in fields if isinstance(f, str)) if isinstance(fields, list) else (),
                )
    return merge(parts.values(), place, older, PAGE_SIZE), report.silent, reasons


def _why(entry: Entry, reason: Reason | None, scheme: SchemeDocument) -> dict[str, str]:
    """For a share or a delivery by law: the law and article (with its address) and the purpose, in words.

    A law's purpose is the register's, in the page's language; a share's is the requester's own
    words (Dutch), as the holder recorded them. A refusal says no purpose: nothing was done for one.
    """
    if reason is None:
        return {}
    basis = next((b for b in scheme.legal_bases if b.get("id") == reason.legal_basis), None)
    if basis is None:
        return {}
    why = {}
    if basis.get("kind") == "law":
        why["law"] = _words(basis.get("wet")) or _words(basis.get("name")) or reason.legal_basis
        url = basis.get("url")
        if isinstance(url, str) and url.startswith("https://"):
            why["law_url"] = url
        if entry.activity in (LAWFUL, LAWFUL_SEARCHED):
            why["purpose"] = _words(basis.get("doel")) or reason.purpose
        if entry.activity == LAWFUL:
            why["given"] = _labels(entry.document_type, reason.fields, scheme)
    if entry.activity == SHARED:
        why["purpose"] = reason.purpose
        why["purpose_lang"] = "nl"  # the requester's words as recorded, whatever the page's language
    return why


def _labels(type_id: str, paths: tuple[str, ...], scheme: SchemeDocument) -> str:
    """The names of the fields ``paths`` of ``type_id`` in the page's language, as one list in words."""
    document_type = document_types.of(scheme).by_id.get(type_id)
    fields = [document_type.field(path) if document_type else None for path in paths]
    names = [f.label.get(i18n.language()) or f.label.get("nl", "") for f in fields if f is not None]
    return ", ".join(name for name in names if name)


def _words(value: object) -> str:
    """The words of a register entry's ``{nl, en}`` in the page's language; ``""`` without them."""
    words = value.get(i18n.language()) if isinstance(value, dict) else None
    return words if isinstance(words, str) else ""


def _shown(
    entry: Entry,
    participants: dict[str, Participant],
    types: dict[str, document_types.DocumentType],
    why: dict[str, str],
) -> dict[str, Any]:
    """An entry in people's words: organisations by name, the data by its name, what was done."""
    if entry.activity == PRINTED or entry.activity.startswith("gedownload:"):  # only the citizen makes a file
        actor = _("U")
    elif entry.actor_oin == settings.PORTAL_OIN:  # this website: named as its own header names it
        actor = _("De Blauwe Knop")
    elif entry.actor_oin:
        actor = participants[entry.actor_oin].name if entry.actor_oin in participants else entry.actor_oin
    else:  # a check: whoever has the copy, which is most often the citizen
        actor = _("U, of iemand aan wie u de kopie gaf")
    holder = participants.get(entry.holder_oin)
    document = types.get(entry.document_type)
    return {
        "at": entry.place.at,
        "holder": holder.name if holder else entry.holder_oin,
        "actor": actor,
        "document": document.name if document else {"nl": entry.document_type, "en": entry.document_type},
        "activity": activity_words(entry.activity, actor),
        "shared": entry.activity == SHARED,
        **why,
    }


@sync_to_async
def _own_consents(citizen: Citizen, ids: list[str]) -> set[str]:
    """Those of the consent ids ``ids`` (as holders recorded them) that are this citizen's consents here."""
    return set(Consent.objects.filter(pk__in=set(ids), citizen=citizen.pseudonym).values_list("pk", flat=True))


def _link_key() -> bytes:
    """The key that seals the places in this page's links, derived from the deployment's secret key."""
    return hmac.new(settings.SECRET_KEY.encode(), b"blauweknop.portal.access:links", hashlib.sha256).digest()


@citizen_required
async def access_log(request: HttpRequest) -> HttpResponse:
    """One page of what was done with the logged-in citizen's data, newest first, in plain words.

    ``?voor=`` shows the entries older than a place, ``?na=`` those newer. A place travels sealed
    for this citizen; one that is not (typed, changed, another citizen's) shows the newest.
    """
    user = await request.auser()
    scheme = await scheme_client.current()
    citizen = await session.citizen(request, user)
    key, context = _link_key(), citizen.pseudonym.encode()
    older_than = from_link(request.GET.get("voor", ""), key, context)
    newer_than = from_link(request.GET.get("na", ""), key, context)
    place, older = (newer_than, False) if newer_than and not older_than else (older_than, True)
    page, silent, reasons = await _page(scheme, citizen, place, older)
    if not older and not page.more:  # nothing newer beyond this page: show the newest page, full
        place, older = None, True
        page, silent, reasons = await _page(scheme, citizen, place, older)
    types = document_types.of(scheme).by_id
    participants = {**scheme.organisations, **scheme.app_managers}
    entries = page.entries
    own = await _own_consents(citizen, [r.consent for r in reasons.values() if r.consent])
    shown = []
    for entry in entries:
        reason = reasons.get(entry.place)
        row = _shown(entry, participants, types, _why(entry, reason, scheme))
        if row["shared"] and reason is not None and reason.consent in own:  # never a link to another's consent
            row["consent"] = reason.consent
        shown.append(row)
    context = {
        "entries": shown,
        "silent": silent,
        "older": to_link(entries[-1].place, key, context) if entries and (page.more or not older) else None,
        "newer": to_link(entries[0].place, key, context) if entries and place is not None else None,
        "paged": place is not None,
    }
    return await arender(request, "portal/access_log.html", context)
