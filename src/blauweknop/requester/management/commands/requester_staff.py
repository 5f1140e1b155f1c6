"""Make a member of a requester's staff: ``python manage.py requester_staff <oin> <username> [--totp]``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from blauweknop.requester.models import Requester, StaffMember
from blauweknop.staff.command import StaffCommand


class Command(StaffCommand):
    help = (
        "Make (or update) a staff member of a requester of this deployment, who logs in at /vragers/inloggen/ "
        "with a password and a second factor. With --totp the authenticator app is set up now and its secret printed."
    )
    login_path = "/vragers/inloggen/"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("oin", help="The requester's OIN (one of BLAUWEKNOP_REQUESTER_OINS).")
        super().add_arguments(parser)

    def check_arguments(self, *, oin: str, **options: Any) -> None:
        if oin not in settings.REQUESTER_OINS:
            raise CommandError(f"{oin} is not among BLAUWEKNOP_REQUESTER_OINS of this deployment.")

    def make_member(self, user: Any, *, oin: str, **options: Any) -> str:
        requester, _ = Requester.objects.get_or_create(oin=oin, defaults={"slug": ""})
        StaffMember.objects.update_or_create(user=user, defaults={"requester": requester})
        return f"Staff member {user.get_username()} of {oin}"
