"""What the portal keeps per session beside the session itself: each holder's copies, in a row of its own.

Django's database session saves the whole session at the end of every request that changed it, so
two presses at the same time would each write back only their own holder's copies (the last save
wins). One row per session and holder, written with an upsert, cannot lose another holder's copies.
The rows belong to the session: deleting the session (logging out, pruning) deletes them.
"""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db import models
from django.utils import timezone


class SessionCopies(models.Model):
    """The certified copies one holder issued in one citizen session, by document type."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    holder_oin = models.CharField(max_length=20)
    credentials = models.JSONField()
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "portal_sessiekopieen"
        constraints = [models.UniqueConstraint(fields=["session", "holder_oin"], name="one_row_per_holder")]

    def __repr__(self) -> str:  # the copies hold personal data; keep them out of logs and tracebacks
        return f"SessionCopies(holder={self.holder_oin}, pk={self.pk})"
