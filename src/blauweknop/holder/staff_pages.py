"""The holder staff's pages: the queue of correction requests, one request, and the decisions on it.

Every page needs a member of a holder's staff logged in with both factors
(:func:`blauweknop.holder.staff.holder_staff_required`) and shows only that holder's requests: another holder's
is "not found". Taking a request up is one button; correcting, rejecting and extending the deadline each have a
form, then a "Weet u het zeker?" step that shows what will be written and what the citizen will read; only then
:mod:`blauweknop.holder.corrections` does it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from blauweknop import document_types, i18n
from blauweknop.holder import corrections
from blauweknop.holder.models import CorrectionRequest
from blauweknop.holder.sources import source_adapter
from blauweknop.holder.staff import LOGIN, holder_staff_required

State = CorrectionRequest.State
OPEN = corrections.OPEN
MAX_ROWS = 500  # the queue shows this many requests at most: the open ones come first
# The states in words, as staff say them (the citizen's portal has its own words for them).
STATES = {
    State.RECEIVED: gettext_lazy("Nieuw"),
    State.IN_PROGRESS: gettext_lazy("In behandeling"),
    State.CORRECTED: gettext_lazy("Aangepast"),
    State.REJECTED: gettext_lazy("Afgewezen"),
}
BSN_SHOWN = 3  # the last digits of the BSN on the page: enough to match a phone call, not enough to misuse


@dataclass(frozen=True)
class Deadline:
    """A deadline as staff read it: the date, and how many days are left or how late it is."""

    day: datetime
    days: int  # days left; negative when late

    @property
    def overdue(self) -> bool:
        return self.days < 0

    @property
    def words(self) -> str:
        """ "nog 5 dagen", "vandaag", "3 dagen te laat"."""
        if self.days == 0:
            return _("vandaag")
        if self.days > 0:
            return ngettext("nog %(days)d dag", "nog %(days)d dagen", self.days) % {"days": self.days}
        late = -self.days
        return ngettext("%(days)d dag te laat", "%(days)d dagen te laat", late) % {"days": late}


def deadline_of(correction: CorrectionRequest, now: datetime | None = None) -> Deadline:
    """The request's deadline, counted in whole days in the holder's time zone (Europe/Amsterdam)."""
    today = timezone.localdate(now or timezone.now())
    return Deadline(correction.deadline, (timezone.localdate(correction.deadline) - today).days)


@dataclass(frozen=True)
class Row:
    """One request in the queue."""

    correction: CorrectionRequest
    field: str  # the field's label, in plain words
    state: str
    deadline: Deadline


def _catalogue(request: HttpRequest) -> document_types.Catalogue | None:
    scheme = request.holder_scheme
    return document_types.of(scheme) if scheme is not None else None


def _field(catalogue: document_types.Catalogue | None, correction: CorrectionRequest) -> document_types.Field | None:
    document_type = catalogue.get(correction.document_type) if catalogue is not None else None
    return document_type.field(correction.path) if document_type is not None else None


def field_label(catalogue: document_types.Catalogue | None, correction: CorrectionRequest) -> str:
    """The field in plain words (from the catalogue); for a field in a list, with the words that tell the item from
    the others as it was when the request came in ("Nog te betalen (Inkomstenbelasting, BEL-2025-001, € 331,13)"),
    or its number when nothing names it. Its path when the catalogue cannot be had or does not know it."""
    field = _field(catalogue, correction)
    label = field.label[i18n.language()] if field is not None else correction.path
    if correction.position is None:
        return label
    document_type = catalogue.get(correction.document_type) if catalogue is not None else None
    item = corrections.item_words(document_type, correction.path, correction.item) if document_type else None
    if item:
        return _("%(label)s (%(item)s)") % {"label": label, "item": item}
    return _("%(label)s (nummer %(number)d)") % {"label": label, "number": correction.position + 1}


def value_words(catalogue: document_types.Catalogue | None, correction: CorrectionRequest, value: Any) -> str:
    """A stored value as people write it (euros, dates in words, the words for a code)."""
    return corrections.words(_field(catalogue, correction), value)


def citizen_name(catalogue: document_types.Catalogue | None, correction: CorrectionRequest) -> str | None:
    """The citizen's name as the holder's own source document has it now, or ``None`` when it cannot be read."""
    document_type = catalogue.get(correction.document_type) if catalogue is not None else None
    if document_type is None:
        return None
    document = source_adapter().lookup(correction.holder_id, correction.bsn, document_type)
    name = document.get("naam") if isinstance(document, dict) else None
    if not isinstance(name, dict):
        return None
    words = [name.get(key) for key in ("voornamen", "voorvoegsel", "geslachtsnaam")]
    return " ".join(word for word in words if isinstance(word, str) and word) or None


def _own(request: HttpRequest, reference: str) -> CorrectionRequest:
    """One of this holder's requests; any other (another holder's, or none) is not found."""
    return get_object_or_404(CorrectionRequest, reference=reference, holder_id=request.holder_staff.holder_oin)


@require_GET
@holder_staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """The open requests, the nearest deadline first, with days left (late ones marked); the decided ones below."""
    catalogue = _catalogue(request)
    now = timezone.now()
    rows = [
        Row(correction, field_label(catalogue, correction), str(STATES[correction.state]), deadline_of(correction, now))
        for correction in corrections.queue(request.holder_staff.holder_oin)[:MAX_ROWS]
    ]
    context = {
        "open": [row for row in rows if row.correction.state in OPEN],
        "decided": [row for row in rows if row.correction.state not in OPEN],
        "capped": len(rows) == MAX_ROWS,
    }
    return render(request, "holder/queue.html", context)


def _details(request: HttpRequest, correction: CorrectionRequest) -> dict[str, Any]:
    """What every page about one request shows of it."""
    catalogue = _catalogue(request)
    return {
        "correction": correction,
        "field": field_label(catalogue, correction),
        "then": value_words(catalogue, correction, correction.current_value),
        "corrected": value_words(catalogue, correction, correction.corrected_value),
        "state": STATES[correction.state],
        "deadline": deadline_of(correction),
        "is_open": correction.state in OPEN,
        "bsn_end": correction.bsn[-BSN_SHOWN:],
    }


@require_GET
@holder_staff_required
def request_page(request: HttpRequest, reference: str) -> HttpResponse:
    """One request: the field, its value then, the proposal and explanation, the attachment, whom it is about; and
    what can be done with it now."""
    correction = _own(request, reference)
    context = _details(request, correction)
    context["name"] = citizen_name(_catalogue(request), correction)
    return render(request, "holder/request.html", context)


@require_GET
@holder_staff_required
def attachment(request: HttpRequest, reference: str) -> HttpResponse:
    """The citizen's attachment, as a download only: a browser never shows it inside the staff pages."""
    correction = _own(request, reference)
    if correction.attachment is None:
        raise Http404
    response = HttpResponse(bytes(correction.attachment), content_type=correction.attachment_type)
    response["Content-Disposition"] = content_disposition_header(True, correction.attachment_name or "bijlage")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _refused(request: HttpRequest, correction: CorrectionRequest, message: str) -> HttpResponse:
    """The step cannot be taken (409: the request's state is in the way); nothing changed."""
    context = {**_details(request, correction), "message": message}
    return render(request, "holder/refused.html", context, status=409)


@require_POST
@holder_staff_required
def take_up(request: HttpRequest, reference: str) -> HttpResponse:
    """In behandeling nemen: the citizen sees that someone is working on it. No confirm step: nothing is decided."""
    correction = _own(request, reference)
    try:
        corrections.take_up(correction, by=request.user.get_username())
    except corrections.DecisionRefused as exc:
        return _refused(request, _own(request, reference), str(exc.message))
    messages.info(request, _("U heeft het verzoek in behandeling genomen. De inwoner ziet dat."))
    return redirect("holderstaff:request", reference=reference)


def _reason_field(help_text: Promise) -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Reden"),
        help_text=help_text,
        min_length=corrections.MIN_REASON,
        max_length=corrections.MAX_REASON,
        error_messages={
            "required": gettext_lazy("Schrijf een reden op. De inwoner leest die."),
            "min_length": corrections.REASON_TOO_SHORT,
            "max_length": gettext_lazy("De reden is te lang. Gebruik hoogstens %(limit_value)d tekens."),
        },
        widget=forms.Textarea,
    )


class AcceptForm(forms.Form):
    value = forms.CharField(
        label=gettext_lazy("Nieuwe waarde"),
        help_text=gettext_lazy(
            "Dit komt in de bron. Het voorstel van de inwoner staat er al; pas het aan als dat nodig is. "
            "Een bedrag schrijft u in euro's, met de centen na een komma: bijvoorbeeld 1234,56. "
            "Een datum zo: 31-03-2026."
        ),
        max_length=corrections.MAX_PROPOSED,
        error_messages={
            "required": gettext_lazy("Vul de nieuwe waarde in."),
            "max_length": gettext_lazy("De waarde is te lang. Gebruik hoogstens %(limit_value)d tekens."),
        },
    )


class RejectForm(forms.Form):
    reason = _reason_field(
        gettext_lazy(
            "De inwoner leest dit. Schrijf kort waarom de gegevens kloppen, en wat de inwoner nu kan doen "
            "(bijvoorbeeld bezwaar maken of bellen)."
        )
    )


class FieldsetRadio(forms.RadioSelect):
    """Radio buttons in a fieldset that carries the field's id, so the error summary's link leads to them (Django
    gives a group of radio buttons no id of its own)."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return id_ if index is None else super().id_for_label(id_, index)


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label=gettext_lazy("Hoeveel langer?"),
        choices=[(1, gettext_lazy("1 maand")), (2, gettext_lazy("2 maanden"))],
        coerce=int,
        widget=FieldsetRadio,
        error_messages={
            "required": gettext_lazy("Kies 1 of 2 maanden."),
            "invalid_choice": gettext_lazy("Kies 1 of 2 maanden."),
        },
    )
    reason = _reason_field(
        gettext_lazy(
            "De inwoner leest dit. De wet (AVG) vraagt een reden, bijvoorbeeld: het verzoek is ingewikkeld, "
            "of er zijn veel verzoeken. U kunt de termijn één keer verlengen."
        )
    )


@dataclass(frozen=True)
class Decision:
    """A decision on a request: its form, its button, what the confirm step says, and how it is done."""

    slug: str
    title: Promise
    form: type[forms.Form]
    field: str  # the form's field an error of the service belongs next to
    explanation: Promise  # what happens, said on the confirm step
    done: Promise  # said after it is done

    def act(self, correction: CorrectionRequest, by: str, data: dict[str, Any], seen: Any) -> None:
        """Do it, through the service (one transaction; refused with ``DecisionRefused``). ``seen``: the value the
        confirm step showed as in the source now (a correction is refused when the source holds another now)."""
        if self.slug == "aanpassen":
            corrections.accept(correction, by=by, value=data["value"], expected=seen)
        elif self.slug == "afwijzen":
            corrections.reject(correction, by=by, reason=data["reason"])
        else:
            corrections.extend(correction, by=by, reason=data["reason"], months=data["months"])


DECISIONS = {
    decision.slug: decision
    for decision in (
        Decision(
            "aanpassen",
            gettext_lazy("Gegevens aanpassen"),
            AcceptForm,
            "value",
            gettext_lazy(
                "De nieuwe waarde komt meteen in de bron. Alle eerdere kopieën met de oude waarde worden "
                "ongeldig: wie ze controleert, ziet 'vervangen door nieuwere gegevens'. De inwoner krijgt bericht "
                "dat het verzoek is aangepast. U kunt dit besluit niet terugdraaien."
            ),
            gettext_lazy("De gegevens zijn aangepast. De inwoner krijgt bericht."),
        ),
        Decision(
            "afwijzen",
            gettext_lazy("Verzoek afwijzen"),
            RejectForm,
            "reason",
            gettext_lazy(
                "De gegevens blijven zoals ze zijn. De inwoner krijgt bericht en leest deze reden. "
                "U kunt dit besluit niet terugdraaien."
            ),
            gettext_lazy("Het verzoek is afgewezen. De inwoner krijgt bericht, met de reden."),
        ),
        Decision(
            "verlengen",
            gettext_lazy("Termijn verlengen"),
            ExtendForm,
            "reason",
            gettext_lazy(
                "De uiterste datum voor uw besluit schuift op. De inwoner krijgt bericht en leest deze reden. "
                "U kunt de termijn maar één keer verlengen."
            ),
            gettext_lazy("De termijn is verlengd. De inwoner krijgt bericht, met de reden."),
        ),
    )
}


def not_now(correction: CorrectionRequest, decision: Decision) -> str | None:
    """Why ``decision`` cannot be taken on ``correction`` now, or ``None`` when it can."""
    if correction.state not in OPEN:
        return _("Over dit verzoek is al besloten: het is %(state)s. Een besluit kan niet nog eens.") % {
            "state": str(STATES[correction.state]).lower()
        }
    if decision.slug == "verlengen" and correction.extension_reason:
        return _("De termijn is al een keer verlengd. Dat kan maar één keer.")
    return None


def check_value(request: HttpRequest, correction: CorrectionRequest, form: forms.Form) -> dict[str, Any]:
    """What the confirm step shows of a correction: the value in the source now (of the same list item, wherever
    it stands now) and the value staff typed as it will stand there (``€ 1.234,56``), with a warning when the
    source changed since the request or the new amount is far off the one now. When the value cannot be written
    (the kind cannot take it, the item is gone), an error next to the field now, before the confirm step."""
    catalogue = _catalogue(request)
    field = _field(catalogue, correction)
    document_type = catalogue.get(correction.document_type) if catalogue is not None else None
    if field is None or document_type is None:  # without the catalogue the service refuses at the confirm step
        return {"new": form.cleaned_data["value"]}
    try:
        now = corrections.in_source(correction)
        parsed = corrections.value_of(document_type, field, form.cleaned_data["value"])
    except (corrections.DecisionRefused, corrections.BadValue) as refused:
        form.add_error("value", str(refused.message))
        return {}
    return {
        "now": value_words(catalogue, correction, now),
        "seen": json.dumps(now),
        "new": value_words(catalogue, correction, parsed),
        "changed": now != correction.current_value,
        "far_off": corrections.far_off(field, now, parsed),
    }


def _seen(request: HttpRequest) -> Any:
    """The value staff saw in the source on the confirm step (sent back with the confirmation); what the request
    found when it came in when none was sent."""
    try:
        return json.loads(request.POST["nu"])
    except (KeyError, ValueError):
        return corrections.THEN


@require_http_methods(["GET", "POST"])
@holder_staff_required
def decide(request: HttpRequest, reference: str, slug: str) -> HttpResponse:
    """A decision in two parts: the form, then "Weet u het zeker?" with what will be written; only then it happens."""
    decision = DECISIONS.get(slug)
    if decision is None:
        raise Http404
    correction = _own(request, reference)
    if (message := not_now(correction, decision)) is not None:
        return _refused(request, correction, message)
    initial = {"value": correction.proposed_value} if decision.slug == "aanpassen" else None
    form = decision.form(request.POST if request.method == "POST" else None, initial=initial)
    context = {**_details(request, correction), "decision": decision, "form": form}
    if request.method == "POST" and form.is_valid() and decision.slug == "aanpassen":
        context.update(check_value(request, correction, form))
    if request.method == "POST" and form.is_valid() and decision.slug == "verlengen":
        context["new_deadline"] = corrections.extended(correction, form.cleaned_data["months"])
    if request.method == "POST" and form.is_valid():
        if request.POST.get("confirmed") != "ja":
            return render(request, "holder/confirm.html", context)
        try:
            decision.act(correction, request.user.get_username(), form.cleaned_data, _seen(request))
        except corrections.DecisionRefused as exc:
            again = _own(request, reference)
            if (message := not_now(again, decision)) is not None:  # someone else decided in the meantime
                return _refused(request, again, message)
            form.add_error(decision.field, str(exc.message))  # e.g. a value the field's type cannot take
        else:
            messages.info(request, str(decision.done))
            return redirect("holderstaff:request", reference=reference)
    return render(request, "holder/decide.html", context)


urlpatterns: list[URLPattern | URLResolver] = [
    path("", queue, name="queue"),
    path("verzoeken/<slug:reference>/", request_page, name="request"),
    path("verzoeken/<slug:reference>/bijlage/", attachment, name="attachment"),
    path("verzoeken/<slug:reference>/in-behandeling/", take_up, name="take-up"),
    path("verzoeken/<slug:reference>/<slug:slug>/", decide, name="decide"),
    *LOGIN.urlpatterns(),
]
