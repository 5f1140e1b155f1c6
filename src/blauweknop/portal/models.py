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
    """The certified copies one holder issued in one citizen session, by document type, and how it answered."""

    class Outcome(models.TextChoices):
        FETCHED = "opgehaald"  # verified copies (maybe none: see ``absent``)
        NONE = "geen"  # the holder has no data of any of its types about the citizen
        UNREACHABLE = "onbereikbaar"  # down, too slow, or an error answer
        UNTRUSTED = "onbetrouwbaar"  # it answered with data that failed verification
        SKIPPED = "overgeslagen"  # kept failing lately: not asked for a while (circuit breaker)
        NOT_TAKING_PART = "doet-niet-mee"  # suspended or revoked in the scheme: not asked

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    holder_oin = models.CharField(max_length=20)
    credentials = models.JSONField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.FETCHED)
    absent = models.JSONField(default=list)  # the document types the holder said it has none of
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "portal_sessiekopieen"
        constraints = [models.UniqueConstraint(fields=["session", "holder_oin"], name="one_row_per_holder")]

    def __repr__(self) -> str:  # the copies hold personal data; keep them out of logs and tracebacks
        return f"SessionCopies(holder={self.holder_oin}, pk={self.pk})"


class PrintedCopy(models.Model):
    """A printed copy that can be checked by its code, without uploading the file.

    The server keeps the copy sealed under a key derived from the code and finds it by a hash of
    the code, so neither the copy nor the code can be read from the database alone.
    """

    lookup = models.CharField(max_length=64, unique=True)
    sealed = models.BinaryField()
    citizen = models.CharField(max_length=64, db_index=True)  # keyed pseudonym, never the BSN
    holder_oin = models.CharField(max_length=20)
    document_type = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "portal_afgedruktekopieen"

    def __repr__(self) -> str:
        return f"PrintedCopy(holder={self.holder_oin}, pk={self.pk})"


class WalletKey(models.Model):
    """Which citizen a wallet key belongs to, so a check of their copy shows on their own access page.

    Every session has its own wallet key; a copy carries it (``cnf``). Kept as long as copies bound
    to it may still be valid.
    """

    thumbprint = models.CharField(max_length=64, primary_key=True)
    citizen = models.CharField(max_length=64, db_index=True)  # keyed pseudonym, never the BSN
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "portal_portemonneesleutels"


class CitizenEvent(models.Model):
    """Something done with a citizen's copy in this portal: downloaded in a format, or checked by someone."""

    class Activity(models.TextChoices):
        DOWNLOADED = "gedownload"
        CHECKED = "gecontroleerd"

    citizen = models.CharField(max_length=64)  # keyed pseudonym, never the BSN
    holder_oin = models.CharField(max_length=20)
    document_type = models.CharField(max_length=100)
    activity = models.CharField(max_length=20, choices=Activity.choices)
    format = models.CharField(max_length=10, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "portal_gebeurtenissen"
        indexes = [models.Index(fields=["citizen", "-at"], name="events_of_citizen")]


class VaultKey(models.Model):
    """A citizen's own key for their vault (kluis), stored wrapped: the database alone cannot unwrap it.

    Deleting it makes every copy sealed under it unreadable, wherever a copy of the rows may linger.
    """

    citizen = models.CharField(max_length=64, primary_key=True)  # keyed pseudonym, never the BSN
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "portal_kluissleutels"

    def __repr__(self) -> str:
        return "VaultKey(...)"


class VaultCopy(models.Model):
    """A certified copy the citizen asked to keep in their vault, sealed under their vault key."""

    citizen = models.CharField(max_length=64)  # keyed pseudonym, never the BSN
    holder_oin = models.CharField(max_length=20)
    document_type = models.CharField(max_length=100)
    sealed = models.BinaryField()
    fetched_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    kept_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "portal_kluiskopieen"
        constraints = [
            models.UniqueConstraint(fields=["citizen", "holder_oin", "document_type"], name="one_vault_copy_per_type")
        ]

    def __repr__(self) -> str:
        return f"VaultCopy(holder={self.holder_oin}, pk={self.pk})"
