"""Facts and figures (R19): how much the Blauwe Knop is used, counted from what this deployment keeps anyway.

Two uses, both counts only, never about one citizen:

- the app manager's counts per requester (:func:`requester_figures`), which it publishes at
  ``/appbeheerder/api/v1/cijfers`` (:mod:`blauweknop.portal.figures_api`) for the scheme operator's monitoring;
- the public page ``/cijfers/`` (:func:`figures_page`): use per variant and per kind of organisation,
  a count below :data:`SHOWN_FROM` said as "fewer than 10". Only closed periods (the last
  :data:`PUBLIC_MONTHS` whole calendar months): a window that moves with every visit would show each
  single use as the difference between two visits. A kind of organisation with fewer than
  :data:`MIN_MEMBERS` participants counts under "overig" (its row would be that one organisation), and
  "overig" itself is left out when it still has fewer.

Counting is a few aggregate queries over the consent register, the citizen's events and (where this
deployment is also a holder) the access records. Nothing is written to count: the numbers come from
records kept for the citizen anyway. Results stay in the shared cache for :data:`CACHED_FOR` seconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from asgiref.sync import sync_to_async
from django.apps import apps
from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from blauweknop import shared_cache
from blauweknop.display import FETCHED, PRINTED
from blauweknop.portal.debts import DEBT_TYPES
from blauweknop.portal.models import CitizenEvent, Consent, ConsentEvent
from blauweknop.portal.pages import arender
from blauweknop.protocol import figures, scheme_document
from blauweknop.protocol.scheme_document import Participant, SchemeDocument
from blauweknop.scheme.client import scheme_client

CACHED_FOR = 300  # seconds: figures a few minutes old are good enough, and nobody can make us count on every request
SHOWN_FROM = 10  # smaller counts are shown as "fewer than 10"
PUBLIC_MONTHS = 12
MIN_MEMBERS = 3  # a row for fewer organisations would tell about one of them

# The kinds of organisation the public page groups by: a participant's ``info.soort`` in the scheme document.
OTHER = scheme_document.OTHER_KIND
KINDS = {
    "gemeente": _("Gemeenten"),
    "rijk": _("Rijksoverheid"),
    "waterschap": _("Waterschappen en belastingsamenwerkingen"),
    "bank": _("Banken"),
    "woningcorporatie": _("Woningcorporaties"),
    "schuldhulp": _("Schuldhulpverlening"),
    OTHER: _("Andere organisaties"),
}
# The columns of the public page: (variant, what is counted).
COLUMNS = (
    ("downloads", _("Basis"), _("Kopieën gedownload")),
    ("checks", _("Basis"), _("Kopieën gecontroleerd")),
    ("debts", _("Centraal"), _("Schulden bekeken in het overzicht")),
    ("shares", _("Plus"), _("Gegevens gedeeld met toestemming")),
)


def day_start(day: date) -> datetime:
    """The first moment of ``day`` in the deployment's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _by(rows: Iterable[Mapping], key: str) -> Counter[str]:
    return Counter({row[key]: row["n"] for row in rows})


def requester_figures(start: date, end: date) -> figures.Figures:
    """Per requester, what happened under the consents in the days ``start`` up to ``end``: counts only.

    A fetch is a delivery under a consent that had one before (the first is the answer to the request);
    a refused fetch "after withdrawal" is one the requester tried after it knew of the withdrawal: after the
    portal's notice reached it (:mod:`blauweknop.portal.end_notices`), or after an earlier refusal under that
    consent told it. The one fetch it may try before it could know is no sign of anything.
    """
    events = ConsentEvent.objects.filter(at__gte=day_start(start), at__lt=day_start(end))
    requester = "consent__requester_oin"
    per_kind = events.filter(
        kind__in=[ConsentEvent.Kind.GIVEN, ConsentEvent.Kind.REFUSED, ConsentEvent.Kind.WITHDRAWN]
    ).values(requester, "kind")
    decided = Counter({(row[requester], row["kind"]): row["n"] for row in per_kind.annotate(n=Count("pk"))})
    earlier = ConsentEvent.objects.filter(
        consent=OuterRef("consent"), kind=ConsentEvent.Kind.DELIVERED, pk__lt=OuterRef("pk")
    )
    fetches = events.filter(Exists(earlier), kind=ConsentEvent.Kind.DELIVERED)
    refused = events.filter(kind=ConsentEvent.Kind.FETCH_REFUSED)
    refused_before = ConsentEvent.objects.filter(
        consent=OuterRef("consent"),
        kind=ConsentEvent.Kind.FETCH_REFUSED,
        at__gte=OuterRef("consent__ended_at"),
        pk__lt=OuterRef("pk"),
    )
    after_withdrawal = refused.filter(consent__state=Consent.State.WITHDRAWN, at__gte=F("consent__ended_at")).filter(
        Q(at__gte=F("consent__end_notice__told_at")) | Exists(refused_before)
    )
    counted = {
        figures.FETCHES: _by(fetches.values(requester).annotate(n=Count("pk")), requester),
        figures.FETCHES_REFUSED: _by(refused.values(requester).annotate(n=Count("pk")), requester),
        figures.FETCHES_AFTER_WITHDRAWAL: _by(after_withdrawal.values(requester).annotate(n=Count("pk")), requester),
    }
    kinds = {
        figures.APPROVALS: ConsentEvent.Kind.GIVEN,
        figures.REFUSALS: ConsentEvent.Kind.REFUSED,
        figures.WITHDRAWALS: ConsentEvent.Kind.WITHDRAWN,
    }
    for name, kind in kinds.items():
        counted[name] = Counter({oin: n for (oin, k), n in decided.items() if k == kind})
    counted[figures.ANSWERED] = counted[figures.APPROVALS] + counted[figures.REFUSALS]
    oins = set().union(*counted.values())
    requesters = {oin: {name: counted[name][oin] for name in figures.COUNTS} for oin in oins}
    return figures.Figures(settings.PORTAL_OIN, start, end, requesters)


def cached_requester_figures(start: date, end: date) -> figures.Figures:
    """:func:`requester_figures`, from the shared cache when counted less than :data:`CACHED_FOR` seconds ago."""
    key = shared_cache.key("cijfers-vragers", f"{start.isoformat()}/{end.isoformat()}")
    return shared_cache.remembered(key, figures.Figures, lambda: requester_figures(start, end), CACHED_FOR)


def kind_of(participant: Participant | None) -> str:
    """The kind of organisation, as the scheme document says (``info.soort``); ``overig`` when it does not."""
    said = participant.info.get("soort") if participant is not None else None
    return said if isinstance(said, str) and said in KINDS else OTHER


def usage(start: date, end: date, app_managers: Iterable[str]) -> dict[str, Counter[str]]:
    """Per column of the public page, how often, per organisation (OIN), in the days ``start`` up to ``end``.

    Basis: copies downloaded and checked here (a PDF is made by the holder, which records it); Centraal:
    copies of debts an app manager fetched for the overview; Plus: consents given, per requester.
    The holders' records count only where this deployment is also a holder.
    """
    since, until = day_start(start), day_start(end)
    events = CitizenEvent.objects.filter(at__gte=since, at__lt=until).values("holder_oin", "activity")
    per_activity = Counter({(row["holder_oin"], row["activity"]): row["n"] for row in events.annotate(n=Count("pk"))})
    counted = {
        "downloads": Counter({oin: n for (oin, a), n in per_activity.items() if a == CitizenEvent.Activity.DOWNLOADED}),
        "checks": Counter({oin: n for (oin, a), n in per_activity.items() if a == CitizenEvent.Activity.CHECKED}),
        "debts": Counter(),
    }
    given = ConsentEvent.objects.filter(at__gte=since, at__lt=until, kind=ConsentEvent.Kind.GIVEN)
    counted["shares"] = _by(given.values("consent__requester_oin").annotate(n=Count("pk")), "consent__requester_oin")
    if apps.is_installed("blauweknop.audit"):
        records = apps.get_model("audit", "AccessRecord").objects.filter(at__gte=since, at__lt=until)
        printed = records.filter(activity=PRINTED).values("holder_id").annotate(n=Count("pk"))
        counted["downloads"] += _by(printed, "holder_id")
        debts = records.filter(activity=FETCHED, document_type__in=DEBT_TYPES, actor_oin__in=list(app_managers))
        counted["debts"] = _by(debts.values("holder_id").annotate(n=Count("pk")), "holder_id")
    return counted


@dataclass(frozen=True)
class Cell:
    """A count as the public page shows it: the number from :data:`SHOWN_FROM`, else hidden."""

    count: int
    hidden: bool

    @property
    def shown(self) -> int | None:
        """The number to show, or ``None`` for "fewer than 10"."""
        return None if self.hidden else self.count


def cell(count: int) -> Cell:
    """A count, hidden when below :data:`SHOWN_FROM`."""
    return Cell(count, count < SHOWN_FROM)


def total(cells: list[Cell]) -> Cell:
    """The total of a column; also hidden when it would give away the hidden cells (together fewer than 10).

    With one hidden cell of 3 beside shown ones, total minus the shown ones would be 3.
    """
    hidden = sum(c.count for c in cells if c.hidden)
    whole = sum(c.count for c in cells)
    return Cell(whole, whole < SHOWN_FROM or 0 < hidden < SHOWN_FROM)


@dataclass(frozen=True)
class Table:
    """The public page's table: a row per kind of organisation that took part, and the totals."""

    rows: list[tuple[str, list[Cell]]]
    totals: list[Cell]


def groups(scheme: SchemeDocument) -> dict[str, str]:
    """Per organisation (OIN) in ``scheme``, the row it counts under: its kind, or ``overig`` for a small kind.

    A kind with fewer than :data:`MIN_MEMBERS` organisations in the scheme is merged into ``overig``.
    """
    own = {oin: kind_of(participant) for oin, participant in scheme.organisations.items()}
    members = Counter(own.values())
    return {oin: kind if members[kind] >= MIN_MEMBERS else OTHER for oin, kind in own.items()}


def table(counted: Mapping[str, Counter[str]], scheme: SchemeDocument) -> Table:
    """The counts per organisation added up per kind of organisation (:func:`groups`), in the order of :data:`KINDS`.

    ``overig`` is left out, from the totals too, when even merged it has fewer than :data:`MIN_MEMBERS`.
    """
    grouped = groups(scheme)
    left_out = {OTHER} if Counter(grouped.values())[OTHER] < MIN_MEMBERS else set()
    per_kind = {name: Counter[str]() for name, *_ in COLUMNS}
    for name, per_oin in counted.items():
        for oin, n in per_oin.items():
            per_kind[name][grouped.get(oin, OTHER)] += n
    kinds = [kind for kind in KINDS if kind not in left_out and any(per_kind[name][kind] for name in per_kind)]
    rows = [(kind, [cell(per_kind[name][kind]) for name, *_ in COLUMNS]) for kind in kinds]
    totals = [total([cells[i] for _kind, cells in rows]) for i in range(len(COLUMNS))]
    return Table(rows, totals)


def public_period(today: date) -> tuple[date, date]:
    """The public page's period: the last :data:`PUBLIC_MONTHS` whole calendar months before ``today``'s month.

    The same for a whole month: a visit tomorrow shows the same numbers as one today.
    """
    end = today.replace(day=1)
    months = end.year * 12 + end.month - 1 - PUBLIC_MONTHS
    return date(months // 12, months % 12 + 1, 1), end


def public_table(scheme: SchemeDocument, today: date) -> Table:
    """The public page's table for :func:`public_period`, from the cache when fresh."""
    start, end = public_period(today)
    key = shared_cache.key("cijfers-openbaar", f"{start.isoformat()}/{scheme.version}")

    def counted() -> Table:
        return table(usage(start, end, scheme.app_managers), scheme)

    return shared_cache.remembered(key, Table, counted, CACHED_FOR)


@require_safe
async def figures_page(request: HttpRequest) -> HttpResponse:
    """Cijfers: how often the Blauwe Knop was used in the last whole months, per variant and kind of organisation."""
    scheme = await scheme_client.current()
    today = timezone.localdate()
    start, end = public_period(today)
    found = await sync_to_async(public_table)(scheme, today)
    labels = [f"{variant}: {what}" for _name, variant, what in COLUMNS]
    context = {
        "columns": labels,
        "rows": [(KINDS[kind], list(zip(labels, cells, strict=True))) for kind, cells in found.rows],
        "totals": list(zip(labels, found.totals, strict=True)),
        "hidden_total": any(c.hidden and c.count >= SHOWN_FROM for c in found.totals),
        "since": start,
        "until": end - timedelta(days=1),
        "shown_from": SHOWN_FROM,
        "min_members": MIN_MEMBERS,
    }
    return await arender(request, "portal/figures.html", context)
