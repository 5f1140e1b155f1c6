"""Make a member of a holder's staff: ``python manage.py holder_staff <username> --holder <oin> [--totp]``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from blauweknop.holder.models import HolderStaffMember
from blauweknop.staff.command import StaffCommand


class Command(StaffCommand):
    help = (
        "Make (or update) a staff member of a holder of this deployment, who handles its correction requests at "
        "/gegevenshouder/beheer/ after logging in with a password and a second factor. With --totp the "
        "authenticator app is set up now and its secret printed."
    )
    login_path = "/gegevenshouder/beheer/inloggen/"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--holder", required=True, help="The holder's OIN (one of BLAUWEKNOP_HOLDER_OINS).")

    def check_arguments(self, *, holder: str, **options: Any) -> None:
        if holder not in settings.HOLDER_OINS:
            raise CommandError(f"{holder} is not among BLAUWEKNOP_HOLDER_OINS of this deployment.")

    def make_member(self, user: Any, *, holder: str, **options: Any) -> str:
        HolderStaffMember.objects.update_or_create(user=user, defaults={"holder_oin": holder})
        return f"Staff member {user.get_username()} of holder {holder}"
