"""Make a member of a requester's staff: ``python manage.py requester_staff <oin> <username> [--totp]``."""

from __future__ import annotations

import getpass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from blauweknop.requester.models import Requester, StaffMember
from blauweknop.requester.staff import secret, totp_device


class Command(BaseCommand):
    help = (
        "Make (or update) a staff member of a requester of this deployment, who logs in at /vragers/inloggen/ "
        "with a password and a second factor. With --totp the authenticator app is set up now and its secret printed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("oin", help="The requester's OIN (one of BLAUWEKNOP_REQUESTER_OINS).")
        parser.add_argument("username")
        parser.add_argument("--password", help="For the demo only; otherwise asked at a prompt.")
        parser.add_argument(
            "--totp", action="store_true", help="Set up the TOTP device now (confirmed) and print its base32 secret."
        )

    def handle(self, *args: Any, oin: str, username: str, password: str | None, totp: bool, **options: Any) -> None:
        if oin not in settings.REQUESTER_OINS:
            raise CommandError(f"{oin} is not among BLAUWEKNOP_REQUESTER_OINS of this deployment.")
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
            requester, _ = Requester.objects.get_or_create(oin=oin, defaults={"slug": ""})
            user.set_password(password)
            user.save()
            StaffMember.objects.update_or_create(user=user, defaults={"requester": requester})
            device = totp_device(user) if totp else None
            if device is not None and not device.confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
        self.stdout.write(f"Staff member {username} of {oin} is ready; log in at /vragers/inloggen/.")
        if device is not None:
            self.stdout.write(f"TOTP secret (base32): {secret(device).replace(' ', '')}")
            self.stdout.write(f"TOTP URL: {device.config_url}")
