"""Mijn overzicht: what every organisation holds about the citizen, on one page.

The first visit of a session (or a press of "fetch again", at most once per half minute) asks every
holder at once and streams the page: its top first, then one section per organisation as soon as it
answered, then the end, so a slow organisation never holds up the others and the page is complete
within the fan-out's timeout, also without JavaScript. Each answer is kept in the session as it
arrives; later visits show the kept answers without asking anyone again.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import ngettext

from blauweknop import display, document_types
from blauweknop.display import Row, format_value, rows
from blauweknop.document_types import Catalogue
from blauweknop.i18n import language
from blauweknop.portal import data_page, session
from blauweknop.portal.fanout import HolderResult, ask_all_in_batches
from blauweknop.portal.holders import Citizen
from blauweknop.portal.models import SessionCopies
from blauweknop.portal.pages import arender
from blauweknop.portal.session import citizen_required
from blauweknop.protocol import sdjwt, sdjwt_vc
from blauweknop.protocol.scheme_document import HOLDER, Participant, SchemeDocument
from blauweknop.scheme.client import scheme_client

Outcome = SessionCopies.Outcome
PAGE, SECTION, END = "portal/overview.html", "portal/overview_section.html", "portal/overview_end.html"
FETCH_AGAIN = "bk_overview_fetch_again"  # set by "fetch again" (POST), taken by the next GET
FETCHED_AGAIN_AT = "bk_overview_fetched_again_at"  # when "fetch again" was last done (epoch seconds)
# Seconds between two presses of "fetch again" that ask every organisation: pressing it over and over
# would load every holder, and could open its circuit for everyone.
FETCH_AGAIN_EVERY = 30
# Every copy repeats who it is about; the overview shows what each organisation adds, the data page the rest.
IDENTITY = ("burgerservicenummer", "naam.", "geboorte.datum")
KEY_VALUES = 5  # values per document type at most; the organisation's own page has them all
ANSWERED = (Outcome.FETCHED, Outcome.NONE)
# Answers that come in within this many seconds of each other are kept in one write and shown together.
GATHER = 0.005


@dataclass(frozen=True)
class Kind:
    """One document type in an organisation's section: its name and the values that say most."""

    type_id: str
    title: str
    values: list[Row]
    items: list[str]  # a name per list item (e.g. each allowance), when the type has a list
    total_owed: str | None  # for debts: what is still to pay in all, formatted
    debts: int  # for debts: how many


@dataclass(frozen=True)
class Source:
    """One organisation's section: how it answered, and what it gave."""

    holder: Participant
    outcome: str
    kinds: list[Kind]
    nothing_of: list[str]  # plain sentences for each document type it has none of

    @property
    def failed(self) -> bool:
        """It gave no answer we can show: the section says whom to call."""
        return self.outcome not in ANSWERED

    @property
    def page(self) -> str:
        """The organisation's own page: all its data, to view or download."""
        return reverse("portal:organisation", args=[self.holder.oin])

    @property
    def keepable(self) -> list[str]:
        """The ``kopie`` values of the vault's keep form: "<oin>:<type>"."""
        return [f"{self.holder.oin}:{kind.type_id}" for kind in self.kinds]


def shown_claims(credential: str) -> dict[str, Any]:
    """The data claims of a copy verified when it came in (kept in the session): what its section shows."""
    return {k: v for k, v in sdjwt.unverified_claims(credential).items() if k not in sdjwt_vc.PLAIN_CLAIMS}


def _kind(catalogue: Catalogue, type_id: str, claims: dict[str, Any]) -> Kind | None:
    document_type = catalogue.get(type_id)
    if document_type is None:
        return None
    shown = rows(document_type, claims)
    owed = data_page.total_owed(document_type, claims)
    items = [list(group) for number, group in groupby(shown, key=lambda row: row.item) if number]
    values = [
        row for row in shown if row.item is None and not row.path.startswith(IDENTITY) and row.path not in display.OWED
    ]
    return Kind(
        type_id,
        document_type.name[language()],
        values[:KEY_VALUES],
        [] if owed is not None else [name for item in items if (name := display.item_name(document_type, item))],
        None if owed is None else format_value("money", owed),
        len(items) if owed is not None else 0,
    )


def source(
    catalogue: Catalogue, holder: Participant, outcome: str, claims: dict[str, dict[str, Any]], absent: list[str]
) -> Source:
    """An organisation's section from its answer: the data claims of its copies by type (always verified),
    also those of a holder that failed for its other types, and what it has none of."""
    kinds = [kind for type_id, shown in claims.items() if (kind := _kind(catalogue, type_id, shown))]
    nothing_of = [data_page.nothing_of(t, holder.name) for t in map(catalogue.get, absent) if t is not None]
    return Source(holder, outcome, kinds, nothing_of if outcome != Outcome.NONE else [])


def links() -> dict[str, str]:
    """The addresses every section links to, looked up once per page rather than once per section."""
    return {
        "debts": reverse("portal:debts"),
        "keep": reverse("portal:vault-keep"),
        "overview": reverse("portal:overview"),
    }


def summary(outcomes: Iterable[str]) -> tuple[int, int]:
    """How many organisations answered (with data or with "none"), of how many asked."""
    outcomes = list(outcomes)
    return sum(outcome in ANSWERED for outcome in outcomes), len(outcomes)


def _holders(scheme: SchemeDocument) -> list[Participant]:
    return [p for p in scheme.organisations.values() if HOLDER in p.roles]


def wait_to_fetch_again(last: Any, now: float) -> int:
    """Seconds before "fetch again" asks every organisation again, after a press at ``last``; 0: it may now.

    ``last`` is what the session holds (``None`` if never pressed); a moment ahead of ``now`` (the
    clock went back) waits at most the full time.
    """
    if not isinstance(last, int | float):
        return 0
    return min(FETCH_AGAIN_EVERY, max(0, math.ceil(last + FETCH_AGAIN_EVERY - now)))


async def _fetch_again(request: HttpRequest) -> HttpResponse:
    """A press of "fetch again": the GET it leads to asks every organisation anew, unless it was just done."""
    now = time.time()
    wait = wait_to_fetch_again(await request.session.aget(FETCHED_AGAIN_AT), now)
    if wait:
        text = ngettext(
            "U heeft net alles opgehaald. Over %(n)d seconde kunt u het opnieuw doen.",
            "U heeft net alles opgehaald. Over %(n)d seconden kunt u het opnieuw doen.",
            wait,
        )
        messages.info(request, text % {"n": wait})
    else:
        await request.session.aset(FETCH_AGAIN, True)
        await request.session.aset(FETCHED_AGAIN_AT, now)
    return _see_other(reverse("portal:overview"))


def _see_other(url: str) -> HttpResponse:
    response = HttpResponseRedirect(url)
    response.status_code = 303  # after a POST: GET the page, and "back" does not send the form again
    return response


@citizen_required
async def overview(request: HttpRequest) -> HttpResponse:
    """The overview: fetched from every organisation and streamed, or the answers kept in this session."""
    if request.method == "POST":
        return await _fetch_again(request)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    scheme = await scheme_client.current()
    # Taken now: the session is saved when the response starts, before a streamed page ends.
    if await request.session.apop(FETCH_AGAIN, False):
        return await _streamed(request, scheme)
    kept = await session.answers(request)
    certified = {p.oin for p in _holders(scheme) if p.is_certified}
    taking_part = {
        oin for oin, a in kept.items() if a.outcome != Outcome.NOT_TAKING_PART and oin in scheme.organisations
    }
    # Kept before a holder was suspended or restored (or joined): the kept page no longer says what the scheme says.
    if certified != taking_part:
        return await _streamed(request, scheme)
    catalogue = document_types.of(scheme)
    sources = sorted(
        (
            source(
                catalogue,
                scheme.organisations[oin],
                answer.outcome,
                {type_id: shown_claims(credential) for type_id, credential in answer.credentials.items()},
                answer.absent,
            )
            for oin, answer in kept.items()
            if oin in scheme.organisations
        ),
        key=lambda s: s.holder.name,
    )
    answered, asked = summary(s.outcome for s in sources)
    context = {
        "links": links(),
        "sources": sources,
        "answered": answered,
        "asked": asked,
        "fetched_at": min(answer.fetched_at for answer in kept.values()),
    }
    return await arender(request, PAGE, context)


async def _streamed(request: HttpRequest, scheme: SchemeDocument) -> StreamingHttpResponse:
    """The page in parts: the top (rendered now, with the header's forms), each answer, the end."""
    holders = _holders(scheme)
    citizen = await session.citizen(request, await request.auser())
    mark = secrets.token_hex(16)  # where the answers and the end go in the rendered page; in no content
    context = {"streaming": True, "mark": mark, "asked": len(holders), "seconds": math.ceil(settings.OVERVIEW_TIMEOUT)}
    page = await sync_to_async(render_to_string)(PAGE, context, request)
    top, _, rest = page.partition(f"<!--{mark}:antwoorden-->")
    between, _, bottom = rest.partition(f"<!--{mark}:einde-->")
    parts = {"top": top, "between": between, "bottom": bottom}
    fill = {"csrf_token": get_token(request), "links": links()}
    response = StreamingHttpResponse(
        _parts(request.session.session_key or "", scheme, citizen, parts, fill), content_type="text/html; charset=utf-8"
    )
    response["X-Accel-Buffering"] = "no"  # a proxy in front (nginx) passes each part on at once
    return response


async def _parts(
    session_key: str, scheme: SchemeDocument, citizen: Citizen, parts: dict[str, str], fill: dict[str, Any]
) -> AsyncIterator[str]:
    yield parts["top"]
    catalogue, outcomes = document_types.of(scheme), []

    def section(result: HolderResult) -> str:
        claims = {type_id: verified.claims for type_id, verified in result.verified.items()}
        shown = source(catalogue, result.holder, result.outcome, claims, result.absent)
        return render_to_string(SECTION, {**fill, "source": shown})

    async for batch in ask_all_in_batches(scheme, citizen, section, gather=GATHER):
        # Kept before it is shown; then no database connection is held while the others are awaited.
        await session.keep_answers(
            session_key, (session.Answered(r.holder.oin, r.outcome, r.credentials, r.absent) for r, _ in batch)
        )
        outcomes += [result.outcome for result, _ in batch]
        yield "".join(shown for _, shown in batch)
    answered, asked = summary(outcomes)
    yield parts["between"]
    yield render_to_string(END, {**fill, "answered": answered, "asked": asked, "streamed": True})
    yield parts["bottom"]
