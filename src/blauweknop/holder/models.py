"""What a holder keeps: its demo source registry, its status lists and what it issued."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from blauweknop import keystore
from blauweknop.protocol import status_list
from blauweknop.protocol.status_list import INVALID, VALID, StatusList
from blauweknop.scheme.models import Organisation


class SourceRecord(models.Model):
    """The demo's source registry: one document per citizen and document type (a holder's own table)."""

    holder = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="source_records")
    document_type = models.CharField(max_length=40)
    bsn = models.CharField(max_length=9)
    data = models.JSONField()

    class Meta:
        db_table = "holder_bronregistratie"
        constraints = [
            models.UniqueConstraint(fields=["holder", "document_type", "bsn"], name="one_document_per_citizen")
        ]

    def __repr__(self) -> str:  # the BSN stays out of logs and tracebacks
        return f"SourceRecord(holder={self.holder_id}, type={self.document_type}, pk={self.pk})"


class StatusListRecord(models.Model):
    """One Token Status List of a holder; credentials get a random free index in it."""

    SIZE = 2**17  # 131,072 credentials per list; compressed, an all-valid list is a few hundred bytes

    holder = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="status_lists")
    number = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["holder", "number"], name="one_list_number_per_holder")]

    @property
    def uri(self) -> str:
        """Where verifiers fetch this list."""
        return f"{self.holder.url}/api/v1/statuslijsten/{self.number}"

    TTL = 300  # seconds verifiers may cache the list

    def signed_token(self) -> str:
        """The list as a Status List Token, signed with the holder's key: valid a day, cacheable five minutes."""
        return status_list.sign(
            self.build(),
            keystore.signing_key(self.holder_id),
            uri=self.uri,
            iss=self.holder.issuer_url,
            valid_for=86400,
            ttl=self.TTL,
        )

    def build(self) -> StatusList:
        """The list as it stands: INVALID for every withdrawn or superseded credential."""
        statuses = StatusList(self.SIZE, bits=2)
        for idx in self.credentials.filter(status=INVALID).values_list("idx", flat=True):
            statuses.set(idx, INVALID)
        return statuses


class IssuedCredentialQuerySet(models.QuerySet["IssuedCredential"]):
    def valid(self) -> IssuedCredentialQuerySet:
        return self.filter(status=VALID)


class IssuedCredential(models.Model):
    """A credential this holder issued: not its content, only what is needed to withdraw it."""

    status_list = models.ForeignKey(StatusListRecord, on_delete=models.PROTECT, related_name="credentials")
    idx = models.PositiveIntegerField()
    document_type = models.CharField(max_length=40)
    subject = models.CharField(max_length=64, db_index=True, help_text="Pseudonym of the citizen, never the BSN.")
    data_digest = models.CharField(max_length=64, help_text="Keyed digest of the data, to see when it changes.")
    status = models.PositiveSmallIntegerField(default=VALID)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    objects = IssuedCredentialQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["status_list", "idx"], name="one_credential_per_index")]

    @classmethod
    def allocate(cls, holder: Organisation, **fields: object) -> IssuedCredential:
        """Record a new credential at a random free index, so indexes say nothing about order."""
        status_list, _ = StatusListRecord.objects.get_or_create(holder=holder, number=1)
        for _attempt in range(20):
            try:
                with transaction.atomic():
                    idx = secrets.randbelow(StatusListRecord.SIZE)
                    return cls.objects.create(status_list=status_list, idx=idx, **fields)
            except IntegrityError:
                continue  # that index was taken: draw again
        raise RuntimeError("The status list is full; start a new one.")


class UsedAssertion(models.Model):
    """Assertion ids already used, kept until they expire, so none can be replayed."""

    jti = models.CharField(max_length=64, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)

    @classmethod
    def use(cls, jti: str, expires_at: datetime) -> bool:
        """Mark ``jti`` used; ``False`` when it was used before. Call inside the caller's transaction."""
        try:
            with transaction.atomic():
                cls.objects.create(jti=jti, expires_at=expires_at)
        except IntegrityError:
            return False
        cls.objects.filter(expires_at__lt=timezone.now()).delete()
        return True
