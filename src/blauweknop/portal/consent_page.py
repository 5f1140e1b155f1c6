"""'Mijn toestemmingen': the citizen's consents, what each allows, every use, withdrawal and the receipt.

Only the citizen's own consents: another's id is simply not found. Withdrawing asks "Weet u het zeker?" on
a page of its own (no JavaScript), then is one POST; it holds from the very next fetch
(:func:`blauweknop.portal.consents.withdraw`).
The receipt (ISO/IEC TS 27560) downloads as JSON and as a PDF the portal signs.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_http_methods

from blauweknop import display, document_types, pdf, signing
from blauweknop.display import FETCH_REFUSED
from blauweknop.i18n import language
from blauweknop.portal import consents as register
from blauweknop.portal import sharing
from blauweknop.portal.bundle import SIGNER
from blauweknop.portal.models import Consent, ConsentEvent
from blauweknop.portal.pages import arender
from blauweknop.portal.session import citizen_required
from blauweknop.protocol.scheme_document import SUSPENDED, SchemeDocument
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme.client import scheme_client

# What each state of a consent means, in plain words.
STATES = {
    Consent.State.GIVEN: gettext_lazy("Loopt nog"),
    Consent.State.REFUSED: gettext_lazy("U zei nee"),
    Consent.State.WITHDRAWN: gettext_lazy("Ingetrokken"),
    Consent.State.EXPIRED: gettext_lazy("Afgelopen"),
}
# What happened under a consent, in plain words.
KINDS = {
    ConsentEvent.Kind.GIVEN: gettext_lazy("U gaf toestemming"),
    ConsentEvent.Kind.REFUSED: gettext_lazy("U zei nee"),
    ConsentEvent.Kind.WITHDRAWN: gettext_lazy("U trok uw toestemming in"),
    ConsentEvent.Kind.EXPIRED: gettext_lazy("De toestemming liep af"),
    ConsentEvent.Kind.DELIVERED: gettext_lazy("U deelde uw gegevens met %(who)s"),
    ConsentEvent.Kind.FETCH_REFUSED: gettext_lazy("Wilde gegevens ophalen, maar dat mocht niet"),
    ConsentEvent.Kind.NOT_DELIVERED: gettext_lazy("Delen is niet gelukt. Er is niets gedeeld"),
}
# Every delivery after the first (the share the citizen's yes made) is the requester fetching again.
FETCHED_AGAIN = gettext_lazy("%(who)s haalde uw gegevens opnieuw op.")
FETCH_ALLOWED_UNTIL = gettext_lazy("Dat mag tot en met %(day)s.")
# A consent whose approved share reached nobody: it ended without anything shared.
FAILED = gettext_lazy("Niet gelukt, er is niets gedeeld")
# Who tried to fetch, and why that was refused, in plain words, by the problem code the requester got.
REFUSED_BECAUSE = {
    **FETCH_REFUSED,
    "holders_unavailable": gettext_lazy(
        "%(who)s wilde uw gegevens ophalen. Dat lukte niet: niet elke organisatie kon de gegevens toen geven. "
        "Er is niets gedeeld."
    ),
}
REFUSED_OTHERWISE = gettext_lazy("%(who)s wilde uw gegevens ophalen. Dat mocht niet.")


async def _citizen(request: HttpRequest) -> str:
    """The logged-in citizen's pseudonym: how the register names them."""
    return pseudonym((await request.auser()).bsn)


def _day(moment: Any) -> str:
    return formats.date_format(timezone.localtime(moment) if hasattr(moment, "tzinfo") else moment, "j F Y")


def _last_day(valid_until: datetime | None) -> date | None:
    """The last day a standing consent runs: one "until 1 May" ends at the very start of 2 May."""
    return timezone.localtime(valid_until - timedelta(microseconds=1)).date() if valid_until else None


def _legal_basis(scheme: SchemeDocument, basis_id: str) -> dict[str, str]:
    """The legal basis by its name and explanation in the active language; its id if the scheme no longer has it."""
    entry = next((b for b in scheme.legal_bases if b.get("id") == basis_id), None)
    if entry is None:
        return {"name": basis_id, "explanation": ""}
    return {"name": entry["name"][language()], "explanation": entry.get("explanation", {}).get(language(), "")}


def _fields(scheme: SchemeDocument, consent: Consent, paths_of: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Per document type, the fields in plain words (catalogue labels)."""
    catalogue = document_types.of(scheme)
    shown = []
    for query in consent.asked:
        paths = paths_of.get(query.get("id"), [])
        if not paths:
            continue
        document_type = catalogue.by_vct(query.get("vct"))
        if document_type is None:
            shown.append({"type": query.get("id"), "fields": paths})
            continue
        labels = [(f.label[language()] if (f := document_type.field(p)) else p) for p in paths]
        shown.append({"type": document_type.name[language()], "fields": labels})
    return shown


def _asked_paths(consent: Consent) -> dict[str, list[str]]:
    return {q["id"]: [c["path"] for c in q.get("claims", [])] for q in consent.asked if "id" in q}


def _kept_until(consent: Consent) -> date | None:
    """The last day the requester may keep what it got under ``consent``: its retention from the last delivery."""
    deliveries = [e.at for e in consent.events.all() if e.kind == ConsentEvent.Kind.DELIVERED]
    return timezone.localdate(max(deliveries)) + timedelta(days=consent.retention_days) if deliveries else None


def _suspended(scheme: SchemeDocument, consent: Consent) -> bool:
    """A consent that runs while the operator suspended its requester: nothing may be fetched under it now."""
    requester = scheme.organisations.get(consent.requester_oin)
    return consent.state == Consent.State.GIVEN and requester is not None and requester.certification == SUSPENDED


def _summary(scheme: SchemeDocument, consent: Consent) -> dict[str, Any]:
    """A consent in people's words: who, what, why, on what basis, until when, how often used."""
    kinds = [e.kind for e in consent.events.all()]
    uses = kinds.count(ConsentEvent.Kind.DELIVERED)
    refused = consent.state == Consent.State.REFUSED
    basis = _legal_basis(scheme, consent.legal_basis)
    failed = consent.state == Consent.State.EXPIRED and not uses and ConsentEvent.Kind.NOT_DELIVERED in kinds
    return {
        "id": consent.pk,
        "who": consent.requester_name,
        "what": _fields(scheme, consent, _asked_paths(consent) if refused else consent.approved),
        "why": consent.purpose.get(language()) or consent.purpose.get("nl", ""),
        # The basis's explanation speaks to a consent that runs ("U kunt uw toestemming altijd weer intrekken").
        "basis": {**basis, "explanation": ""} if consent.state != Consent.State.GIVEN else basis,
        "standing": consent.access == Consent.Access.STANDING,
        "until": _last_day(consent.valid_until),
        "retention_days": consent.retention_days,
        "decided_at": consent.decided_at,
        "ended_at": consent.ended_at,
        "state": consent.state,
        "state_words": FAILED if failed else STATES.get(consent.state, consent.state),
        "active": consent.state == Consent.State.GIVEN,
        "suspended": _suspended(scheme, consent),
        "uses": uses,
        "kept_until": _kept_until(consent),
    }


def _event(scheme: SchemeDocument, consent: Consent, event: ConsentEvent, again: bool) -> dict[str, Any]:
    """One event in people's words: when, what, from which organisations, which data; never a value.

    ``again``: a delivery after the first, which the requester fetched itself under standing access.
    """
    detail = event.detail if isinstance(event.detail, dict) else {}
    holders = detail.get("houders", {})
    oins = sorted({oin for found in holders.values() for oin in found}) if isinstance(holders, dict) else []
    who = {"who": consent.requester_name}
    words = str(KINDS.get(event.kind, event.kind)) % who
    if event.kind == ConsentEvent.Kind.FETCH_REFUSED:
        words = str(REFUSED_BECAUSE.get(detail.get("code"), REFUSED_OTHERWISE)) % who
    elif again:
        words = str(FETCHED_AGAIN) % who
        if consent.state == Consent.State.GIVEN and (last := _last_day(consent.valid_until)) is not None:
            words += " " + str(FETCH_ALLOWED_UNTIL) % {"day": _day(last)}
    fields = detail.get("velden")
    return {
        "at": event.at,
        "words": words,
        "holders": [p.name if (p := scheme.organisations.get(oin)) else oin for oin in oins],
        "what": _fields(scheme, consent, fields) if isinstance(fields, dict) else [],
    }


@citizen_required
async def consents(request: HttpRequest) -> HttpResponse:
    """'Mijn toestemmingen': the consents that run, then those that ended."""
    scheme = await scheme_client.current()
    mine = await sync_to_async(register.for_citizen)(await _citizen(request))
    summaries = [_summary(scheme, c) for c in mine]
    return await arender(
        request,
        "portal/consents.html",
        {"active": [s for s in summaries if s["active"]], "ended": [s for s in summaries if not s["active"]]},
    )


async def _mine(request: HttpRequest, record: str) -> Consent:
    consent = await sync_to_async(register.of_citizen)(await _citizen(request), record)
    if consent is None:
        raise Http404
    return consent


@citizen_required
async def consent(request: HttpRequest, record: str) -> HttpResponse:
    """One consent: everything it allows and every use, with withdrawal and the receipt."""
    scheme = await scheme_client.current()
    found = await _mine(request, record)
    events, delivered = [], False
    for event in found.events.all():
        events.append(_event(scheme, found, event, again=delivered and event.kind == ConsentEvent.Kind.DELIVERED))
        delivered = delivered or event.kind == ConsentEvent.Kind.DELIVERED
    requester = scheme.organisations.get(found.requester_oin)
    context = {
        "consent": _summary(scheme, found),
        "events": events[::-1],
        "requester": requester,
        "contact": sharing.contact(requester) if requester else {},
    }
    return await arender(request, "portal/consent.html", context)


@citizen_required
@require_http_methods(["GET", "POST"])
async def withdraw(request: HttpRequest, record: str) -> HttpResponse:
    """GET: the page that asks 'Weet u het zeker?'; POST: withdraw the consent, which holds from the very next fetch."""
    found = await _mine(request, record)
    if request.method != "POST":
        if found.state != Consent.State.GIVEN:  # nothing to withdraw: the consent's page says why
            return redirect("portal:consent", record=found.pk)
        return await arender(
            request, "portal/consent_withdraw.html", {"consent": found, "kept_until": _kept_until(found)}
        )
    if await sync_to_async(register.withdraw)(await _citizen(request), found.pk):
        messages.success(
            request,
            _("Uw toestemming is ingetrokken. %(name)s kan nu geen gegevens meer ophalen.")
            % {"name": found.requester_name},
        )
    return redirect("portal:consent", record=record)


def _file_name(consent: Consent, extension: str) -> str:
    return f"{_('toestemming')}-{timezone.localdate(consent.decided_at).isoformat()}-{consent.pk[:8]}.{extension}"


@citizen_required
async def receipt_json(request: HttpRequest, record: str) -> HttpResponse:
    """The consent receipt (ISO/IEC TS 27560) as JSON."""
    scheme = await scheme_client.current()
    found = await _mine(request, record)
    body = json.dumps(register.receipt(found, scheme), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(found, "json")}"'
    return response


def _moment(at: datetime) -> str:
    return _("%(day)s om %(time)s") % {"day": _day(at), "time": formats.time_format(timezone.localtime(at), "H:i")}


def _left_out(scheme: SchemeDocument, consent: Consent) -> list[str]:
    """What the citizen chose not to share of what was asked, in words: optional parts and fields left unticked."""
    if consent.state == Consent.State.REFUSED:
        return []
    catalogue, words = document_types.of(scheme), []
    for query in consent.asked:
        document_type = catalogue.by_vct(query.get("vct"))
        if document_type is None:
            continue
        paths = [c["path"] for c in query.get("claims", [])]
        approved = consent.approved.get(query.get("id"), [])
        if not approved:  # an optional type the citizen left out as a whole
            words.append(display.part_name(document_type, paths))
            continue
        fields = [document_type.field(p) for p in paths if p not in approved]
        words += [display.lowered(f.label[language()]) for f in fields if f is not None]
    return words


def _state_at(consent: Consent, about: dict[str, Any]) -> str:
    """How the consent stands, with the moment it ended when the citizen withdrew it or it ran out."""
    if consent.ended_at and consent.state == Consent.State.WITHDRAWN:
        return _("Ingetrokken op %(moment)s") % {"moment": _moment(consent.ended_at)}
    if consent.ended_at and consent.state == Consent.State.EXPIRED and about["state_words"] is not FAILED:
        return _("Afgelopen op %(moment)s") % {"moment": _moment(consent.ended_at)}
    return str(about["state_words"])


def _receipt_pdf(scheme: SchemeDocument, consent: Consent, receipt: dict[str, Any], today: date) -> bytes:
    """The receipt in people's words, signed by the portal, with the JSON receipt embedded."""
    about = _summary(scheme, consent)
    not_shared = _left_out(scheme, consent)
    rows = [
        (_("Organisatie"), about["who"]),
        (_("Waarom"), about["why"]),
        (_("Waarom mag dat?"), about["basis"]["name"]),
        (
            _("Tot wanneer"),
            pgettext("inwoner", "Doorlopend, tot en met %(day)s") % {"day": _day(about["until"])}
            if about["standing"] and about["until"]
            else _("Eén keer"),
        ),
        (_("Hoe lang bewaren zij de gegevens"), _("%(days)d dagen") % {"days": about["retention_days"]}),
        (_("Besloten op"), _moment(about["decided_at"])),
        (_("Hoe staat het"), _state_at(consent, about)),
        *([(_("U deelde niet"), display.all_of(not_shared))] if not_shared else []),
        (_("Kenmerk"), consent.pk),
    ]
    parts = [pdf.Part(part["type"], [", ".join(part["fields"])], []) for part in about["what"]]
    page = pdf.Page(
        title=_("Bewijs van uw toestemming"),
        lines=[
            _("Gemaakt op %(day)s door De Blauwe Knop.") % {"day": _day(today)},
            _("Dit bewijs zegt welke toestemming u gaf of weigerde. In het bestand zit hetzelfde bewijs als JSON."),
        ],
        rows=rows,
        check_text=_(
            "De Blauwe Knop heeft dit PDF-bestand ondertekend, zodat u ziet dat er na het maken niets is veranderd."
        ),
        verify_url=settings.VERIFY_URL,
        language=language(),
        page_text=_("pagina %(page)d van %(pages)d"),
        parts=parts,
    )
    attachment = pdf.Attachment(
        _file_name(consent, "json"), json.dumps(receipt, ensure_ascii=False).encode(), "application/json", SIGNER
    )
    key = signing.key_in(scheme, settings.PORTAL_OIN)
    return pdf.make_with(page, [attachment], key, signer_name=SIGNER, oin=settings.PORTAL_OIN)


@citizen_required
async def receipt_pdf(request: HttpRequest, record: str) -> HttpResponse:
    """The consent receipt as a PDF signed by the portal."""
    scheme = await scheme_client.current()
    found = await _mine(request, record)
    body = await sync_to_async(_receipt_pdf)(scheme, found, register.receipt(found, scheme), timezone.localdate())
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(found, "pdf")}"'
    return response
