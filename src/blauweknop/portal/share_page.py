"""The citizen's pages of Plus: open an organisation's request, see what it asks, say yes or no, see what happened.

The logic is in :mod:`blauweknop.portal.sharing`; these views read forms and choose pages. Every page
works without JavaScript: the choice is one form with two buttons.
"""

from __future__ import annotations

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
TOO_MANY = gettext_lazy(
    "Vanaf dit netwerk is te vaak een verkeerde code ingevuld. Misschien deed iemand anders dat. "
    "Probeer het over 15 minuten opnieuw. Of vraag de organisatie om de link van het verzoek."
)
# The limit of one citizen's own wrong tries, whatever network they use (attacker review A7).
TOO_MANY_LINKS = gettext_lazy(
    "U opende te veel links die niet werken. Wacht een kwartier en probeer het opnieuw. "
    "Kreeg u de link van een organisatie? Vraag hen om een nieuwe."
)
TOO_MANY_CODES = gettext_lazy(
    "U vulde te vaak een code in die niet werkt. Wacht een kwartier en probeer het opnieuw. "
    "Kreeg u de code van een organisatie? Vraag hen om een nieuwe."
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


async def _citizen(request: HttpRequest) -> str:
    """The logged-in citizen's pseudonym: what their tries and opened requests are counted by."""
    return pseudonym((await request.auser()).bsn)


async def _opened_before(request: HttpRequest, client_id: str, uri: str) -> HttpResponse | None:
    """The page for a link this session opened before: its decision if taken, else the same review page again.

    Neither fetches the request object again nor keeps another copy of it (attacker review A10).
    """
    found = await sharing.opened_before(request, client_id, uri)
    if found is None:
        return None
    if found.decided_at is None:
        return _see_other("portal:share-review", opened=found.pk)
    consent = await Consent.objects.filter(pk=found.consent_id).afirst() if found.consent_id else None
    if consent is None:  # still at work, or it broke off: the done page says which
        return _see_other("portal:share-done", opened=found.pk)
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
    citizen = await _citizen(request)
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
    """A requester's link (``client_id``, ``request_uri``) opens its request; without them, the code form.

    Links the requester does not know are counted per client address and per citizen, with the code form's
    wrong codes: the portal asks every requester for all citizens, and one citizen's made-up links must
    not make a requester refuse the portal (attacker review A7).
    """
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
        if (before := await _opened_before(request, client_id, uri)) is not None:
            return before
        citizen = await _citizen(request)
        if limit := await attempts.take_counted(request, citizen):
            words = TOO_MANY_LINKS if limit == attempts.CITIZEN else TOO_MANY
            return await _problem(request, sharing.NotOpened("too_many", str(words), status=429))
        try:
            opened = await sharing.open(request, client_id, uri, citizen)
        except sharing.NotOpened as problem:
            if problem.code == "not_found" and problem.requester is not None:  # a link that does not work stays counted
                return await _not_known(request, problem.requester)
            await attempts.give_back(request, citizen)
            return await _problem(request, problem)
        await attempts.give_back(request, citizen)
        return _see_other("portal:share-review", opened=opened.pk)
    scheme = await scheme_client.current()
    return await _start_page(request, CodeForm(sharing.requesters(scheme)))


@never_cache
@citizen_required
@require_http_methods(["GET", "POST"])
async def open_code(request: HttpRequest) -> HttpResponse:
    """The code form: the request of the chosen organisation with that code, opened as its link would.

    Wrong codes are counted per client address, together with the verify page's check codes, and per citizen,
    together with links that do not work.
    """
    if request.method == "GET":  # e.g. back from DigiD after the session ran out
        return redirect("portal:share-start")
    scheme = await scheme_client.current()
    form = CodeForm(sharing.requesters(scheme), request.POST)
    citizen = await _citizen(request)
    if not form.is_valid():
        if "code" in form.errors and (limit := await attempts.take_counted(request, citizen)):
            return await _too_many(request, form, limit)
        return await _start_page(request, form, status=400)
    requester = scheme.organisations[form.cleaned_data["organisatie"]]
    uri = sharing.request_uri(requester, form.cleaned_data["code"])
    if (before := await _opened_before(request, requester.oin, uri)) is not None:
        return before
    if limit := await attempts.take_counted(request, citizen):
        return await _too_many(request, form, limit)
    try:
        opened = await sharing.open(request, requester.oin, uri, citizen)
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
        await attempts.give_back(request, citizen)
        return await _problem(request, problem)
    await attempts.give_back(request, citizen)
    return _see_other("portal:share-review", opened=opened.pk)


async def _too_many(request: HttpRequest, form: CodeForm, limit: str) -> HttpResponse:
    form.errors.pop("code", None)
    form.add_error("code", str(TOO_MANY_CODES if limit == attempts.CITIZEN else TOO_MANY))
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
    await sharing.decide(found, scheme, asked, citizen, choice)
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
    outcome = found.outcome
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
