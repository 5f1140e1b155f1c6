"""Make a member of the scheme operator's staff: ``python manage.py operator_staff <username> [--totp]``."""

from __future__ import annotations

from typing import Any

from blauweknop.scheme.models import OperatorMember
from blauweknop.staff.command import StaffCommand


class Command(StaffCommand):
    help = (
        "Make (or update) a member of the scheme operator's staff, who logs in at /stelsel/beheer/inloggen/ with a "
        "password and a second factor. With --totp the authenticator app is set up now and its secret printed."
    )
    login_path = "/stelsel/beheer/inloggen/"

    def make_member(self, user: Any, **options: Any) -> str:
        OperatorMember.objects.get_or_create(user=user)
        return f"Operator staff member {user.get_username()}"
