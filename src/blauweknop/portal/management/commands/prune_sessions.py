"""Delete ended citizen sessions and the copies in them. For a scheduler; safe to run twice at once."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from blauweknop.portal import session


class Command(BaseCommand):
    help = "Delete citizen sessions that have ended, with the copies of citizen data in them."

    def handle(self, *args: object, **options: object) -> None:
        deleted = session.prune(timezone.now())
        self.stdout.write(f"Deleted {deleted} ended sessions and the copies in them.")
