"""Delete used assertion ids that can no longer verify. Safe to run at any time, also twice at once."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from blauweknop.holder.models import UsedAssertion


class Command(BaseCommand):
    help = "Delete used assertion ids that have expired (beyond the clock leeway)."

    def handle(self, *args: object, **options: object) -> None:
        deleted = UsedAssertion.forget_expired(timezone.now())
        self.stdout.write(f"Deleted {deleted} expired assertion ids.")
