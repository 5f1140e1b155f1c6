"""The requester's staff pages: their share requests, a new one from a preset, one request with its data.

Every page needs a staff member logged in with both factors (:func:`blauweknop.requester.staff.staff_required`)
and shows only that staff member's own organisation's requests: another's is "not found".
"""

from __future__ import annotations

import calendar
import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from blauweknop import display, document_types, i18n
from blauweknop.protocol import dcql, openid4vp
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.identifiers import is_valid_bsn
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.requester import asking, copy_state, fetching, presets, tenants
from blauweknop.requester.models import ReceivedCredential, ShareRequest
from blauweknop.requester.staff import staff_required
from blauweknop.requester.tenants import RequesterTenant
from blauweknop.scheme.client import SchemeUnavailable, scheme_client
from blauweknop.staff.login import qr_svg

logger = logging.getLogger(__name__)

CONSENT = "toestemming"  # the legal basis of every request made here: the citizen's consent
STATES = {
    ShareRequest.State.OPEN: gettext_lazy("Wacht op de inwoner"),
    ShareRequest.State.APPROVED: gettext_lazy("Gegevens ontvangen"),
    ShareRequest.State.REFUSED: gettext_lazy("De inwoner wilde niet delen"),
    ShareRequest.State.WITHDRAWN: gettext_lazy("Toestemming ingetrokken"),
    ShareRequest.State.EXPIRED: gettext_lazy("Verlopen"),
}
# Why a standing fetch was refused (the portal's problem codes), in words staff can act on.
REFUSALS = {
    "consent_withdrawn": gettext_lazy(
        "De inwoner heeft de toestemming ingetrokken. U kunt niets meer ophalen. "
        "Heeft u de gegevens nog nodig? Maak een nieuw verzoek en vraag de inwoner opnieuw."
    ),
    "consent_expired": gettext_lazy(
        "De toestemming is verlopen. U kunt niets meer ophalen. "
        "Heeft u de gegevens nog nodig? Maak een nieuw verzoek en vraag de inwoner opnieuw."
    ),
    "no_standing_access": gettext_lazy("Dit verzoek geeft nu geen doorlopende toegang. Er is niets opgehaald."),
    "not_certified": gettext_lazy(
        "Uw organisatie mag nu geen gegevens ophalen. Vraag de beheerder van het stelsel waarom."
    ),
}
ACCESS_WORDS = {openid4vp.ONCE: gettext_lazy("eenmalig"), openid4vp.STANDING: gettext_lazy("doorlopend")}
REFUSED_OTHERWISE = gettext_lazy("Ophalen lukte niet. Probeer het over een paar minuten opnieuw.")


def _unavailable(request: HttpRequest, *, suspended: bool) -> HttpResponse:
    """The page for what cannot be done now: refused while suspended (403), or the scheme not known now (503)."""
    return render(request, "requester/unavailable.html", {"suspended": suspended}, status=403 if suspended else 503)


def reading(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Give ``view`` the scheme document now and the staff member's organisation, or ``None`` while it is suspended:
    a suspended organisation's staff still read their requests and the data they already have, nothing more."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            scheme = async_to_sync(scheme_client.current)()
            tenant = tenants.of_oin(scheme, request.staff.requester.oin)
        except SchemeUnavailable:
            return _unavailable(request, suspended=False)
        except tenants.NotHere as exc:
            if exc.code != "not_certified":
                return _unavailable(request, suspended=False)
            tenant = None
        return view(request, scheme, tenant, *args, **kwargs)

    return wrapped


def with_tenant(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Give ``view`` the staff member's organisation as the scheme document describes it now; when it may not
    ask for data now (suspended: 403) or the scheme document cannot be had (503), a page that says so instead."""

    @functools.wraps(view)
    @reading
    def wrapped(
        request: HttpRequest, scheme: SchemeDocument, tenant: RequesterTenant | None, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        if tenant is None:  # suspended: nothing new is asked and nothing fetched
            return _unavailable(request, suspended=True)
        return view(request, tenant, *args, **kwargs)

    return wrapped


def _own(request: HttpRequest, pk: int) -> ShareRequest:
    """One of the staff member's organisation's requests; any other is not found."""
    return get_object_or_404(ShareRequest, pk=pk, requester=request.staff.requester)


def months_later(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has fewer days."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Row:
    """One request in the list: its code, what it asks, its state."""

    share_request: ShareRequest
    code: str
    what: str  # the preset's name, or the document types in words
    state: str


def what_asked(
    share_request: ShareRequest, catalogue: document_types.Catalogue | None, configured: presets.Presets
) -> str:
    """What ``share_request`` asks, in a few words: the preset's name, else the document types' names."""
    try:
        query = dcql.parse(share_request.asked)
    except VerificationError:
        return ""
    preset = configured.matching(query)
    if preset is not None:
        return preset.label
    language = i18n.language()
    names = []
    for credential in query.credentials:
        document_type = catalogue.by_vct(credential.vct) if catalogue else None
        names.append(document_type.name[language] if document_type else credential.id)
    return ", ".join(names)


@require_http_methods(["GET"])
@staff_required
def request_list(request: HttpRequest) -> HttpResponse:
    """The organisation's share requests, newest first: code, what is asked, reference, state, made and answered."""
    requests = ShareRequest.objects.filter(requester=request.staff.requester).order_by("-created_at")[:200]
    try:
        catalogue = document_types.of(async_to_sync(scheme_client.current)())
    except SchemeUnavailable:  # the list still shows; the types are named by their ids
        catalogue = None
    configured = presets.current()
    rows = [
        Row(row, asking.display_code(row.code), what_asked(row, catalogue, configured), STATES[row.status])
        for row in requests
    ]
    return render(request, "requester/list.html", {"rows": rows})


DAYS_ERROR = gettext_lazy("Vul een aantal dagen in, van 1 tot 3650. Bijvoorbeeld 90.")  # asking.MAX_RETENTION_DAYS
BSN_ERROR = gettext_lazy("Dit is geen goed BSN. Een BSN heeft 9 cijfers. Kijk het nummer na en typ het opnieuw.")


class UnshownField(forms.CharField):
    """Text that is never put back in the page: after a submit (with an error in any field) it is empty again."""

    def bound_data(self, data: Any, initial: Any) -> None:
        return None


class RequestForm(forms.Form):
    preset = forms.ChoiceField(
        label=gettext_lazy("Wat wilt u vragen?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Kies wat u wilt vragen."),
            "invalid_choice": gettext_lazy("Kies wat u wilt vragen."),
        },
    )
    purpose_nl = forms.CharField(
        label=gettext_lazy("Waarom vraagt u dit? (Nederlands)"),
        help_text=gettext_lazy("De inwoner leest dit. Laat het leeg voor de standaardtekst."),
        required=False,
        max_length=asking.MAX_PURPOSE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    purpose_en = forms.CharField(
        label=gettext_lazy("Waarom vraagt u dit? (Engels)"),
        help_text=gettext_lazy("Voor inwoners die de site in het Engels lezen. Laat het leeg voor de standaardtekst."),
        required=False,
        max_length=asking.MAX_PURPOSE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reference = forms.CharField(
        label=gettext_lazy("Uw kenmerk"),
        help_text=gettext_lazy("Bijvoorbeeld een dossiernummer. De inwoner ziet het ook. Mag leeg blijven."),
        required=False,
        max_length=asking.MAX_REFERENCE,
    )
    retention_days = forms.IntegerField(
        label=gettext_lazy("Hoeveel dagen bewaart u de gegevens?"),
        help_text=gettext_lazy(
            "Daarna worden ze vanzelf verwijderd. Laat het leeg voor het aantal dagen bij uw keuze hierboven."
        ),
        required=False,
        min_value=1,
        max_value=asking.MAX_RETENTION_DAYS,
        error_messages={"invalid": DAYS_ERROR, "min_value": DAYS_ERROR, "max_value": DAYS_ERROR},
    )
    burgerservicenummer = UnshownField(
        label=gettext_lazy("Voor één persoon? Vul het BSN in (mag leeg blijven)"),
        help_text=gettext_lazy(
            "Dan kan alleen die persoon het verzoek beantwoorden. Het nummer zelf wordt niet bewaard, "
            "en u ziet het hierna niet meer."
        ),
        required=False,
        max_length=20,  # nine digits, maybe with spaces or dots
        error_messages={"max_length": BSN_ERROR},
    )
    access = forms.ChoiceField(
        label=gettext_lazy("Eenmalig of doorlopend?"),
        choices=[
            ("", gettext_lazy("Zoals het verzoek voorstelt")),
            (openid4vp.ONCE, gettext_lazy("Eenmalig: de inwoner deelt één keer")),
            (openid4vp.STANDING, gettext_lazy("Doorlopend: u mag de nieuwste gegevens ophalen tot een datum")),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    access_until = forms.DateField(
        label=gettext_lazy("Tot wanneer mag u gegevens ophalen?"),
        help_text=gettext_lazy(
            "Alleen bij doorlopende toegang, hooguit een jaar vooruit. Bijvoorbeeld 31-12-2026. "
            "Laat het leeg voor de termijn bij uw keuze hierboven."
        ),
        required=False,
        input_formats=["%d-%m-%Y", "%Y-%m-%d"],
    )

    def __init__(self, data: Any, *, choices: tuple[presets.Preset, ...]) -> None:
        super().__init__(data)
        self.fields["preset"].choices = [(preset.id, preset.label) for preset in choices]
        self.presets = choices
        # When every choice has the same default, the hints say it in numbers.
        if len(days := {preset.retention_days for preset in choices}) == 1:
            self.fields["retention_days"].help_text = ngettext(
                "Daarna worden ze vanzelf verwijderd. Laat het leeg voor %(days)s dag.",
                "Daarna worden ze vanzelf verwijderd. Laat het leeg voor %(days)s dagen.",
                *days,
            ) % {"days": next(iter(days))}
        if len(accesses := {preset.access for preset in choices}) == 1:
            self.fields["access"].choices = [
                ("", _("Zoals het verzoek voorstelt: %(access)s") % {"access": ACCESS_WORDS[next(iter(accesses))]}),
                *self.fields["access"].choices[1:],
            ]
        if len(months := {preset.standing_months for preset in choices}) == 1:
            count = next(iter(months))
            self.fields["access_until"].help_text = ngettext(
                "Alleen bij doorlopende toegang, hooguit een jaar vooruit. Bijvoorbeeld 31-12-2026. "
                "Laat het leeg voor %(count)s maand: tot en met %(day)s.",
                "Alleen bij doorlopende toegang, hooguit een jaar vooruit. Bijvoorbeeld 31-12-2026. "
                "Laat het leeg voor %(count)s maanden: tot en met %(day)s.",
                count,
            ) % {"count": count, "day": date_format(months_later(timezone.localdate(), count), "j F Y")}

    def clean_burgerservicenummer(self) -> str | None:
        """The BSN as nine digits (spaces and dots people type are left out); ``None`` when left empty."""
        value = "".join(self.cleaned_data["burgerservicenummer"].split()).replace(".", "")
        if value and not is_valid_bsn(value):
            raise forms.ValidationError(BSN_ERROR)
        return value or None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        preset = next((preset for preset in self.presets if preset.id == data.get("preset")), None)
        until = data.get("access_until")
        if preset is None or until is None:
            return data
        today = timezone.localdate()
        if (data.get("access") or preset.access) == openid4vp.ONCE:
            self.add_error("access_until", _("Dit verzoek is eenmalig. Laat dit veld leeg."))
        elif not today < until <= today + timedelta(days=asking.MAX_STANDING_DAYS):
            self.add_error("access_until", _("Kies een datum na vandaag en hooguit een jaar vooruit."))
        return data


@dataclass(frozen=True)
class PresetChoice:
    """One preset as staff choose it: what it asks in words, and whether the scheme's catalogue can give that."""

    preset: presets.Preset
    asked: list[AskedType]
    usable: bool


def preset_choices(tenant: RequesterTenant, configured: presets.Presets) -> list[PresetChoice]:
    """The presets ``tenant`` may use, in words; one asking what the catalogue does not know is not usable."""
    catalogue = document_types.of(tenant.scheme)
    result = []
    for preset in configured.for_requester(tenant.oin):
        try:
            asking.check_asked(tenant.scheme, list(preset.asked))
        except InvalidInput as exc:
            logger.warning("requester preset %s of %s not offered: %s", preset.id, tenant.oin, exc.message)
            usable = False
        else:
            usable = True
        asked = [
            in_words(item.type_id, catalogue.get(item.type_id), item.required, item.multiple, item.fields)
            for item in preset.asked
        ]
        result.append(PresetChoice(preset, asked, usable))
    return result


def laws_of(tenant: RequesterTenant) -> list[str]:
    """The laws in the scheme's register under which ``tenant`` fetches without asking the citizen (docs/plus.md §5)."""
    language = i18n.language()
    return [
        (basis.get("wet") or basis.get("name") or {}).get(language, basis.get("id", ""))
        for basis in tenant.scheme.legal_bases
        if basis.get("kind") == "law" and tenant.oin in (basis.get("vragers") or [])
    ]


@sensitive_post_parameters("burgerservicenummer")
@require_http_methods(["GET", "POST"])
@staff_required
@with_tenant
def new_request(request: HttpRequest, tenant: RequesterTenant) -> HttpResponse:
    """Nieuw verzoek: choose a preset (each says what it asks, for how long, once or standing), change its words,
    reference, retention and term if needed, and maybe name the one citizen it is for (their BSN: kept only as a
    pseudonym, never shown again). Without presets it says what the organisation's technical admin must do."""
    configured = presets.current()
    shown = preset_choices(tenant, configured)
    choices = tuple(choice.preset for choice in shown if choice.usable)
    form = RequestForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        preset = configured.get(data["preset"], tenant.oin)
        access = data["access"] or preset.access
        standing = access == openid4vp.STANDING
        default_until = months_later(timezone.localdate(), preset.standing_months) if standing else None
        until = data["access_until"] or default_until
        try:
            share_request = asking.create(
                tenant,
                purpose={
                    "nl": data["purpose_nl"].strip() or preset.purpose["nl"],
                    "en": data["purpose_en"].strip() or preset.purpose["en"],
                },
                legal_basis=CONSENT,
                retention_days=data["retention_days"] or preset.retention_days,
                access=access,
                access_until=until,
                asked=list(preset.asked),
                reference=data["reference"].strip(),
                created_by=request.user,
                bsn=data["burgerservicenummer"],
            )
        except InvalidInput:
            form.add_error(None, _("Dit verzoek kon niet worden gemaakt. Kijk de velden na en probeer het opnieuw."))
        else:
            messages.info(request, _("Het verzoek is gemaakt. Geef de inwoner de link, de QR-code of de code."))
            return redirect("requester:request", pk=share_request.pk)
    context = {
        "form": form,
        "presets": [choice for choice in shown if choice.usable],
        "unusable": [choice.preset for choice in shown if not choice.usable],
        "problem": bool(configured.problem),
        "laws": laws_of(tenant),
    }
    return render(request, "requester/new.html", context)


@dataclass(frozen=True)
class AskedType:
    """One document type asked for, in plain words."""

    type_id: str
    name: str
    required: bool
    multiple: bool
    fields: list[tuple[str, bool]]  # (label, required)
    left_out: bool = False  # optional, and the citizen's answer did not share it


def in_words(
    type_id: str,
    document_type: document_types.DocumentType | None,
    required: bool,
    multiple: bool,
    fields: Iterable[tuple[str, bool]],
) -> AskedType:
    """One document type asked for, with the catalogue's name and field labels in the page's language."""
    language = i18n.language()
    labels = []
    for path, field_required in fields:
        field = document_type.field(path) if document_type else None
        labels.append((field.label[language] if field else path, field_required))
    return AskedType(type_id, document_type.name[language] if document_type else type_id, required, multiple, labels)


@dataclass(frozen=True)
class Received:
    """One received copy, in plain words."""

    type_name: str
    issuer: str
    received_at: Any
    delete_after: Any
    rows: list[display.Row]
    state: str  # copy_state.State: whether its holder still vouches for it now
    words: Any


@dataclass(frozen=True)
class Delivery:
    """The copies that came in at one moment: the citizen's answer, or one "Haal nu op"."""

    received_at: Any
    fetched: bool  # a fetch under standing access, not the answer
    copies: list[Received]


def deliveries(copies: list[Received], vias: list[str]) -> list[Delivery]:
    """``copies`` (newest first, each with its way in ``vias``) grouped by the moment they came in."""
    result: list[Delivery] = []
    for copy, via in zip(copies, vias, strict=True):
        if result and result[-1].received_at == copy.received_at:
            result[-1].copies.append(copy)
        else:
            result.append(Delivery(copy.received_at, via == ReceivedCredential.Via.STANDING, [copy]))
    return result


def basis_for_staff(share_request: ShareRequest, scheme: SchemeDocument) -> str:
    """The legal basis as staff read it: the citizen's consent, or the law's name (the register speaks to citizens)."""
    basis = asking.legal_basis(scheme, share_request.legal_basis) or {}
    if basis.get("kind") == "consent":
        return _("Toestemming van de inwoner")
    return (basis.get("wet") or basis.get("name") or {}).get(i18n.language(), share_request.legal_basis)


def ended_on(share_request: ShareRequest) -> date | None:
    """The last day a request that has ended could be used, when known: its end date or its answer date."""
    if share_request.status != ShareRequest.State.EXPIRED:
        return None
    if share_request.answered_at is None:
        return timezone.localtime(share_request.expires_at).date()
    return share_request.approved_until or share_request.access_until


def asked_in_words(share_request: ShareRequest, catalogue: document_types.Catalogue) -> list[AskedType]:
    """What ``share_request`` asks for, with the catalogue's names and labels in the page's language."""
    try:
        query = dcql.parse(share_request.asked)
    except VerificationError:
        return []
    return [
        in_words(
            credential.id,
            catalogue.by_vct(credential.vct),
            credential.required,
            credential.multiple,
            ((claim.path, claim.required) for claim in credential.claims),
        )
        for credential in query.credentials
    ]


def with_left_out(
    asked: list[AskedType], share_request: ShareRequest, copies: list[ReceivedCredential]
) -> list[AskedType]:
    """``asked``, each optional type the citizen's answer did not share marked so (once the request was answered)."""
    if share_request.answered_at is None or share_request.status == ShareRequest.State.REFUSED:
        return asked
    shared = {copy.query_id for copy in copies}
    return [replace(item, left_out=not item.required and item.type_id not in shared) for item in asked]


def received_in_words(
    received: list[ReceivedCredential], scheme: SchemeDocument, catalogue: document_types.Catalogue
) -> list[Received]:
    """The received copies as people read them: who gave them, each field with its label, when they go, and
    whether each still holds at its source now (superseded or expired). Blocking: it asks the status lists."""
    language = i18n.language()
    result = []
    for copy, state in zip(received, copy_state.states(received, scheme, timezone.now()), strict=True):
        document_type = catalogue.by_vct(copy.vct)
        issuer = scheme.organisations.get(copy.issuer_oin)
        result.append(
            Received(
                document_type.name[language] if document_type else copy.vct,
                issuer.name if issuer else copy.issuer_oin,
                copy.received_at,
                copy.delete_after,
                display.rows(document_type, copy.claims) if document_type else [],
                state.value,
                copy_state.WORDS[state],
            )
        )
    return result


def not_whole(share_request: ShareRequest, scheme: SchemeDocument) -> str:
    """The sentence that the last fetch is not whole, naming the holders that gave no answer; empty when it was."""
    if not share_request.not_reached or share_request.status != ShareRequest.State.APPROVED:
        return ""
    names = [getattr(scheme.organisations.get(oin), "name", oin) for oin in share_request.not_reached]
    if share_request.access == ShareRequest.Access.ONCE:  # nothing to fetch again: only a new share helps
        return ngettext(
            "Niet compleet: %(names)s gaf geen antwoord. Wilt u ook die gegevens? Maak een nieuw verzoek.",
            "Niet compleet: %(names)s gaven geen antwoord. Wilt u ook die gegevens? Maak een nieuw verzoek.",
            len(names),
        ) % {"names": display.all_of(names)}
    return ngettext(
        "Niet compleet: %(names)s gaf nu geen antwoord. Haal later opnieuw op.",
        "Niet compleet: %(names)s gaven nu geen antwoord. Haal later opnieuw op.",
        len(names),
    ) % {"names": display.all_of(names)}


@require_http_methods(["GET"])
@staff_required
@reading
def request_page(request: HttpRequest, scheme: SchemeDocument, tenant: RequesterTenant | None, pk: int) -> HttpResponse:
    """One request: what it asks (and what the citizen left out), how the citizen opens it (link, QR code, short
    code), its state and data. While the organisation is suspended (``tenant`` is ``None``) it only reads: the
    state and the data it already has, no way to open or fetch."""
    share_request = _own(request, pk)
    catalogue = document_types.of(scheme)
    copies = asking.received(share_request)
    acting = tenant is not None
    is_open = acting and share_request.status == ShareRequest.State.OPEN and share_request.expires_at > timezone.now()
    link = asking.link(share_request, scheme) if is_open else ""
    context = {
        "share_request": share_request,
        "state": STATES[share_request.status],
        "purpose": share_request.purpose.get(i18n.language(), ""),
        "basis": basis_for_staff(share_request, scheme),
        "asked": with_left_out(asked_in_words(share_request, catalogue), share_request, copies),
        "link": link,
        "qr": qr_svg(link, _("QR-code met de link naar dit verzoek")) if is_open else "",
        "code": asking.display_code(share_request.code),
        "wallet": tenants.wallet(scheme).endpoints["wallet"] if is_open else "",
        "is_open": is_open,
        "standing": share_request.access == ShareRequest.Access.STANDING,
        "for_one_person": bool(share_request.subject),
        "can_fetch": acting
        and share_request.access == ShareRequest.Access.STANDING
        and share_request.status == ShareRequest.State.APPROVED,
        "ended": share_request.status in (ShareRequest.State.WITHDRAWN, ShareRequest.State.EXPIRED),
        "ended_on": ended_on(share_request),
        "deliveries": deliveries(received_in_words(copies, scheme, catalogue), [copy.via for copy in copies]),
        "not_whole": not_whole(share_request, scheme),
    }
    return render(request, "requester/request.html", context)


@require_POST
@staff_required
@with_tenant
def fetch_now(request: HttpRequest, tenant: RequesterTenant, pk: int) -> HttpResponse:
    """Haal nu op: fetch the latest data under standing access; a refusal is said in plain words."""
    share_request = _own(request, pk)
    if share_request.access != ShareRequest.Access.STANDING:
        messages.error(request, _("Dit verzoek was eenmalig. Er is niets meer op te halen."))
        return redirect("requester:request", pk=pk)
    try:
        received = fetching.standing_fetch(tenant, share_request)
    except fetching.FetchRefused as refused:
        messages.error(request, REFUSALS.get(refused.code, REFUSED_OTHERWISE))
    except fetching.FetchFailed:
        messages.error(request, REFUSED_OTHERWISE)
    else:
        count = len(received)
        messages.info(
            request,
            ngettext("Opgehaald: %(count)s kopie ontvangen.", "Opgehaald: %(count)s kopieën ontvangen.", count)
            % {"count": count},
        )
    return redirect("requester:request", pk=pk)
