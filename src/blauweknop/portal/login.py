"""Logging in with the DigiD mock, and logging out.

django-digid-eherkenning's own mock sends the BSN back in a URL; this view keeps it in the POST
body and authenticates with that package's mock backend, as real DigiD would through SAML. It offers
the demo citizens to pick from, so nobody has to look up a test BSN; the pick is a key, never a BSN.
Without the mock (``DIGID_MOCK`` off) the page does not exist.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from asgiref.sync import async_to_sync
from django import forms
from django.conf import settings
from django.contrib import auth, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from blauweknop.demo import showcase
from blauweknop.portal import session, sharing
from blauweknop.protocol.identifiers import is_valid_bsn
from blauweknop.scheme.client import SchemeUnavailable, scheme_client

MOCK_ASSURANCE_LEVEL = "midden"  # what DigiD asks for by default
# Set at login, removed at logout: a browser that still has it but no session had its session end.
WAS_LOGGED_IN = "bk_was_ingelogd"
WAS_LOGGED_IN_AGE = 12 * 3600
EXAMPLE = "voorbeeldburger"  # the form field of a demo citizen picked from the list


class BsnForm(forms.Form):
    bsn = forms.CharField(
        label=gettext_lazy("Burgerservicenummer (BSN)"),
        help_text=gettext_lazy("9 cijfers. U vindt het op uw paspoort of rijbewijs."),
        max_length=20,
    )

    def clean_bsn(self) -> str:
        # Written in groups, as on a passport: spaces, dots and hyphens are not part of the number.
        value = "".join(self.cleaned_data["bsn"].replace(".", " ").replace("-", " ").split())
        if len(value) != 9 or not value.isdigit():
            raise forms.ValidationError(_("Een BSN heeft 9 cijfers. Kijk het nummer na op uw paspoort of rijbewijs."))
        if not is_valid_bsn(value):  # nine digits that fail the eleven test: a typing error, not the length
            raise forms.ValidationError(
                _("Dit nummer bestaat niet als BSN. Kijk elk cijfer na op uw paspoort of rijbewijs.")
            )
        return value


def _next(request: HttpRequest) -> str:
    candidate = request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url("portal:home")


def _asking(next_url: str) -> str | None:
    """The name of the certified requester whose request link waits behind this login, if ``next_url`` is one.

    The link is trusted for nothing else: only its ``client_id`` is looked up in the scheme document.
    """
    parts = urlsplit(next_url)
    if parts.path != reverse("portal:share-start"):
        return None
    client_id = parse_qs(parts.query).get("client_id", [""])[0][:40]
    if not client_id:
        return None
    try:
        scheme = async_to_sync(scheme_client.current)()
    except SchemeUnavailable:
        return None
    return next((p.name for p in sharing.requesters(scheme) if p.oin == client_id), None)


def _log_in(request: HttpRequest, bsn: str) -> HttpResponse | None:
    """Log in as ``bsn`` through the mock backend and go on; ``None`` when the backend says no."""
    user = auth.authenticate(request, bsn=bsn)
    if user is None:
        return None
    first_name = showcase.first_name(bsn)
    if first_name and user.first_name != first_name:  # the header greets a demo citizen by name
        user.first_name = first_name
        user.save(update_fields=["first_name"])
    auth.login(request, user)
    session.set_assurance_level(request, MOCK_ASSURANCE_LEVEL)
    response = redirect(_next(request))
    response.set_cookie(
        WAS_LOGGED_IN,
        "1",
        max_age=WAS_LOGGED_IN_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def mock_login(request: HttpRequest) -> HttpResponse:
    """The demo's stand-in for DigiD: pick a demo citizen or type a (test) BSN. Says so when the previous
    session ended."""
    if not settings.DIGID_MOCK:
        raise Http404
    picked = request.method == "POST" and EXAMPLE in request.POST
    form, pick_error = BsnForm(None if picked else request.POST or None), None
    if picked:
        example = showcase.picked(request.POST[EXAMPLE])
        if example is not None and (response := _log_in(request, example.bsn)):
            return response
        pick_error = _("Inloggen als deze persoon lukte niet. Kies iemand anders, of vul een BSN in.")
    elif request.method == "POST" and form.is_valid():
        if response := _log_in(request, form.cleaned_data["bsn"]):
            return response
        form.add_error(None, _("Inloggen lukte niet. Probeer het opnieuw."))
    ended = request.COOKIES.get(WAS_LOGGED_IN) == "1" and not request.user.is_authenticated
    notice = (
        _("U was %(minutes)s minuten ingelogd. Log opnieuw in om verder te gaan.")
        % {"minutes": session.SESSION_AGE // 60}
        if ended
        else None
    )
    next_url = _next(request)
    context = {
        "form": form,
        "pick_error": pick_error,
        "next": next_url,
        "asking": _asking(next_url),
        "ended": notice,
        "examples": showcase.examples(),
    }
    response = render(request, "portal/login.html", context)
    if ended:
        response.delete_cookie(WAS_LOGGED_IN, samesite="Lax")  # told once is enough
    return response


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Log out: the session, the wallet key and every copy in it are gone."""
    auth.logout(request)
    messages.info(
        request,
        _(
            "U bent uitgelogd. Wat u downloadde, staat nog op deze computer. "
            "Is dit niet uw eigen computer? Gooi die bestanden dan weg."
        ),
    )
    response = redirect("portal:home")
    response.delete_cookie(WAS_LOGGED_IN, samesite="Lax")
    return response
