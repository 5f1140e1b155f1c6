"""A staff login: a password, then a second factor (a TOTP code, or a passkey with JavaScript).

A portal makes one :class:`StaffLogin` and includes its :meth:`StaffLogin.urlpatterns` in its URL namespace.
The password step logs the user in, but no staff page opens until the session is verified with a second factor
(``request.user.is_verified()``, django-otp); whoever has no confirmed device yet sets up TOTP first.
Wrong passwords are counted by django-axes for the staff logins only (:func:`outside_staff_login`): the DigiD
login of citizens is never locked.
"""

from __future__ import annotations

import base64
import functools
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django_otp
import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import URLPattern, URLResolver, include, path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from blauweknop.staff import passkeys

TOTP_NAME = "app"  # the one authenticator app device of a staff member
# Whom a requester's staff member asks for a new password or app; the operator's staff ask a colleague instead.
ORGANISATION_ADMIN = gettext_lazy("de beheerder in uw organisatie")
WRONG_CODE = gettext_lazy("Deze code klopt niet. Typ de code die de app nu laat zien.")
LOGIN_ON_REQUEST = "blauweknop_staff_login"  # the request attribute naming the staff login now checking a password


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


def outside_staff_login(request: HttpRequest | None, credentials: dict | None = None) -> bool:
    """For django-axes (``AXES_WHITELIST_CALLABLE``): every login but a staff login is never counted or locked."""
    return request is None or getattr(request, LOGIN_ON_REQUEST, None) is None


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """For django-axes (``AXES_LOCKOUT_CALLABLE``): the page a locked-out staff login gets, in that portal's look."""
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    login: StaffLogin | None = getattr(request, LOGIN_ON_REQUEST, None)
    base_template = login.base_template if login is not None else "base.html"
    helper = login.helper if login is not None else ORGANISATION_ADMIN
    context = {"minutes": minutes, "base_template": base_template, "helper": helper}
    return render(request, "staff/locked.html", context, status=429)


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


def used_before(device: TOTPDevice, token: str) -> bool:
    """Whether ``token`` is right for now but was used already (django-otp refuses a time step up to ``last_t``)."""
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    steps = range(now - device.tolerance, min(now + device.tolerance, device.last_t) + 1)
    return any(hotp(device.bin_key, step, device.digits) == int(token) for step in steps)


def wait_seconds(device: TOTPDevice) -> int:
    """How many whole seconds before django-otp lets ``device`` check a code again (it waits longer after each
    wrong code: 1, 2, 4, ... seconds); 0 when it may now."""
    allowed, data = device.verify_is_allowed()
    if allowed or not data or data.get("locked_until") is None:
        return 0
    return max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds()))


def secret(device: TOTPDevice) -> str:
    """The TOTP secret as an app asks it to be typed: base32, in groups of four."""
    plain = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(plain[i : i + 4] for i in range(0, len(plain), 4))


def totp_device(user: Any) -> TOTPDevice:
    """The staff member's authenticator app device: the confirmed one, else one waiting to be confirmed."""
    device = TOTPDevice.objects.filter(user=user, name=TOTP_NAME).order_by("-confirmed").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


@dataclass(frozen=True)
class StaffLogin:
    """The two-factor login of one portal's staff.

    ``member(user)`` is the user's membership of this portal's staff, or ``None`` for anyone else (a citizen, the
    staff of another portal, nobody); staff pages find it on ``request.<attribute>``. ``namespace`` is the URL
    namespace the login's URLs are included in; ``home`` the URL name to go to after logging in (a ``next`` is
    followed only when it lies under that page's path); ``base_template`` the portal's layout the login's pages
    extend. ``on_page(request, membership)``, when given, runs before every staff page (say, a banner's state).
    ``helper`` is whom a staff member asks for a new password or a new app, as the portal's footer names them.
    """

    namespace: str
    member: Callable[[Any], Any | None]
    home: str
    base_template: str
    attribute: str
    on_page: Callable[[HttpRequest, Any], None] | None = None
    helper: Promise = ORGANISATION_ADMIN

    def url(self, name: str) -> str:
        """The path of this login's URL ``name`` (``login``, ``second-factor``, ``passkey-catalog``, ...)."""
        return reverse(f"{self.namespace}:{name}")

    def membership(self, user: Any) -> Any | None:
        """The staff membership of ``user``: only an active, logged-in user has one."""
        if not user.is_authenticated or not user.is_active:
            return None
        return self.member(user)

    def next_page(self, request: HttpRequest) -> str:
        """Where to go after logging in: a staff page asked for, else the home page."""
        home = reverse(self.home)
        candidate = request.POST.get("next") or request.GET.get("next") or ""
        allowed = url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        return candidate if allowed and candidate.startswith(home) else home

    def _step(self, name: str, next_url: str) -> HttpResponse:
        """To the login step ``name``, and from there on to ``next_url``."""
        return redirect(f"{self.url(name)}?{urlencode({'next': next_url})}")

    def _device_step(self, user: Any) -> str:
        return "second-factor" if django_otp.user_has_device(user) else "setup"

    def _render(self, request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
        common = {
            "base_template": self.base_template,
            "login_url": self.url("login"),
            "passkey_catalog_url": self.url("passkey-catalog"),
            "next": self.next_page(request),
            "helper": self.helper,
        }
        return render(request, template, {**common, **context})

    def required(self, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        """A staff page: logged in with both factors, else to the step still to do. Sets
        ``request.<attribute>`` to the membership."""

        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = self.membership(request.user)
            if membership is None:
                return self._step("login", request.get_full_path())
            if not request.user.is_verified():
                return self._step(self._device_step(request.user), request.get_full_path())
            setattr(request, self.attribute, membership)
            if self.on_page is not None:
                self.on_page(request, membership)
            return view(request, *args, **kwargs)

        return never_cache(wrapped)

    def login(self, request: HttpRequest) -> HttpResponse:
        """Step 1: username and password. Wrong ones are counted; too many lock this login for a while."""
        if request.method == "GET" and self.membership(request.user) is not None and request.user.is_verified():
            return redirect(self.next_page(request))
        form = PasswordForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            setattr(request, LOGIN_ON_REQUEST, self)  # axes counts this attempt, and locks this login
            user = auth.authenticate(
                request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
            if getattr(request, "axes_locked_out", False):
                return locked_out(request)
            if user is not None and self.membership(user) is not None:
                auth.login(request, user)
                return self._step(self._device_step(user), self.next_page(request))
            form.add_error(None, _("Deze gebruikersnaam en dit wachtwoord horen niet bij elkaar. Probeer het opnieuw."))
        return self._render(request, "staff/login.html", {"form": form})

    def _verified(self, request: HttpRequest, device: Any) -> HttpResponse:
        django_otp.login(request, device)
        return redirect(self.next_page(request))

    def second_factor(self, request: HttpRequest) -> HttpResponse:
        """Step 2: a code from the authenticator app, or (with JavaScript) a passkey."""
        if self.membership(request.user) is None:
            return self._step("login", request.get_full_path())
        if request.user.is_verified():
            return redirect(self.next_page(request))
        if not django_otp.user_has_device(request.user):
            return self._step("setup", request.get_full_path())
        device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
        form = CodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if device is not None and (seconds := wait_seconds(device)):
                message = ngettext(
                    "U typte net een verkeerde code. Wacht nog %(seconds)d seconde en typ dan de code die de app "
                    "nu laat zien. Elke verkeerde code maakt het wachten langer.",
                    "U typte net een verkeerde code. Wacht nog %(seconds)d seconden en typ dan de code die de app "
                    "nu laat zien. Elke verkeerde code maakt het wachten langer.",
                    seconds,
                )
                form.add_error("token", message % {"seconds": seconds})
            elif device is not None and device.verify_token(form.cleaned_data["token"]):
                return self._verified(request, device)
            elif device is not None and used_before(device, form.cleaned_data["token"]):
                form.add_error("token", _("Deze code is al gebruikt. Wacht op de volgende code in uw app."))
            else:
                seconds = wait_seconds(device) if device is not None else 0
                message = ngettext(
                    "Deze code klopt niet. Wacht %(seconds)d seconde en typ dan de code die de app nu laat zien.",
                    "Deze code klopt niet. Wacht %(seconds)d seconden en typ dan de code die de app nu laat zien.",
                    seconds,
                )
                form.add_error("token", message % {"seconds": seconds} if seconds else WRONG_CODE)
        context = {"form": form, "has_app": device is not None, "passkeys": self._passkeys(request)}
        return self._render(request, "staff/second_factor.html", context)

    def _passkeys(self, request: HttpRequest) -> dict[str, Any]:
        """The configuration django-otp-webauthn's script reads (its URLs sit under this login's namespace)."""
        return {
            "autocompleteLoginFieldSelector": None,
            "nextFieldSelector": "input[name='next']",
            "csrfToken": get_token(request),
            "beginAuthenticationUrl": self.url("passkey-authentication-begin"),
            "completeAuthenticationUrl": self.url("passkey-authentication-complete"),
            "beginRegistrationUrl": self.url("passkey-registration-begin"),
            "completeRegistrationUrl": self.url("passkey-registration-complete"),
        }

    def setup(self, request: HttpRequest) -> HttpResponse:
        """Before anything else, a staff member without a second factor adds an authenticator app."""
        if self.membership(request.user) is None:
            return self._step("login", request.get_full_path())
        if django_otp.user_has_device(request.user):
            return self._step("second-factor", self.next_page(request))
        device = totp_device(request.user)
        form = CodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if device.verify_token(form.cleaned_data["token"]):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                messages.info(request, _("Uw app is ingesteld. Voortaan vraagt het inloggen een code uit deze app."))
                return self._verified(request, device)
            form.add_error(
                "token", _("Deze code klopt niet. Kijk of de app de juiste sleutel heeft, en typ de nieuwe code.")
            )
        context = {
            "form": form,
            "secret": secret(device),
            "qr": qr_svg(device.config_url, _("QR-code om uw app in te stellen")),
        }
        return self._render(request, "staff/setup.html", context)

    def security(self, request: HttpRequest) -> HttpResponse:
        """How this staff member logs in: the app, the passkeys, and (with JavaScript) a button to add a passkey."""
        context = {
            "passkeys": WebAuthnCredential.objects.filter(user=request.user, confirmed=True).order_by("created_at"),
            "configuration": self._passkeys(request),
        }
        return self._render(request, "staff/security.html", context)

    def logout(self, request: HttpRequest) -> HttpResponse:
        """Log out: the session ends, both factors are needed again."""
        auth.logout(request)
        messages.info(request, _("U bent uitgelogd."))
        return redirect(self.url("login"))

    def urlpatterns(self) -> list[URLPattern | URLResolver]:
        """The login's URLs, to include in the portal's URL namespace next to its own pages."""
        steps = require_http_methods(["GET", "POST"])
        return [
            path("inloggen/", never_cache(steps(self.login)), name="login"),
            path("inloggen/tweede-stap/", never_cache(steps(self.second_factor)), name="second-factor"),
            path("inloggen/instellen/", never_cache(steps(self.setup)), name="setup"),
            path("uitloggen/", require_POST(self.logout), name="logout"),
            path("beveiliging/", self.required(self.security), name="security"),
            path("passkeys/", include(passkeys.urlpatterns(self))),
        ]
