"""The citizen's pages of Plus: open an organisation's request, see what it asks, say yes or no, see what happened.

The logic is in :mod:`blauweknop.portal.sharing`; these views read forms and choose pages. Every page
works without JavaScript: the choice is one form with two buttons.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from blauweknop import display, document_types, i18n
from blauweknop.portal import attempts, presenting, session, sharing
from blauweknop.portal.models import Consent, OpenedRequest
from blauweknop.portal.pages import arender
from blauweknop.portal.session import citizen_required
from blauweknop.protocol import openid4vp
from blauweknop.protocol.scheme_document import Participant, SchemeDocument
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme.client import scheme_client

YES, NO = "ja", "nee"
# A decision takes the holders' deadline and the requester's answer time at most; after that it broke off.
BUSY_AT_MOST = timedelta(minutes=1)
WRONG_CODE = gettext_lazy(
    "Deze code klopt niet. Een code heeft 8 letters en cijfers, bijvoorbeeld K7QM-2XRD. "
    "Kijk de code na in de brief, e-mail of app van de organisatie."
)
# The links (and codes) this session opened, by a digest of client_id and request_uri, with the opened request:
# a link opened again after the decision, which the requester no longer serves, is known as answered.
OPENED_LINKS = "bk_delen_links"
KEEP_LINKS = 20
TOO_MANY = gettext_lazy(
    "Vanaf dit netwerk is te vaak een verkeerde code ingevuld. Misschien deed iemand anders dat. "
    "Probeer het over 15 minuten opnieuw. Of vraag de organisatie om de link van het verzoek."
)


def _see_other(name: str, **kwargs: str) -> HttpResponse:
    """303: after a POST (or a link that opened something), the browser asks the next page with a GET."""
    response = redirect(name, **kwargs)
    response.status_code = 303
    return response


class CodeForm(forms.Form):
    organisatie = forms.ChoiceField(
        label=gettext_lazy("Welke organisatie vraagt om uw gegevens?"),
        error_messages={
            "required": gettext_lazy("Kies de organisatie die u de code gaf."),
            "invalid_choice": gettext_lazy("Kies de organisatie die u de code gaf."),
        },
    )
    # A plain Field, not a CharField: every code we cannot use gets the same answer, whatever is in it.
    code = forms.Field(
        label=gettext_lazy("Code"),
        help_text=gettext_lazy(
            "8 letters en cijfers, bijvoorbeeld K7QM-2XRD. "
            "U vindt de code in de brief, e-mail of app van de organisatie."
        ),
        error_messages={"required": gettext_lazy("Vul de code in. U vindt die in de brief, e-mail of app.")},
    )

    def __init__(self, requesters: list[Participant], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisatie"].choices = [("", _("Kies een organisatie"))] + [(p.oin, p.name) for p in requesters]

    def clean_code(self) -> str:
        code = sharing.normalise_code(str(self.cleaned_data["code"]))
        if code is None:
            raise forms.ValidationError(WRONG_CODE)
        return code


def _link_key(client_id: str, uri: str) -> str:
    return hashlib.sha256(f"{client_id}\n{uri}".encode()).hexdigest()[:32]


async def _remember(request: HttpRequest, client_id: str, uri: str, opened: OpenedRequest) -> None:
    kept = await request.session.aget(OPENED_LINKS, {})
    kept.pop(key := _link_key(client_id, uri), None)
    kept[key] = opened.pk
    await request.session.aset(OPENED_LINKS, dict(list(kept.items())[-KEEP_LINKS:]))


async def _answered(request: HttpRequest, client_id: str, uri: str) -> Consent | None:
    """The citizen's decision on the request this link names, if this session opened and decided on it."""
    opened_id = (await request.session.aget(OPENED_LINKS, {})).get(_link_key(client_id, uri))
    found = await sharing.mine(request, opened_id) if opened_id else None
    if found is None or found.consent_id is None:
        return None
    return await Consent.objects.filter(pk=found.consent_id).afirst()


async def _answered_page(request: HttpRequest, consent: Consent) -> HttpResponse:
    return await arender(request, "portal/share_answered.html", {"consent": consent})


async def _not_known(request: HttpRequest, requester: Participant) -> HttpResponse:
    """The requester does not serve this request (any more): answered or expired, we cannot tell which."""
    problem = sharing.NotOpened(
        "not_found",
        _(
            "%(name)s kent dit verzoek niet (meer). Misschien is het al beantwoord of verlopen. "
            "Vraag %(name)s om een nieuwe link."
        )
        % {"name": requester.name},
        requester=requester,
        status=404,
    )
    citizen = pseudonym((await request.auser()).bsn)
    decided_before = await Consent.objects.filter(citizen=citizen, requester_oin=requester.oin).aexists()
    return await _problem(request, problem, decided_before=decided_before)


async def _start_page(request: HttpRequest, form: CodeForm, status: int = 200) -> HttpResponse:
    return await arender(request, "portal/share_start.html", {"form": form}, status=status)


async def _problem(request: HttpRequest, problem: sharing.NotOpened, *, decided_before: bool = False) -> HttpResponse:
    """The page that says plainly why a request cannot be opened or answered, and whom to ask.

    ``decided_before``: the citizen decided on an earlier request of this requester (maybe this one).
    """
    requester = problem.requester
    context = {
        "message": problem.message,
        "code": problem.code,
        "requester": requester,
        "contact": sharing.contact(requester) if requester else {},
        "decided_before": decided_before,
    }
    return await arender(request, "portal/share_problem.html", context, status=problem.status)


@never_cache
@citizen_required
@require_http_methods(["GET"])
async def start(request: HttpRequest) -> HttpResponse:
    """A requester's link (``client_id``, ``request_uri``) opens its request; without them, the code form."""
    client_id, uri = request.GET.get("client_id", ""), request.GET.get("request_uri", "")
    if client_id or uri:
        if not client_id or not uri:
            return await _problem(
                request,
                sharing.NotOpened(
                    "incomplete",
                    _(
                        "Deze link is niet compleet. Er is niets gedeeld. Open de link opnieuw vanuit de brief, "
                        "e-mail of app. Of vul hieronder de code in."
                    ),
                ),
            )
        if (answered := await _answered(request, client_id, uri)) is not None:
            return await _answered_page(request, answered)
        try:
            opened = await sharing.open(request, client_id, uri)
        except sharing.NotOpened as problem:
            if problem.code == "not_found" and problem.requester is not None:
                return await _not_known(request, problem.requester)
            return await _problem(request, problem)
        await _remember(request, client_id, uri, opened)
        return _see_other("portal:share-review", opened=opened.pk)
    scheme = await scheme_client.current()
    return await _start_page(request, CodeForm(sharing.requesters(scheme)))


@never_cache
@citizen_required
@require_http_methods(["GET", "POST"])
async def open_code(request: HttpRequest) -> HttpResponse:
    """The code form: the request of the chosen organisation with that code, opened as its link would.

    Wrong codes are counted per client address, together with the verify page's check codes.
    """
    if request.method == "GET":  # e.g. back from DigiD after the session ran out
        return redirect("portal:share-start")
    scheme = await scheme_client.current()
    form = CodeForm(sharing.requesters(scheme), request.POST)
    if not form.is_valid():
        if "code" in form.errors and not await attempts.take(request):
            return await _too_many(request, form)
        return await _start_page(request, form, status=400)
    if not await attempts.take(request):
        return await _too_many(request, form)
    requester = scheme.organisations[form.cleaned_data["organisatie"]]
    uri = sharing.request_uri(requester, form.cleaned_data["code"])
    if (answered := await _answered(request, requester.oin, uri)) is not None:
        await attempts.give_back(request)
        return await _answered_page(request, answered)
    try:
        opened = await sharing.open(request, requester.oin, uri)
    except sharing.NotOpened as problem:
        if problem.code == "not_found":  # a wrong code stays counted
            form.add_error(
                "code",
                _(
                    "%(name)s kent deze code niet. Koos u de goede organisatie? "
                    "Kijk ook de code na: 8 letters en cijfers, bijvoorbeeld K7QM-2XRD."
                )
                % {"name": requester.name},
            )
            return await _start_page(request, form, status=404)
        await attempts.give_back(request)
        return await _problem(request, problem)
    await attempts.give_back(request)
    await _remember(request, requester.oin, uri, opened)
    return _see_other("portal:share-review", opened=opened.pk)


async def _too_many(request: HttpRequest, form: CodeForm) -> HttpResponse:
    form.errors.pop("code", None)
    form.add_error("code", str(TOO_MANY))
    return await _start_page(request, form, status=429)


async def _mine(request: HttpRequest, opened: str) -> OpenedRequest:
    found = await sharing.mine(request, opened)
    if found is None:  # another session's, or none at all: the same answer
        raise Http404(_("Dit verzoek kennen we niet. Open de link opnieuw vanuit de brief, e-mail of app."))
    return found


def _retention(days: int) -> str:
    return ngettext("%(count)d dag", "%(count)d dagen", days) % {"count": days}


def _either(names: list[str]) -> str:
    """Names as one choice in words: "A", "A of B", "A, B of C"."""
    if len(names) < 2:
        return "".join(names)
    return _("%(some)s of %(last)s") % {"some": ", ".join(names[:-1]), "last": names[-1]}


def _from_whom(scheme: SchemeDocument, shown: sharing.AskedType) -> str:
    """From which organisations a document type comes, by name where the scheme document says who issues it."""
    names = [holder.name for holder in presenting.holders_of(scheme, shown.type.id)]
    if shown.multiple and names:  # every holder is asked: the citizen knows whom before saying yes
        return ngettext(
            "Wij vragen dit aan %(names)s, als zij gegevens over u hebben.",
            "Wij vragen dit aan %(count)d organisaties, als zij gegevens over u hebben: %(names)s.",
            len(names),
        ) % {"count": len(names), "names": display.all_of(names)}
    if len(names) == 1:
        return _("Van %(name)s.") % {"name": names[0]}
    if names:
        return _("Van de organisatie die dit over u heeft: %(names)s.") % {"names": _either(names)}
    return _("Van één organisatie die deze gegevens over u heeft.")


def _review_context(
    scheme: SchemeDocument,
    asked: openid4vp.AuthorizationRequest,
    form: QueryDict | None,
    errors: dict[str, str],
) -> dict[str, Any]:
    """What the review page shows; ``form``: what the citizen sent (after an error), else everything ticked."""
    requester = scheme.organisations[asked.client_id]
    chosen_types = set(form.getlist("soort")) if form is not None else None
    types = []
    for shown in sharing.asked_types(scheme, asked):
        ticked = set(form.getlist(f"veld-{shown.query_id}")) if form is not None else None
        types.append(
            {
                "asked": shown,
                "from": _from_whom(scheme, shown),
                "included": chosen_types is None or shown.required or shown.query_id in chosen_types,
                # An optional type is one tick box, named by what it is, its needed fields in words under it;
                # the list shows the rest, each field that has a tick box of its own without a bullet.
                "fields": [
                    (f, ticked is None or f.path in ticked) for f in shown.fields if shown.required or not f.required
                ],
                "part": display.part_name(shown.type, [f.path for f in shown.fields]),
                "needed": display.all_of([display.lowered(f.label) for f in shown.fields if f.required]),
            }
        )
    asked_until = parse_date(asked.terms.access_until) if asked.terms.access_until else None
    return {
        "asked": asked,
        "requester": requester,
        "certified_since": parse_date(requester.certified_since or "") if requester.certified_since else None,
        "contact": sharing.contact(requester),
        "description": (requester.info.get("description") or {}).get(i18n.language(), ""),
        "types": types,
        "purpose": sharing.purpose(asked),
        "basis": sharing.legal_basis(scheme, asked.terms.legal_basis),
        "consent_basis": sharing.legal_basis(scheme, asked.terms.legal_basis)["kind"] == "consent",
        "retention": _retention(asked.terms.retention_days),
        "standing": asked.terms.access == openid4vp.STANDING,
        "for_one_person": asked.terms.for_one_person,
        "asked_until": asked_until,
        "until": form.get("tot", "") if form is not None else (asked_until.isoformat() if asked_until else ""),
        "errors": errors,
    }


@never_cache
@citizen_required
@require_http_methods(["GET", "POST"])
async def review(request: HttpRequest, opened: str) -> HttpResponse:
    """What the organisation asks, in plain words, and the choice: share (maybe less), or not."""
    found = await _mine(request, opened)
    if found.decided_at is not None:
        return _see_other("portal:share-done", opened=found.pk)
    scheme = await scheme_client.current()
    try:
        asked = sharing.verified(scheme, found.client_id, found.request_object)
    except sharing.NotOpened as problem:
        return await _problem(request, problem)
    if request.method == "GET":
        return await arender(request, "portal/share_review.html", _review_context(scheme, asked, None, {}))
    decision, choice, errors = request.POST.get("besluit"), None, {}
    if decision == YES:
        choice, errors = sharing.choose(asked, request.POST)
    elif decision != NO:
        errors = {"keuze": _("Kies 'Ja, deel deze gegevens' of 'Nee, niet delen'.")}
    if errors:
        context = _review_context(scheme, asked, request.POST, errors)
        return await arender(request, "portal/share_review.html", context, status=400)
    citizen = await session.citizen(request, await request.auser())
    await sharing.decide(request, found, scheme, asked, citizen, choice)
    return _see_other("portal:share-done", opened=found.pk)


def _named(scheme: SchemeDocument, consent: Consent | None, query_ids: list[str]) -> dict[str, Any]:
    """Per credential query id of ``consent``: its document type, by the catalogue (``None`` if unknown)."""
    catalogue = document_types.of(scheme)
    vcts = {q.get("id"): q.get("vct") for q in (consent.asked if consent else []) if isinstance(q, dict)}
    return {query_id: catalogue.by_vct(vcts.get(query_id)) for query_id in query_ids}


def _done_context(scheme: SchemeDocument, found: OpenedRequest, consent: Consent | None, outcome: dict) -> dict:
    language = i18n.language()
    requester = scheme.organisations.get(found.client_id)
    fields = outcome.get("velden", {})
    types = _named(scheme, consent, [*fields, *outcome.get("ontbreekt", [])])
    shared = []
    for query_id, paths in fields.items():
        document_type = types.get(query_id)
        if document_type is None:
            continue
        labels = [(f.label[language] if (f := document_type.field(p)) else p) for p in paths]
        shared.append(
            {"name": document_type.name[language], "fields": labels, "from": outcome.get("bronnen", {}).get(query_id)}
        )
    missing = [t.name[language].lower() for q in outcome.get("ontbreekt", []) if (t := types.get(q)) is not None]
    unreachable = outcome.get("onbereikbaar", [])
    return {
        "outcome": outcome.get("uitkomst"),
        "told": outcome.get("verteld", True),
        "requester": requester,
        "requester_name": requester.name if requester else (consent.requester_name if consent else ""),
        "contact": sharing.contact(requester) if requester else {},
        "shared": shared,
        "missing": missing,
        # Every holder answered and none had it: the citizen has no such data, which is not a failure to share.
        "nobody_has": bool(missing) and not unreachable,
        "unreachable": unreachable,
        "until": parse_date(outcome.get("tot") or "") if outcome.get("tot") else None,
        "consent": consent,
        "standing": consent is not None and consent.access == Consent.Access.STANDING,
        "retention": _retention(consent.retention_days) if consent else "",
    }


@never_cache
@citizen_required
@require_http_methods(["GET"])
async def done(request: HttpRequest, opened: str) -> HttpResponse:
    """What happened with the decision, in plain words, and what happens next."""
    found = await _mine(request, opened)
    if found.decided_at is None:
        return redirect("portal:share-review", opened=found.pk)
    outcome = await sharing.outcome(request, found)
    if outcome is None and timezone.now() - found.decided_at < BUSY_AT_MOST:
        # The same form sent twice: the first is still at work. The page asks again by itself (no JavaScript).
        response = await arender(request, "portal/share_done.html", {"busy": True, "path": request.path})
        response["Refresh"] = "3"
        return response
    if outcome is None:  # the decision broke off on our side: what reached the requester is in the register
        outcome = {"uitkomst": "onbekend", "toestemming": found.consent_id or ""}
    scheme = await scheme_client.current()
    consent = (
        await Consent.objects.filter(pk=outcome.get("toestemming")).afirst() if outcome.get("toestemming") else None
    )
    return await arender(request, "portal/share_done.html", _done_context(scheme, found, consent, outcome))
