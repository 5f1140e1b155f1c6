"""Passkeys (WebAuthn, django-otp-webauthn) as a staff login's second factor: that package's views, for staff only.

A passkey never replaces the password (``OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN`` is off): it is used after
the password step, and added only by a staff member who is already verified. Anyone else (a citizen logged
in with DigiD, the staff of another portal) is refused as if not logged in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import URLPattern, path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import views

if TYPE_CHECKING:
    from blauweknop.staff.login import StaffLogin


class _StaffOnly:
    staff_login: StaffLogin | None = None  # set by as_view(): whose staff may use the view

    def get_user(self) -> Any:
        user = super().get_user()  # type: ignore[misc]
        return user if user is not None and self.staff_login.membership(user) is not None else None


class RegistrationBegin(_StaffOnly, views.BeginCredentialRegistrationView):
    pass


class RegistrationComplete(_StaffOnly, views.CompleteCredentialRegistrationView):
    pass


class AuthenticationBegin(_StaffOnly, views.BeginCredentialAuthenticationView):
    pass


class AuthenticationComplete(_StaffOnly, views.CompleteCredentialAuthenticationView):
    def get_success_url(self) -> str:
        # The script sends the page's ``next``; only a staff page of this portal is a place to go.
        return self.staff_login.next_page(self.request)


def urlpatterns(staff_login: StaffLogin) -> list[URLPattern]:
    """The passkey views of ``staff_login``, to include under its ``passkeys/``."""
    return [
        path(
            "registreren/begin/", RegistrationBegin.as_view(staff_login=staff_login), name="passkey-registration-begin"
        ),
        path(
            "registreren/klaar/",
            RegistrationComplete.as_view(staff_login=staff_login),
            name="passkey-registration-complete",
        ),
        path(
            "inloggen/begin/",
            AuthenticationBegin.as_view(staff_login=staff_login),
            name="passkey-authentication-begin",
        ),
        path(
            "inloggen/klaar/",
            AuthenticationComplete.as_view(staff_login=staff_login),
            name="passkey-authentication-complete",
        ),
        path("teksten.js", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="passkey-catalog"),
    ]
