"""The operator's monitoring page (/stelsel/beheer/toezicht/): per requester what happened, and what stands out.

The figures come from every certified app manager over HTTP (:mod:`blauweknop.scheme.monitoring`), cached a
few minutes; the page itself writes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from blauweknop.protocol import figures, scheme_document
from blauweknop.scheme import key_notices, monitoring
from blauweknop.scheme.client import trust_anchor
from blauweknop.scheme.publication import in_force
from blauweknop.scheme.staff import operator_required

# The counts per requester, in the table's order, with their column headings.
COLUMNS = (
    (figures.ANSWERED, gettext_lazy("Beantwoord")),
    (figures.APPROVALS, gettext_lazy("Ja")),
    (figures.REFUSALS, gettext_lazy("Nee")),
    (figures.WITHDRAWALS, gettext_lazy("Ingetrokken")),
    (figures.FETCHES, gettext_lazy("Opgehaald")),
    (figures.FETCHES_REFUSED, gettext_lazy("Ophalen geweigerd")),
    (figures.FETCHES_AFTER_WITHDRAWAL, gettext_lazy("Na intrekking")),
)


def _name(scheme: scheme_document.SchemeDocument, oin: str) -> str:
    found = scheme.organisations.get(oin) or scheme.app_managers.get(oin)
    return found.name if found else oin


def _said(alert: monitoring.Alert, name: str) -> str:
    """What an alert means, in a sentence for the operator."""
    if alert.code == monitoring.MANY_REQUESTS:
        return _(
            "%(name)s kreeg %(count)s antwoorden op verzoeken. Dat is meer dan %(factor)s keer zo veel als de "
            "andere vragers (de middelste kreeg er %(median)s)."
        ) % {"name": name, "count": alert.count, "factor": monitoring.PEER_FACTOR, "median": f"{alert.compared_to:g}"}
    if alert.code == monitoring.FETCH_AFTER_WITHDRAWAL:
        return _(
            "%(name)s probeerde %(count)s keer gegevens op te halen terwijl zij al wist dat de inwoner de toestemming "
            "had ingetrokken."
        ) % {"name": name, "count": alert.count}
    return _("Inwoners weigerden %(percent)s%% van de verzoeken van %(name)s (%(count)s keer).") % {
        "name": name,
        "count": alert.count,
        "percent": round(alert.compared_to * 100),
    }


@require_safe
@operator_required
def monitoring_page(request: HttpRequest) -> HttpResponse:
    """Per requester: answers, approvals, refusals, withdrawals and fetches in the last 30 days, and the alerts.

    Also the keys participants announced themselves lately: one a thief announced shows here too.
    """
    published = in_force()
    context: dict[str, Any] = {"columns": COLUMNS, "announced": key_notices.recent(timezone.now())}
    if published is not None:
        scheme = scheme_document.verify(published.token, trust_anchor())
        seen = monitoring.cached_overview(scheme, timezone.localdate())
        context |= {
            "seen": seen,
            "last_day": seen.end - timedelta(days=1),
            "alerts": [_said(alert, _name(scheme, alert.requester)) for alert in seen.alerts],
            "rows": [
                {"name": _name(scheme, oin), "oin": oin, "counts": [(label, counts[name]) for name, label in COLUMNS]}
                for oin, counts in sorted(seen.requesters.items(), key=lambda item: _name(scheme, item[0]))
            ],
            "unreachable": [_name(scheme, oin) for oin in seen.unreachable],
        }
    return render(request, "scheme/monitoring.html", context)


urlpatterns: list[URLPattern] = [path("", monitoring_page, name="monitoring")]
