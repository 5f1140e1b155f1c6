"""The operator's pages: applications waiting, the participants, one participant with its history, the steps of
its certification (each with a reason and a "Weet u het zeker?" step), and the audit trail.

Every page needs a member of the operator's staff logged in with both factors (:func:`operator_required`).
A certification step goes through :mod:`blauweknop.scheme.lifecycle`: the state, its audit entry and the new
scheme document in one transaction. Everything works without JavaScript.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from blauweknop import i18n
from blauweknop.scheme import audit, keys, lifecycle
from blauweknop.scheme.applications import APPLICANT
from blauweknop.scheme.catalogue import versions
from blauweknop.scheme.models import AuditEntry, Organisation
from blauweknop.scheme.staff import LOGIN, operator_required

Certification = Organisation.Certification
ENTRIES_PER_PAGE = 50

# What each action code of the audit trail means, in words (codes: blauweknop.scheme.audit's callers).
ACTION_WORDS: dict[str, Promise] = {
    "applied": gettext_lazy("Aangemeld"),
    "certified": gettext_lazy("Gecertificeerd"),
    "refused": gettext_lazy("Aanmelding geweigerd"),
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
            "De aanmelding wordt afgewezen. De organisatie komt niet in het stelsel. Wil zij later toch "
            "meedoen, dan meldt zij zich opnieuw aan."
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
        {"state": state, "label": label, "count": Organisation.objects.filter(certification=state).count()}
        for state, label in Certification.choices
    ]
    waiting = Organisation.objects.filter(certification=Certification.APPLIED).order_by("name")
    return render(request, "scheme/home.html", {"waiting": waiting, "counts": counts})


@operator_required
def participants(request: HttpRequest) -> HttpResponse:
    """Every participant by state: first the applications waiting, then certified, suspended, revoked."""
    groups = [
        {
            "state": state,
            "label": label,
            "organisations": [
                {"organisation": organisation, "roles": roles(organisation)}
                for organisation in Organisation.objects.filter(certification=state).order_by("name")
            ],
        }
        for state, label in Certification.choices
    ]
    return render(request, "scheme/participants.html", {"groups": groups})


@operator_required
def participant(request: HttpRequest, oin: str) -> HttpResponse:
    """One participant: its data, roles, addresses, keys (read only), history, and the steps it can take now."""
    organisation = _participant(oin)
    # Its addresses as the scheme document lists them (an applicant's as they will be once certified: the
    # document knows no "applied").
    listed = copy.copy(organisation)
    listed.certification = Certification.CERTIFIED
    entry = listed.scheme_entry()
    history = [
        {"entry": item, "words": ACTION_WORDS.get(item.action, item.action), "actor": actor_words(item.actor)}
        for item in audit.history(oin)
    ]
    names = type_names()
    steps = [STEP_BY_ACTION[action] for action in lifecycle.allowed(organisation)]
    context = {
        "organisation": organisation,
        "roles": roles(organisation),
        "document_types": [names.get(type_id, type_id) for type_id in organisation.document_types],
        "endpoints": [
            (ENDPOINT_WORDS.get(name, name), name, address) for name, address in sorted(entry["endpoints"].items())
        ],
        "keys": organisation.keys.order_by("-added_at", "-pk"),
        "history": history,
        "steps": steps,
        # Before certifying, the kit run against the applicant's acceptance deployment (docs/conformance.md).
        "reviewing": "certified" in lifecycle.allowed(organisation),
        "issuer": entry["endpoints"].get("issuer"),
        "requester": entry["endpoints"].get("requester"),
    }
    return render(request, "scheme/participant.html", context)


@operator_required
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, oin: str, slug: str) -> HttpResponse:
    """A certification step in two parts: the reason, then "Weet u het zeker?"; only then it happens."""
    chosen = STEP_BY_SLUG.get(slug)
    if chosen is None:
        raise Http404
    organisation = _participant(oin)
    context = {"organisation": organisation, "step": chosen}
    if chosen.action not in lifecycle.allowed(organisation):
        return _refused(request, context, _not_now(organisation))
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if request.POST.get("confirmed") != "ja":
            return render(request, "scheme/confirm.html", {**context, "reason": form.cleaned_data["reason"]})
        try:
            FUNCTIONS[chosen.action](oin, actor=request.user.get_username(), reason=form.cleaned_data["reason"])
        except lifecycle.TransitionRefused as exc:  # another operator took a step in the meantime
            return _refused(request, context, exc.message)
        messages.info(request, _("Gedaan: %(step)s. Het staat in het logboek.") % {"step": chosen.verb})
        return redirect("scheme:participant", oin=oin)
    return render(request, "scheme/step.html", {**context, "form": form})


def _not_now(organisation: Organisation) -> str:
    return _("Dat kan niet. De deelnemer is nu %(state)s.") % {"state": organisation.get_certification_display()}


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
    rows = [
        {
            "entry": entry,
            "words": ACTION_WORDS.get(entry.action, entry.action),
            "name": names.get(entry.subject, ""),
            "link": reverse("scheme:participant", args=[entry.subject]) if entry.subject in names else "",
            "actor": actor_words(entry.actor),
        }
        for entry in page
    ]
    context = {
        "page": page,
        "rows": rows,
        "broken_at": audit.verify_chain(),
        "missing_since": audit.missing_since(),
        "total": paginator.count,
    }
    return render(request, "scheme/audit.html", context)


urlpatterns: list[URLPattern | URLResolver] = [
    path("", home, name="home"),
    path("deelnemers/", participants, name="participants"),
    path("deelnemers/<str:oin>/", participant, name="participant"),
    path("deelnemers/<str:oin>/<slug:slug>/", step, name="step"),
    path("logboek/", audit_trail, name="audit"),
    *LOGIN.urlpatterns(),
]
