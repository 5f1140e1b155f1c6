"""The operator's pages: applications waiting, the participants, one participant or application with its history,
the steps of its certification (each with a reason and a "Weet u het zeker?" step), and the audit trail.

Several applications may name one OIN: whoever applies proves only that it holds its key, not that the OIN is its
own. Each application has its own page, and says which others compete with it for its OIN or slug.

Every page needs a member of the operator's staff logged in with both factors (:func:`operator_required`).
A certification step goes through :mod:`blauweknop.scheme.lifecycle`: the state, its audit entry and the new
scheme document in one transaction. Everything works without JavaScript.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from blauweknop import i18n
from blauweknop.scheme import applications, audit, keys, lifecycle
from blauweknop.scheme.applications import APPLICANT
from blauweknop.scheme.catalogue import versions
from blauweknop.scheme.models import Application, AuditEntry, Key, Organisation
from blauweknop.scheme.staff import LOGIN, operator_required

Certification = Organisation.Certification
ENTRIES_PER_PAGE = 50

# What each action code of the audit trail means, in words (codes: blauweknop.scheme.audit's callers).
ACTION_WORDS: dict[str, Promise] = {
    "applied": gettext_lazy("Aangemeld"),
    "certified": gettext_lazy("Gecertificeerd"),
    "refused": gettext_lazy("Aanmelding geweigerd"),
    applications.LAPSED: gettext_lazy("Aanmelding vervallen: geen besluit op tijd"),
    "suspended": gettext_lazy("Geschorst"),
    "restored": gettext_lazy("Weer gecertificeerd"),
    "revoked": gettext_lazy("Ingetrokken"),
    "key_added": gettext_lazy("Sleutel toegevoegd"),
    "key_promoted": gettext_lazy("Sleutel in gebruik genomen"),
    "key_retired": gettext_lazy("Sleutel vervallen"),
    "key_revoked": gettext_lazy("Sleutel ingetrokken"),
    "operator_key_added": gettext_lazy("Sleutel van de beheerder toegevoegd"),
    "operator_key_promoted": gettext_lazy("Sleutel van de beheerder in gebruik genomen"),
    "operator_key_revoked": gettext_lazy("Sleutel van de beheerder ingetrokken"),
    "catalogue_published": gettext_lazy("Nieuwe versie van een documentsoort"),
    "document_published": gettext_lazy("Stelseldocument gepubliceerd"),
}

# Who else takes steps than the operator's staff (whose usernames are shown as they are).
ACTOR_WORDS: dict[str, Promise] = {
    APPLICANT: gettext_lazy("de aanvrager zelf"),
    keys.PARTICIPANT: gettext_lazy("de deelnemer zelf"),
    keys.SYSTEM: gettext_lazy("het systeem"),
}
# A participant's addresses in the scheme document (protocol.application.endpoints), in words.
ENDPOINT_WORDS: dict[str, Promise] = {
    "api": gettext_lazy("API-adres"),
    "issuer": gettext_lazy("Adres van de uitgever"),
    "requester": gettext_lazy("API-adres voor verzoeken"),
    "wallet": gettext_lazy("Adres van de wallet"),
    "fetch": gettext_lazy("Adres voor ophalen"),
}


@dataclass(frozen=True)
class Step:
    """A certification step as the operator sees it: its address, its button, and what it does."""

    action: str  # the lifecycle's action code
    slug: str  # its part of the page's address
    verb: Promise  # the button
    explanation: Promise  # what happens, said before the operator confirms


STEPS = [
    Step(
        "certified",
        "certificeren",
        gettext_lazy("Certificeren"),
        gettext_lazy(
            "De organisatie komt in het stelseldocument, als gecertificeerd. Vanaf de volgende verversing "
            "vertrouwen alle deelnemers haar."
        ),
    ),
    Step(
        "refused",
        "weigeren",
        gettext_lazy("Aanmelding weigeren"),
        gettext_lazy(
            "De aanmelding wordt afgewezen. De organisatie komt niet in het stelsel. Het OIN, het adresdeel en "
            "de sleutel blijven vrij: wie het OIN echt heeft, kan zich (opnieuw) aanmelden."
        ),
    ),
    Step(
        "suspended",
        "schorsen",
        gettext_lazy("Schorsen"),
        gettext_lazy(
            "Vanaf de volgende verversing weigert iedereen de organisatie: haar kopieën, verzoeken en "
            "ophaalacties. U kunt dit later terugdraaien."
        ),
    ),
    Step(
        "restored",
        "herstellen",
        gettext_lazy("Weer certificeren"),
        gettext_lazy(
            "De schorsing stopt. Vanaf de volgende verversing vertrouwen alle deelnemers de organisatie weer."
        ),
    ),
    Step(
        "revoked",
        "intrekken",
        gettext_lazy("Certificering intrekken"),
        gettext_lazy(
            "De organisatie mag nooit meer meedoen met deze certificering. Dit kunt u niet terugdraaien. "
            "Wil zij later weer meedoen, dan meldt zij zich opnieuw aan."
        ),
    ),
]
STEP_BY_SLUG = {step.slug: step for step in STEPS}
STEP_BY_ACTION = {step.action: step for step in STEPS}
FUNCTIONS = {
    "certified": lifecycle.certify,
    "refused": lifecycle.refuse,
    "suspended": lifecycle.suspend,
    "restored": lifecycle.restore,
    "revoked": lifecycle.revoke,
}


class ReasonForm(forms.Form):
    """Why the operator does this: a step, a key change. Checked as the audit trail keeps it."""

    reason = forms.CharField(
        label=gettext_lazy("Reden"),
        help_text=gettext_lazy("Waarom doet u dit? De reden komt in het logboek. Niemand kan hem later wijzigen."),
        max_length=audit.MAX_REASON,
        error_messages={
            "required": gettext_lazy("Schrijf een reden op. De reden komt in het logboek."),
            "max_length": gettext_lazy("De reden is te lang. Gebruik hoogstens %(limit_value)d tekens."),
        },
        widget=forms.Textarea,
    )

    def clean_reason(self) -> str:
        """The reason as the audit trail keeps it; what it does not keep is said here, before the confirm step."""
        try:
            return audit.checked_reason(self.cleaned_data["reason"])
        except audit.BadReason as exc:
            raise forms.ValidationError(str(exc)) from None


def roles(organisation: Organisation) -> list[str]:
    """The participant's roles, in words."""
    flags = [
        (organisation.is_holder, _("gegevenshouder")),
        (organisation.is_requester, _("gegevensvrager")),
        (organisation.is_app_manager, _("appbeheerder")),
    ]
    return [word for held, word in flags if held]


def type_names() -> dict[str, str]:
    """Each document type's name in the catalogue's newest version, in the page's language, by its id."""
    language = i18n.language()
    return {version.document_type.id: version.document_type.name[language] for version in versions.listed()}


def actor_words(actor: str) -> str:
    """Who took a step, as the audit trail names them: a staff member's username, or in words who else it was."""
    words = ACTOR_WORDS.get(actor)
    return str(words) if words is not None else actor


def _participant(oin: str) -> Organisation:
    return get_object_or_404(Organisation, oin=oin)


@operator_required
def home(request: HttpRequest) -> HttpResponse:
    """The start: applications waiting for a decision, and how many participants there are in each state."""
    counts = [
        {"state": state, "label": label, "count": _listed(state).count()} for state, label in Certification.choices
    ]
    waiting = Application.objects.filter(state=Application.State.WAITING).order_by("name", "pk")
    return render(request, "scheme/home.html", {"waiting": waiting, "counts": counts})


def _listed(state: str) -> Any:
    """The participants in ``state``; for "applied", the applications waiting (no participant is applied)."""
    if state == Certification.APPLIED:
        return Application.objects.filter(state=Application.State.WAITING).order_by("name", "pk")
    return Organisation.objects.filter(certification=state).order_by("name")


@operator_required
def participants(request: HttpRequest) -> HttpResponse:
    """Every participant by state: first the applications waiting, then certified, suspended, revoked."""
    groups = [
        {
            "state": state,
            "label": label,
            "organisations": [_row(listed) for listed in _listed(state)],
        }
        for state, label in Certification.choices
    ]
    return render(request, "scheme/participants.html", {"groups": groups})


def _row(listed: Organisation | Application) -> dict[str, Any]:
    """A participant or a waiting application as a row of the list: its page, name, OIN and roles."""
    if isinstance(listed, Application):
        link, shown = reverse("scheme:application", args=[listed.pk]), listed.as_participant()
    else:
        link, shown = reverse("scheme:participant", args=[listed.oin]), listed
    return {"organisation": shown, "roles": roles(shown), "link": link}


def _history(oin: str) -> list[dict[str, Any]]:
    return [
        {"entry": item, "words": ACTION_WORDS.get(item.action, item.action), "actor": actor_words(item.actor)}
        for item in audit.history(oin)
    ]


def _facts(organisation: Organisation) -> dict[str, Any]:
    """What the participant page shows of ``organisation`` (saved, or an application's, unsaved)."""
    # Its addresses as the scheme document lists them (an applicant's as they will be once certified: the
    # document knows no "applied").
    listed = copy.copy(organisation)
    listed.certification = Certification.CERTIFIED
    endpoints = listed.scheme_entry()["endpoints"]
    names = type_names()
    return {
        "organisation": organisation,
        "roles": roles(organisation),
        "document_types": [names.get(type_id, type_id) for type_id in organisation.document_types],
        "endpoints": [(ENDPOINT_WORDS.get(name, name), name, address) for name, address in sorted(endpoints.items())],
        "issuer": endpoints.get("issuer"),
        "requester": endpoints.get("requester"),
        "history": _history(organisation.oin),
    }


@operator_required
def participant(request: HttpRequest, oin: str) -> HttpResponse:
    """One participant: its data, roles, addresses, keys (read only), history, and the steps it can take now."""
    organisation = _participant(oin)
    steps = [STEP_BY_ACTION[action] for action in lifecycle.allowed(organisation)]
    context = {**_facts(organisation), "keys": organisation.keys.order_by("-added_at", "-pk"), "steps": steps}
    return render(request, "scheme/participant.html", context)


def _application(pk: int) -> Application:
    return get_object_or_404(Application, pk=pk)


def competing(waiting: Application) -> dict[str, Any]:
    """What competes with ``waiting`` for its OIN or slug: the participant that has it, other applications waiting."""
    others = Application.objects.filter(state=Application.State.WAITING).exclude(pk=waiting.pk)
    return {
        "participant": Organisation.objects.filter(oin=waiting.oin).first(),
        "slug_owner": Organisation.objects.filter(slug=waiting.slug).exclude(oin=waiting.oin).first(),
        "applications": list(others.filter(Q(oin=waiting.oin) | Q(slug=waiting.slug)).order_by("pk")),
        # No more applications of this OIN are taken while this many wait (applications.MAX_WAITING).
        "full": others.filter(oin=waiting.oin).count() + 1 >= applications.MAX_WAITING,
        "most": applications.MAX_WAITING,
        "lapse_days": applications.LAPSE_AFTER.days,
    }


@operator_required
def application_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One application: the participant it asks to be, its key, what competes with it, the checklist and steps."""
    found = _application(pk)
    waiting = found.state == Application.State.WAITING
    key = Key(owner=found.oin, kid=found.kid, public_jwk=found.public_jwk, added_at=found.received_at)
    context = {
        **_facts(found.as_participant()),
        "application": found,
        "keys": [key],
        "steps": [STEP_BY_ACTION[action] for action in lifecycle.APPLICATION_STEPS] if waiting else [],
        # Before certifying, the kit run against the applicant's acceptance deployment (docs/conformance.md).
        "reviewing": waiting,
        "competing": competing(found) if waiting else None,
    }
    return render(request, "scheme/participant.html", context)


@operator_required
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, oin: str, slug: str) -> HttpResponse:
    """A certification step of a participant in two parts: the reason, then "Weet u het zeker?"; then it happens."""
    organisation = _participant(oin)
    back = reverse("scheme:participant", args=[oin])
    refusal = _("Dat kan niet. De deelnemer is nu %(state)s.") % {"state": organisation.get_certification_display()}
    return _take(request, slug, organisation, oin, back, lifecycle.allowed(organisation), refusal)


@operator_required
@require_http_methods(["GET", "POST"])
def application_step(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    """Certify or refuse an application, as :func:`step`."""
    found = _application(pk)
    back = reverse("scheme:application", args=[pk])
    allowed = list(lifecycle.APPLICATION_STEPS) if found.state == Application.State.WAITING else []
    refusal = _("Dat kan niet. Over deze aanmelding is al besloten: %(state)s.") % {"state": found.get_state_display()}
    return _take(request, slug, found.as_participant(), pk, back, allowed, refusal)


def _take(
    request: HttpRequest,
    slug: str,
    organisation: Organisation,
    subject: str | int,
    back: str,
    allowed: list[str],
    refusal: str,
) -> HttpResponse:
    """The step ``slug`` on ``subject`` (an OIN, or an application's number): reason, confirmation, then done."""
    chosen = STEP_BY_SLUG.get(slug)
    if chosen is None:
        raise Http404
    context = {"organisation": organisation, "step": chosen, "back": back}
    if chosen.action not in allowed:
        return _refused(request, context, refusal)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if request.POST.get("confirmed") != "ja":
            return render(request, "scheme/confirm.html", {**context, "reason": form.cleaned_data["reason"]})
        try:
            done = FUNCTIONS[chosen.action](
                subject, actor=request.user.get_username(), reason=form.cleaned_data["reason"]
            )
        except lifecycle.TransitionRefused as exc:  # another operator took a step in the meantime
            return _refused(request, context, exc.message)
        messages.info(request, _("Gedaan: %(step)s. Het staat in het logboek.") % {"step": chosen.verb})
        if isinstance(done, Organisation):  # certified: from now on the participant's own page
            return redirect("scheme:participant", oin=done.oin)
        return redirect(back)
    return render(request, "scheme/step.html", {**context, "form": form})


def _refused(request: HttpRequest, context: dict, message: str) -> HttpResponse:
    """The step cannot be taken now: say why, and what the participant's state is (409: the state is in the way)."""
    return render(request, "scheme/refused.html", {**context, "message": message}, status=409)


@operator_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    """Every entry of the audit trail, newest first, a page at a time; whether the chain is whole, and whether it
    still holds every entry the published scheme documents vouched for (a cut at the end leaves the chain whole)."""
    paginator = Paginator(AuditEntry.objects.order_by("-pk"), ENTRIES_PER_PAGE)
    page = paginator.get_page(request.GET.get("pagina"))
    names = dict(Organisation.objects.filter(oin__in=[entry.subject for entry in page]).values_list("oin", "name"))
    # An application is no participant: its entries name it, and lead to its own page.
    applied = Application.objects.in_bulk([entry.details.get("aanmelding") for entry in page if _numbered(entry)])
    rows = []
    for entry in page:
        row = {"entry": entry, "words": ACTION_WORDS.get(entry.action, entry.action), "actor": actor_words(entry.actor)}
        if entry.subject in names:
            row.update(name=names[entry.subject], link=reverse("scheme:participant", args=[entry.subject]))
        elif _numbered(entry) and entry.details["aanmelding"] in applied:
            found = applied[entry.details["aanmelding"]]
            row.update(name=found.name, link=reverse("scheme:application", args=[found.pk]))
        else:
            row.update(name="", link="")
        rows.append(row)
    context = {
        "page": page,
        "rows": rows,
        "broken_at": audit.verify_chain(),
        "missing_since": audit.missing_since(),
        "total": paginator.count,
    }
    return render(request, "scheme/audit.html", context)


def _numbered(entry: AuditEntry) -> bool:
    """Whether ``entry`` is about one application (its number in ``details``)."""
    number = entry.details.get("aanmelding") if isinstance(entry.details, dict) else None
    return isinstance(number, int) and not isinstance(number, bool)


urlpatterns: list[URLPattern | URLResolver] = [
    path("", home, name="home"),
    path("deelnemers/", participants, name="participants"),
    path("deelnemers/<str:oin>/", participant, name="participant"),
    path("deelnemers/<str:oin>/<slug:slug>/", step, name="step"),
    path("aanmeldingen/<int:pk>/", application_page, name="application"),
    path("aanmeldingen/<int:pk>/<slug:slug>/", application_step, name="application_step"),
    path("logboek/", audit_trail, name="audit"),
    *LOGIN.urlpatterns(),
]
