"""The requester's staff log in: a password, then a second factor (a TOTP code, or a passkey with JavaScript).

A staff member is a user with a :class:`~blauweknop.requester.models.StaffMember` row. The password step logs
the user in, but no staff page opens until the session is verified with a second factor
(``request.user.is_verified()``, django-otp); whoever has no confirmed device yet sets up TOTP first.
Wrong passwords are counted by django-axes, for this login only: the DigiD login of citizens is never locked.
"""

from __future__ import annotations

import base64
import functools
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import django_otp
import qrcode
import qrcode.image.svg
from asgiref.sync import async_to_sync
from django import forms
from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from blauweknop.requester import tenants
from blauweknop.requester.models import StaffMember
from blauweknop.scheme.client import SchemeUnavailable, scheme_client

TOTP_NAME = "app"  # the one authenticator app device of a staff member


class PasswordForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Gebruikersnaam"), max_length=150)
    password = forms.CharField(label=gettext_lazy("Wachtwoord"), max_length=200, strip=False)


class CodeForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code uit uw app"),
        help_text=gettext_lazy("6 cijfers. De code verandert elke 30 seconden."),
        max_length=20,
    )

    def clean_token(self) -> str:
        value = "".join(self.cleaned_data["token"].split())
        if len(value) != 6 or not value.isdigit():
            raise forms.ValidationError(_("Een code heeft 6 cijfers. Kijk in de app op uw telefoon."))
        return value


def staff_member(user: Any) -> StaffMember | None:
    """The staff membership of ``user``, or ``None`` for anyone else (a citizen, or nobody)."""
    if not user.is_authenticated or not user.is_active:
        return None
    return StaffMember.objects.select_related("requester").filter(user=user).first()


def outside_staff_login(request: HttpRequest | None, credentials: dict | None = None) -> bool:
    """For django-axes (``AXES_WHITELIST_CALLABLE``): every login but the staff login is never counted or locked."""
    return request is None or request.path != reverse("requester:login")


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """For django-axes (``AXES_LOCKOUT_CALLABLE``): the page a locked-out login gets."""
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    return render(request, "requester/locked.html", {"minutes": minutes}, status=429)


def next_page(request: HttpRequest) -> str:
    """Where to go after logging in: a staff page asked for, else the list of requests."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if allowed and candidate.startswith(reverse("requester:requests")):
        return candidate
    return resolve_url("requester:requests")


def _step(name: str, next_url: str) -> HttpResponse:
    """To the login step ``name``, and from there on to ``next_url``."""
    return redirect(f"{reverse(name)}?{urlencode({'next': next_url})}")


def _to_login(request: HttpRequest, name: str) -> HttpResponse:
    return _step(name, request.get_full_path())


def suspended(staff: StaffMember) -> bool:
    """Whether the scheme document says the staff member's organisation may not ask for data now (suspended)."""
    try:
        tenants.of_oin(async_to_sync(scheme_client.current)(), staff.requester.oin)
    except tenants.NotHere as exc:
        return exc.code == "not_certified"
    except SchemeUnavailable:  # not known now; the pages that need the scheme document say so themselves
        return False
    return False


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A staff page: logged in with both factors, else to the step still to do. Sets ``request.staff`` and
    ``request.staff_suspended`` (every staff page then says the organisation may not ask for data now)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        staff = staff_member(request.user)
        if staff is None:
            return _to_login(request, "requester:login")
        if not request.user.is_verified():
            has_device = django_otp.user_has_device(request.user)
            return _to_login(request, "requester:second-factor" if has_device else "requester:setup")
        request.staff = staff
        request.staff_suspended = suspended(staff)
        return view(request, *args, **kwargs)

    return never_cache(wrapped)


def qr_svg(text: str, label: str) -> SafeString:
    """``text`` as a QR code: an inline SVG (no script, no inline style, no data URL: the CSP allows it)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=4)
    root = image.get_image()
    root.set("class", "blauweknop-qr")
    root.set("role", "img")
    root.set("aria-label", label)
    root.set("width", "240")
    root.set("height", "240")
    return mark_safe(ET.tostring(root, encoding="unicode"))  # noqa: S308 - made here, no outside text in markup


@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Step 1: username and password. Wrong ones are counted; too many lock this login for a while."""
    if request.method == "GET" and staff_member(request.user) is not None and request.user.is_verified():
        return redirect(next_page(request))
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = auth.authenticate(
            request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
        if user is not None and staff_member(user) is not None:
            auth.login(request, user)
            step = "requester:second-factor" if django_otp.user_has_device(user) else "requester:setup"
            return _step(step, next_page(request))
        form.add_error(None, _("Deze gebruikersnaam en dit wachtwoord horen niet bij elkaar. Probeer het opnieuw."))
    return render(request, "requester/login.html", {"form": form, "next": next_page(request)})


def _verified(request: HttpRequest, device: Any) -> HttpResponse:
    django_otp.login(request, device)
    return redirect(next_page(request))


@never_cache
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    """Step 2: a code from the authenticator app, or (with JavaScript) a passkey."""
    if staff_member(request.user) is None:
        return _to_login(request, "requester:login")
    if request.user.is_verified():
        return redirect(next_page(request))
    if not django_otp.user_has_device(request.user):
        return _to_login(request, "requester:setup")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _reason = device.verify_is_allowed() if device else (False, None)
        if not allowed and device is not None:
            form.add_error("token", _("Er waren te veel verkeerde codes. Wacht even en typ dan de nieuwe code."))
        elif device is not None and device.verify_token(form.cleaned_data["token"]):
            return _verified(request, device)
        elif device is not None and used_before(device, form.cleaned_data["token"]):
            form.add_error("token", _("Deze code is al gebruikt. Wacht op de volgende code in uw app."))
        else:
            form.add_error("token", _("Deze code klopt niet. Typ de code die de app nu laat zien."))
    context = {"form": form, "next": next_page(request), "has_app": device is not None, "passkeys": _passkeys(request)}
    return render(request, "requester/second_factor.html", context)


def used_before(device: TOTPDevice, token: str) -> bool:
    """Whether ``token`` is right for now but was used already (django-otp refuses a time step up to ``last_t``)."""
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    steps = range(now - device.tolerance, min(now + device.tolerance, device.last_t) + 1)
    return any(hotp(device.bin_key, step, device.digits) == int(token) for step in steps)


def _passkeys(request: HttpRequest) -> dict[str, Any]:
    """The configuration django-otp-webauthn's script reads (its URLs sit under this app's namespace)."""
    return {
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": get_token(request),
        "beginAuthenticationUrl": reverse("requester:passkey-authentication-begin"),
        "completeAuthenticationUrl": reverse("requester:passkey-authentication-complete"),
        "beginRegistrationUrl": reverse("requester:passkey-registration-begin"),
        "completeRegistrationUrl": reverse("requester:passkey-registration-complete"),
    }


def secret(device: TOTPDevice) -> str:
    """The TOTP secret as an app asks it to be typed: base32, in groups of four."""
    plain = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(plain[i : i + 4] for i in range(0, len(plain), 4))


def totp_device(user: Any) -> TOTPDevice:
    """The staff member's authenticator app device: the confirmed one, else one waiting to be confirmed."""
    device = TOTPDevice.objects.filter(user=user, name=TOTP_NAME).order_by("-confirmed").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


@never_cache
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Before anything else, a staff member without a second factor adds an authenticator app."""
    if staff_member(request.user) is None:
        return _to_login(request, "requester:login")
    if django_otp.user_has_device(request.user):
        return _step("requester:second-factor", next_page(request))
    device = totp_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            messages.info(request, _("Uw app is ingesteld. Voortaan vraagt het inloggen een code uit deze app."))
            return _verified(request, device)
        form.add_error(
            "token", _("Deze code klopt niet. Kijk of de app de juiste sleutel heeft, en typ de nieuwe code.")
        )
    context = {
        "form": form,
        "next": next_page(request),
        "secret": secret(device),
        "qr": qr_svg(device.config_url, _("QR-code om uw app in te stellen")),
    }
    return render(request, "requester/setup.html", context)


@staff_required
def security(request: HttpRequest) -> HttpResponse:
    """How this staff member logs in: the app, the passkeys, and (with JavaScript) a button to add a passkey."""
    context = {
        "passkeys": WebAuthnCredential.objects.filter(user=request.user, confirmed=True).order_by("created_at"),
        "configuration": _passkeys(request),
    }
    return render(request, "requester/security.html", context)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Log out: the session ends, both factors are needed again."""
    auth.logout(request)
    messages.info(request, _("U bent uitgelogd."))
    return redirect("requester:login")
