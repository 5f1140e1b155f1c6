"""'Mijn kluis': the copies the citizen chose to keep, whether each is still valid, and what they can do with them.

Every page works without JavaScript: a delete asks "Weet u het zeker?" on a page of its own. Nothing
is kept unless the citizen presses "Bewaar in mijn kluis" (:func:`keep`); storage and encryption are
in :mod:`blauweknop.portal.vault`.
"""

from __future__ import annotations

import asyncio
import io
import logging
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import format_lazy, slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from blauweknop import document_types, old_copies
from blauweknop.db import release_before_waiting
from blauweknop.i18n import language
from blauweknop.portal import data_page, session
from blauweknop.portal import vault as kluis
from blauweknop.portal.downloads import file_name
from blauweknop.portal.holders import Citizen, fetch, http_client, remember_copies
from blauweknop.portal.overview import shown_claims
from blauweknop.portal.pages import arender
from blauweknop.portal.session import citizen_required
from blauweknop.portal.vault import Kept
from blauweknop.portal.verification import verify_credential
from blauweknop.protocol import sdjwt
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.scheme_document import HOLDER, SchemeDocument
from blauweknop.protocol.status_list import StatusReference
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)


class State(StrEnum):
    """Whether a kept copy is valid now, as a receiver checking it today would find."""

    VALID = "geldig"
    SUPERSEDED = "vervangen"  # its holder's data changed since: INVALID in the status list (code revoked)
    SUSPENDED = "geschorst"  # suspended at its holder for now
    EXPIRED = "verlopen"
    UNKNOWN = "onbekend"  # its status list could not be had now
    INVALID = "ongeldig"  # e.g. its holder no longer takes part in the scheme


WORDS = {
    State.VALID: gettext_lazy("Geldig"),
    State.SUPERSEDED: format_lazy(
        "{}. {} {}", old_copies.SUPERSEDED, old_copies.SUPERSEDED_WHY, gettext_lazy("Vernieuw de kopie.")
    ),
    State.SUSPENDED: gettext_lazy("Tijdelijk niet geldig. De organisatie kijkt de gegevens nog na."),
    State.EXPIRED: format_lazy("{}. {}", old_copies.EXPIRED, gettext_lazy("Vernieuw de kopie.")),
    State.UNKNOWN: gettext_lazy("Kan nu niet worden nagekeken. Probeer het later nog eens."),
    State.INVALID: gettext_lazy("Niet meer geldig. De organisatie doet niet meer mee aan de Blauwe Knop."),
}
_BY_CODE = {
    "revoked": State.SUPERSEDED,
    "suspended": State.SUSPENDED,
    "expired": State.EXPIRED,
    "status_unavailable": State.UNKNOWN,
}


def state_of(code: str | None) -> State:
    """The state of a copy whose verification failed with ``code`` (``None``: it passed)."""
    return State.VALID if code is None else _BY_CODE.get(code, State.INVALID)


def _status_uri(credential: str) -> str | None:
    status = sdjwt.unverified_claims(credential).get("status")
    try:
        return StatusReference.from_claim(status).uri if status is not None else None
    except ProtocolError:
        return None


def _states(copies: list[Kept], scheme: SchemeDocument) -> list[State]:
    """Check one holder's copies in turn (blocking); once its status list is out of reach, not again for each.

    Each status list is asked of its publisher once per page (a copy may have been superseded a minute
    ago, R8); the other copies on that list are checked against what that fetch kept.
    """
    states: list[State] = []
    asked: set[str | None] = set()
    for copy in copies:
        if states and states[-1] is State.UNKNOWN:
            states.append(State.UNKNOWN)
            continue
        uri = _status_uri(copy.credential)
        try:
            verify_credential(copy.credential, scheme, fresh=uri not in asked)
            states.append(State.VALID)
        except ProtocolError as exc:
            states.append(state_of(exc.code))
        asked.add(uri)
    return states


async def _check(copies: list[Kept], scheme: SchemeDocument) -> list[State]:
    """Each copy's state, the holders checked at the same time: a holder that is down costs one timeout."""
    by_holder: dict[str, list[int]] = defaultdict(list)
    for n, copy in enumerate(copies):
        by_holder[copy.holder_oin].append(n)
    await release_before_waiting()
    check = sync_to_async(_states, thread_sensitive=False)
    found = await asyncio.gather(*(check([copies[n] for n in ns], scheme) for ns in by_holder.values()))
    states: list[State] = [State.UNKNOWN] * len(copies)
    for ns, holder_states in zip(by_holder.values(), found, strict=True):
        for n, state in zip(ns, holder_states, strict=True):
            states[n] = state
    return states


def _names(scheme: SchemeDocument, holder_oin: str, type_id: str) -> tuple[str, str]:
    """The organisation's name and the document type's name in the page's language; codes if unknown."""
    participant = scheme.organisations.get(holder_oin)
    document_type = document_types.of(scheme).get(type_id)
    holder_name = participant.name if participant else holder_oin
    return holder_name, document_type.name[language()] if document_type else type_id


def _id(holder_oin: str, type_id: str) -> str:
    return f"{holder_oin}:{type_id}"


def _parse(value: str) -> tuple[str, str] | None:
    """``<oin>:<document type>`` as the forms send it, or ``None``."""
    holder_oin, colon, type_id = value.partition(":")
    return (holder_oin, type_id) if colon and holder_oin and type_id else None


def _form(request: HttpRequest, citizen: Citizen) -> QueryDict | None:
    """The form sent; ``None`` if it cannot be read (e.g. far more fields than any page of ours sends)."""
    try:
        return request.POST
    except SuspiciousOperation as exc:
        logger.warning("vault form of citizen %s refused: %s", citizen.pseudonym, type(exc).__name__)
        return None


async def _citizen(request: HttpRequest) -> Citizen:
    return await session.citizen(request, await request.auser())


async def _opened(request: HttpRequest, citizen: Citizen) -> list[Kept] | None:
    """The citizen's kept copies; ``None`` (and a message) if the vault does not open."""
    try:
        return await sync_to_async(kluis.copies)(citizen)
    except kluis.Unreadable:
        messages.error(
            request,
            _(
                "Uw kluis kan nu niet worden geopend. Probeer het later nog eens. Lukt het dan nog niet? "
                "Verwijder alles uit uw kluis en bewaar uw gegevens opnieuw."
            ),
        )
        return None


@citizen_required
async def vault(request: HttpRequest) -> HttpResponse:
    """The kept copies: from whom, what, when fetched, until when, and whether each is valid now."""
    citizen = await _citizen(request)
    scheme = await scheme_client.current()
    kept = await _opened(request, citizen)
    states = await _check(kept, scheme) if kept else []
    rows = []
    for copy, state in zip(kept or [], states, strict=True):
        holder_name, type_name = _names(scheme, copy.holder_oin, copy.type_id)
        rows.append(
            {
                "id": _id(copy.holder_oin, copy.type_id),
                "holder": holder_name,
                "type": type_name,
                "fetched_at": copy.fetched_at,
                "expires_at": copy.expires_at,
                "state": state.value,
                "words": WORDS[state],
            }
        )
    return await arender(request, "portal/vault.html", {"copies": rows, "unreadable": kept is None})


def _back(form: QueryDict) -> str:
    """``terug`` if it is a path on this site, else the vault page."""
    back = form.get("terug", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts=None):
        return back
    return reverse("portal:vault")


@citizen_required
async def keep(request: HttpRequest) -> HttpResponse:
    """'Bewaar in mijn kluis': keep the copies named by ``kopie`` (``<oin>:<type>``) that this session fetched."""
    if request.method != "POST":
        return redirect("portal:vault")
    citizen = await _citizen(request)
    form = _form(request, citizen)
    if form is None:
        messages.error(request, _("Dat zijn te veel kopieën tegelijk. Kies minder en probeer het opnieuw."))
        return redirect("portal:vault")
    back, wanted = _back(form), dict.fromkeys(form.getlist("kopie"))  # in order, once each
    if not wanted:
        messages.error(request, _("Kies eerst welke gegevens u wilt bewaren."))
        return redirect(back)
    if len(wanted) > kluis.MAX_COPIES:
        logger.warning("vault keep of citizen %s refused: %d values", citizen.pseudonym, len(wanted))
        messages.error(request, _("Dat zijn te veel kopieën tegelijk. Kies minder en probeer het opnieuw."))
        return redirect(back)
    answers = await session.answers(request)
    wallet = await request.session.aget(session.WALLET)
    copies = []
    for value in wanted:
        parsed = _parse(value)
        answer = answers.get(parsed[0]) if parsed else None
        credential = answer.credentials.get(parsed[1]) if answer and parsed else None
        if not isinstance(credential, str) or wallet is None:
            logger.warning("vault keep of citizen %s refused: a copy not fetched in this session", citizen.pseudonym)
            messages.error(
                request,
                _(
                    "Wij konden niets bewaren. U kunt alleen gegevens bewaren die u net hebt opgehaald. "
                    "Haal uw gegevens opnieuw op en druk dan op 'Bewaar in mijn kluis'."
                ),
            )
            return redirect(back)
        copies.append(Kept(parsed[0], parsed[1], credential, wallet, answer.fetched_at))
    if await _store(request, citizen, copies) is not None:
        return redirect(back)
    one = len(copies) == 1
    messages.success(request, _("De kopie staat nu in uw kluis.") if one else _("De kopieën staan nu in uw kluis."))
    return redirect(back)


async def _store(
    request: HttpRequest, citizen: Citizen, copies: list[Kept], *, only_replace: bool = False
) -> str | None:
    """Store ``copies``; ``None`` if it worked, else the reason (also said to the citizen)."""
    try:
        await sync_to_async(kluis.store)(citizen, copies, only_replace=only_replace)
    except kluis.Full:
        logger.warning("vault of citizen %s is full", citizen.pseudonym)
        messages.error(
            request,
            _("Uw kluis is vol: er passen %(max)d kopieën in. Verwijder eerst kopieën die u niet meer nodig hebt.")
            % {"max": kluis.MAX_COPIES},
        )
        return "full"
    except kluis.TooLarge:
        logger.warning("vault copy of citizen %s too large to keep", citizen.pseudonym)
        messages.error(request, _("Deze kopie is te groot om te bewaren. Download de kopie in plaats daarvan."))
        return "too large"
    except kluis.Unreadable:
        messages.error(
            request,
            _("Uw kluis kan nu niet worden geopend. Wij konden niets bewaren. Probeer het later nog eens."),
        )
        return "unreadable"
    return None


def _chosen(form: QueryDict | None, in_vault: set[tuple[str, str]]) -> set[tuple[str, str]] | None:
    """Everything in the vault (``alles=1``), or the one copy ``kopie`` names if it is in it; else ``None``."""
    if form is None:
        return None
    if form.get("alles") == "1":
        return in_vault
    values = form.getlist("kopie")
    parsed = _parse(values[0]) if len(values) == 1 else None
    return {parsed} if parsed in in_vault else None


async def _fresh(
    client: httpx.AsyncClient,
    scheme: SchemeDocument,
    holder_oin: str,
    type_ids: set[str],
    citizen: Citizen,
    wallet: dict[str, Any],
) -> tuple[list[Kept], list[str]]:
    """Fresh copies of ``type_ids`` from one holder, each verified; and what to tell the citizen about the rest."""
    holder = scheme.organisations.get(holder_oin)
    if holder is None or not scheme.is_certified(holder_oin, HOLDER):
        said = _("%(name)s doet niet meer mee aan de Blauwe Knop. Die kopie kan niet worden vernieuwd.")
        return [], [said % {"name": holder.name if holder else holder_oin}]
    now, fresh, problems = timezone.now(), [], []
    # As long as the overview waits for a holder, no longer: a holder that does not answer is said to be unreachable.
    deadline = asyncio.get_running_loop().time() + settings.OVERVIEW_TIMEOUT
    asked = (fetch(client, scheme, holder, t, citizen, deadline=deadline) for t in sorted(type_ids))
    for fetched in await asyncio.gather(*asked):
        if fetched.credential:
            fresh.append(Kept(holder_oin, fetched.type_id, fetched.credential, wallet, now))
        elif fetched.absent:
            said = _("%(name)s heeft deze gegevens nu niet meer. De oude kopie staat nog in uw kluis.")
            problems.append(said % {"name": holder.name})
        else:
            problems.append(fetched.problem or _("%(name)s gaf nu geen gegevens.") % {"name": holder.name})
    return fresh, problems


@citizen_required
async def refresh(request: HttpRequest) -> HttpResponse:
    """Fetch one kept copy (``kopie``) or all (``alles=1``) anew; a copy is replaced only by one that verified.

    Only the kept types are asked for: the holder records each one asked as a read of the citizen's data.
    """
    if request.method != "POST":
        return redirect("portal:vault")
    citizen = await _citizen(request)
    chosen = _chosen(_form(request, citizen), await sync_to_async(kluis.kept)(citizen))
    if not chosen:
        messages.error(request, _("Die kopie staat niet in uw kluis. Kies een kopie uit de lijst."))
        return redirect("portal:vault")
    scheme = await scheme_client.current()
    wallet = await request.session.aget(session.WALLET)
    by_holder: dict[str, set[str]] = defaultdict(set)
    for holder_oin, type_id in chosen:
        by_holder[holder_oin].add(type_id)
    await release_before_waiting()
    async with http_client(len(chosen)) as client:
        answers = await asyncio.gather(
            *(_fresh(client, scheme, oin, types, citizen, wallet) for oin, types in by_holder.items())
        )
    fresh = [copy for copies, _problems in answers for copy in copies]
    await remember_copies(citizen, [copy.credential for copy in fresh])
    for problem in dict.fromkeys(p for _copies, problems in answers for p in problems):
        messages.error(request, problem)
    if fresh and await _store(request, citizen, fresh, only_replace=True) is None:
        one = len(fresh) == 1
        messages.success(request, _("De kopie is vernieuwd.") if one else _("De kopieën zijn vernieuwd."))
    return redirect("portal:vault")


@citizen_required
async def delete(request: HttpRequest) -> HttpResponse:
    """Delete one kept copy (``kopie``) or all (``alles=1``), after a page that asks 'Weet u het zeker?'."""
    if request.method != "POST":
        return redirect("portal:vault")
    citizen = await _citizen(request)
    form = _form(request, citizen)
    everything = form is not None and form.get("alles") == "1"
    chosen = _chosen(form, await sync_to_async(kluis.kept)(citizen))
    if not chosen:
        messages.error(
            request,
            _("Uw kluis is al leeg.")
            if everything
            else _("Die kopie staat niet in uw kluis. Kies een kopie uit de lijst."),
        )
        return redirect("portal:vault")
    one = None if everything else next(iter(chosen))
    if form.get("zeker") != "ja":
        named = _names(await scheme_client.current(), *one) if one else None
        context = {"everything": everything, "count": len(chosen), "kopie": _id(*one) if one else None, "named": named}
        return await arender(request, "portal/vault_delete.html", context)
    if one is None:
        await sync_to_async(kluis.delete_all)(citizen)
        messages.success(request, _("Alles is verwijderd. Uw kluis is nu leeg."))
    else:
        await sync_to_async(kluis.delete)(citizen, *one)
        messages.success(request, _("De kopie is verwijderd uit uw kluis."))
    return redirect("portal:vault")


@citizen_required
async def show(request: HttpRequest) -> HttpResponse:
    """'Bekijken': the fields of one kept copy (``kopie``), as issued, with whether it is valid now.

    Reached by POST, so that nothing about the copy is in an address; a GET goes back to the vault.
    """
    if request.method != "POST":
        return redirect("portal:vault")
    citizen = await _citizen(request)
    chosen = _chosen(_form(request, citizen), await sync_to_async(kluis.kept)(citizen))
    if not chosen or len(chosen) != 1:
        messages.error(request, _("Die kopie staat niet in uw kluis. Kies een kopie uit de lijst."))
        return redirect("portal:vault")
    holder_oin, type_id = next(iter(chosen))
    kept = await _opened(request, citizen)
    copy = next((c for c in kept or [] if (c.holder_oin, c.type_id) == (holder_oin, type_id)), None)
    if copy is None:  # the vault did not open, or the copy went meanwhile
        return redirect("portal:vault")
    scheme = await scheme_client.current()
    (state,) = await _check([copy], scheme)
    holder_name, type_name = _names(scheme, holder_oin, type_id)
    document_type = data_page.copy_type(document_types.of(scheme), type_id, sdjwt.unverified_claims(copy.credential))
    context = {
        "id": _id(holder_oin, type_id),
        "holder": holder_name,
        "type": type_name,
        "fetched_at": copy.fetched_at,
        "expires_at": copy.expires_at,
        "state": state.value,
        "words": WORDS[state],
        # The copy was verified when it was fetched; its values are shown as its holder issued them.
        "category": data_page.category(document_type, shown_claims(copy.credential), set(), timezone.localdate())
        if document_type
        else None,
    }
    return await arender(request, "portal/vault_copy.html", context)


def readme(names: Iterable[str], verify_url: str) -> str:
    """The LEESMIJ.txt (README.txt in English) of the ZIP: what the files are, how to check them, which they are."""
    listed = "\n".join(f"- {name}" for name in names)
    return (
        _(
            "Dit zijn de gewaarmerkte kopieën uit uw kluis bij de Blauwe Knop.\n\n"
            "Elk .sdjwt-bestand is een kopie zoals de organisatie die maakte, met al uw gegevens, ook "
            "gevoelige gegevens zoals uw BSN. Geef een bestand alleen aan wie het echt nodig heeft.\n"
            "Wilt u maar een deel van uw gegevens delen? Haal de gegevens opnieuw op bij de Blauwe Knop en "
            "kies wat u deelt.\n\n"
            "Een ontvanger kan elk bestand controleren op %(url)s. Een kopie is geldig tot de datum die erin "
            "staat. Verandert de organisatie uw gegevens? Dan is de kopie vervangen door nieuwere gegevens. "
            "Vernieuw de kopie dan in uw kluis.\n\n"
            "De bestanden:\n"
        )
        % {"url": verify_url}
        + listed
        + "\n"
    )


def _zip(scheme: SchemeDocument, copies: list[Kept], verify_url: str) -> bytes:
    names = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for copy in copies:
            on = timezone.localdate(copy.fetched_at)
            holder = scheme.organisations.get(copy.holder_oin)
            name = (
                file_name(holder, copy.type_id, "sdjwt", on)
                if holder
                else f"{copy.holder_oin}-{slugify(copy.type_id)}-{on.isoformat()}.sdjwt"
            )
            names.append(name)
            archive.writestr(name, copy.credential)
        archive.writestr("README.txt" if language() == "en" else "LEESMIJ.txt", readme(names, verify_url))
    return buffer.getvalue()


@citizen_required
async def download(request: HttpRequest) -> HttpResponse:
    """Every kept copy as one ZIP of .sdjwt files, with a short LEESMIJ.txt."""
    if request.method != "POST":
        return redirect("portal:vault")
    citizen = await _citizen(request)
    kept = await _opened(request, citizen)
    if not kept:
        if kept is not None:
            messages.error(request, _("Uw kluis is leeg. Er is niets om te downloaden."))
        return redirect("portal:vault")
    scheme = await scheme_client.current()
    response = HttpResponse(
        _zip(scheme, kept, request.build_absolute_uri(reverse("portal:verify"))), content_type="application/zip"
    )
    name = _("mijn-kluis") + f"-{timezone.localdate().isoformat()}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
