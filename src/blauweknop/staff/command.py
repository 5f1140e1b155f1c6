"""What the management commands that make staff members share: the user, its password and its TOTP device.

``requester_staff`` and ``operator_staff`` subclass :class:`StaffCommand` and say only what makes the user a
member of their staff (:meth:`StaffCommand.make_member`) and where that staff logs in.
"""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from blauweknop.staff.login import secret, totp_device


class StaffCommand(BaseCommand):
    login_path = ""  # where this staff logs in, for the message at the end

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", help="For the demo only; otherwise asked at a prompt.")
        parser.add_argument(
            "--totp", action="store_true", help="Set up the TOTP device now (confirmed) and print its base32 secret."
        )

    def check_arguments(self, **options: Any) -> None:
        """Refuse (``CommandError``) before anything is asked or written; nothing to check by default."""

    def make_member(self, user: Any, **options: Any) -> str:
        """Make ``user`` a member of this staff (in the command's transaction); who they are, for the message."""
        raise NotImplementedError

    def handle(self, *args: Any, username: str, password: str | None, totp: bool, **options: Any) -> None:
        self.check_arguments(**options)
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords differ.")
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first() or user_model(username=username)
        if user.pk and getattr(user, "bsn", ""):
            raise CommandError(f"{username} is a citizen's account, not a staff member's.")
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        with transaction.atomic():
            user.set_password(password)
            user.save()
            member = self.make_member(user, **options)
            device = totp_device(user) if totp else None
            if device is not None and not device.confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
        self.stdout.write(f"{member} is ready; log in at {self.login_path}.")
        if device is not None:
            self.stdout.write(f"TOTP secret (base32): {secret(device).replace(' ', '')}")
            self.stdout.write(f"TOTP URL: {device.config_url}")
