"""Delete ended citizen sessions with their copies, and expired printed copies' codes. Safe to run twice at once."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from blauweknop.portal.tasks import prune_ended


class Command(BaseCommand):
    help = "Delete citizen sessions that have ended, with the copies in them, and the codes of expired printed copies."

    def handle(self, *args: object, **options: object) -> None:
        deleted = prune_ended(timezone.now())
        self.stdout.write(f"Deleted {deleted} ended sessions and the copies in them.")
