"""What a holder keeps: its tenants, its demo source registry, its status lists and what it issued.

Nothing here points at another role's tables: a holder learns about its own organisations (its
tenants) from the verified scheme document, and keeps only what it needs between requests.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count
from django.utils import timezone

from blauweknop import signing
from blauweknop.holder.allocation import shuffled_index
from blauweknop.protocol import status_list
from blauweknop.protocol.status_list import INVALID, VALID, StatusList


class TenantQuerySet(models.QuerySet["Tenant"]):
    def learn(self, oin: str, slug: str, issuer_url: str) -> Tenant:
        """The tenant ``oin`` as the scheme document describes it now, stored on first use or after a change."""
        tenant = self.filter(pk=oin).first()
        if tenant is not None and (tenant.slug, tenant.issuer_url) == (slug, issuer_url):
            return tenant
        try:
            with transaction.atomic():
                tenant, _ = self.update_or_create(oin=oin, defaults={"slug": slug, "issuer_url": issuer_url})
        except IntegrityError:  # a concurrent request stored it first: the OIN is the only unique column
            tenant = self.get(pk=oin)
        return tenant


class Tenant(models.Model):
    """An organisation this holder deployment issues for (``BLAUWEKNOP_HOLDER_OINS``).

    The row only remembers what the scheme document said when it was last used, so the worker can
    sign status lists without it; the scheme document stays the source of the slug and issuer URL.
    """

    oin = models.CharField(max_length=20, primary_key=True)
    # Not unique, no length limit: tenants may swap or take over addresses between scheme versions,
    # and an address is as long as the operator made it. Requests find a tenant through the scheme.
    slug = models.TextField(help_text="The last path segment of the issuer URL.")
    issuer_url = models.TextField(help_text="The iss of the credentials, from the scheme document.")

    objects = TenantQuerySet.as_manager()

    def __str__(self) -> str:
        return self.oin

    @property
    def status_lists_url(self) -> str:
        """Where this tenant's status lists are published, each under its number."""
        return f"{self.issuer_url.rstrip('/')}/api/v1/statuslijsten/"


class SourceRecord(models.Model):
    """The demo's source registry: one document per citizen and document type.

    It stands for the organisation's own systems, which know it by its OIN and know nothing of
    the Blauwe Knop's tables (see blauweknop.holder.sources).
    """

    holder_oin = models.CharField(max_length=20)
    document_type = models.CharField(max_length=40)
    bsn = models.CharField(max_length=9)
    data = models.JSONField()

    class Meta:
        db_table = "holder_bronregistratie"
        constraints = [
            models.UniqueConstraint(fields=["holder_oin", "document_type", "bsn"], name="one_document_per_citizen")
        ]

    def __repr__(self) -> str:  # the BSN stays out of logs and tracebacks
        return f"SourceRecord(holder={self.holder_oin}, type={self.document_type}, pk={self.pk})"


class StatusListRecordQuerySet(models.QuerySet["StatusListRecord"]):
    def at(self, holder: Tenant, uri: str) -> StatusListRecord | None:
        """The holder's list that is published at ``uri``, if any."""
        own = re.fullmatch(re.escape(holder.status_lists_url) + r"([1-9][0-9]{0,8})", uri)
        record = self.filter(holder=holder, number=int(own[1])).first() if own else None
        if record is not None:
            record.holder = holder
        return record

    def current(self, holder: Tenant) -> StatusListRecord:
        """The holder's newest list, which new credentials go into; the first one is made on first use."""
        latest = self.filter(holder=holder).defer("token").order_by("-number").first()
        return latest or self.start(holder, 1)

    def publish_due(self, now: datetime) -> int:
        """Sign and store every list whose statuses changed or whose token gets old; how many this call stored.

        Safe on two workers at once: each store is conditional on the token it replaces, so a list
        another worker published meanwhile is left as that worker stored it.
        """
        invalid = dict(
            IssuedCredential.objects.filter(status=INVALID)
            .values("status_list")
            .annotate(n=Count("pk"))
            .values_list("status_list", "n")
        )
        published = 0
        for record in self.select_related("holder").defer("token").order_by("pk"):
            if record.is_due(now, invalid.get(record.pk, 0)):
                published += record.publish()
        return published

    def start(self, holder: Tenant, number: int) -> StatusListRecord:
        """List ``number`` of ``holder``, made now unless a concurrent request made it first."""
        try:
            with transaction.atomic():
                return self.create(
                    holder=holder, number=number, size=settings.STATUS_LIST_SIZE, shuffle_key=secrets.token_bytes(32)
                )
        except IntegrityError:
            return self.get(holder=holder, number=number)


class StatusListRecord(models.Model):
    """One Token Status List of a holder. Positions are handed out in order, indexes shuffled."""

    holder = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="status_lists")
    number = models.PositiveIntegerField()
    size = models.PositiveIntegerField(help_text="How many credentials this list holds; fixed when it is made.")
    allocated = models.PositiveIntegerField(default=0, help_text="How many positions were handed out.")
    shuffle_key = models.BinaryField(max_length=32, help_text="Secret that turns positions into indexes.")
    token = models.TextField(blank=True, default="", help_text="The Status List Token last published by the worker.")
    token_signed_at = models.DateTimeField(null=True, help_text="The token's iat; empty until first published.")
    token_invalid = models.PositiveIntegerField(default=0, help_text="How many INVALID statuses the token holds.")

    objects = StatusListRecordQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["holder", "number"], name="one_list_number_per_holder"),
            models.CheckConstraint(condition=models.Q(allocated__lte=models.F("size")), name="allocated_within_size"),
        ]

    @property
    def uri(self) -> str:
        """Where verifiers fetch this list."""
        return f"{self.holder.status_lists_url}{self.number}"

    TTL = 300  # seconds verifiers may cache the list; they refuse a token older than this
    RESIGN_AFTER = 120  # the worker signs again well within the TTL, so a stored token stays servable
    SERVE_FOR = TTL - 60  # a stored token is served this long; a verifier then still has a minute to use it

    def signed_token(self, now: datetime | None = None) -> str:
        """The list as it stands, as a Status List Token signed with the holder's key: valid a day, TTL five minutes."""
        return self._sign(self.build(), now or timezone.now())

    def _sign(self, statuses: StatusList, now: datetime) -> str:
        return status_list.sign(
            statuses,
            signing.key_of(self.holder_id),
            uri=self.uri,
            iss=self.holder.issuer_url,
            now=int(now.timestamp()),
            valid_for=86400,
            ttl=self.TTL,
        )

    def build(self) -> StatusList:
        """The list as it stands: INVALID for every withdrawn or superseded credential."""
        return self._build(self._invalid_indexes())

    def _invalid_indexes(self) -> list[int]:
        return list(self.credentials.filter(status=INVALID).values_list("idx", flat=True))

    def _build(self, invalid: list[int]) -> StatusList:
        statuses = StatusList(self.size, bits=2)
        for idx in invalid:
            statuses.set(idx, INVALID)
        return statuses

    def is_due(self, now: datetime, invalid: int) -> bool:
        """Whether the worker should publish this list again, given how many of its credentials are INVALID now.

        Statuses only ever go from VALID to INVALID, so a changed count is a changed list.
        """
        return (
            self.token_signed_at is None
            or invalid != self.token_invalid
            or now - self.token_signed_at >= timedelta(seconds=self.RESIGN_AFTER)
        )

    def publish(self) -> bool:
        """Sign the list as it stands and store the token, unless another worker stored one first; whether stored."""
        invalid = self._invalid_indexes()
        signed_at = datetime.fromtimestamp(int(timezone.now().timestamp()), UTC)  # the token's iat, in whole seconds
        token = self._sign(self._build(invalid), signed_at)
        stored = StatusListRecord.objects.filter(pk=self.pk, token_signed_at=self.token_signed_at).update(
            token=token, token_signed_at=signed_at, token_invalid=len(invalid)
        )
        return bool(stored)

    def served_token(self, now: datetime) -> tuple[str, int]:
        """The token to answer a GET with, and for how many seconds it may be cached. Writes nothing.

        The worker's stored token while it is fresh; without one (a new list, or no worker running)
        the list is signed for this answer only.
        """
        if self.token and self.token_signed_at and now - self.token_signed_at < timedelta(seconds=self.SERVE_FOR):
            age = int((now - self.token_signed_at).total_seconds())
            return self.token, min(self.TTL, self.TTL - age)  # a worker's clock ahead of ours gives no extra time
        return self.signed_token(now), self.TTL

    def take(self) -> int | None:
        """The next free index of this list, or ``None`` when it is full. Call inside the caller's transaction.

        The update is one statement, so concurrent requests never get the same position; on
        PostgreSQL it holds the row until the caller commits, so keep what follows short.
        """
        taken = StatusListRecord.objects.filter(pk=self.pk, allocated__lt=models.F("size")).update(
            allocated=models.F("allocated") + 1
        )
        if not taken:
            return None
        self.refresh_from_db(fields=["allocated"])
        return self.index_of(self.allocated - 1)

    def index_of(self, position: int) -> int:
        """The shuffled index of the credential at ``position`` of this list."""
        return shuffled_index(bytes(self.shuffle_key), position, self.size)


# Takes the next position of the holder's newest list in one statement (both SQLite and PostgreSQL
# have RETURNING): the hot path of every issuance, where the ORM would need a SELECT, an UPDATE and a
# SELECT again. No row back: the holder has no list yet, or its newest one is full.
_TAKE_FROM_NEWEST = """
UPDATE {table} SET allocated = allocated + 1
WHERE id = (SELECT id FROM {table} WHERE holder_id = %s ORDER BY number DESC LIMIT 1)
  AND allocated < size
RETURNING id, holder_id, number, size, allocated, shuffle_key
"""


def _take_from_newest(holder: Tenant) -> tuple[StatusListRecord, int] | None:
    """The holder's newest list and the index just taken from it, or ``None`` (see ``_TAKE_FROM_NEWEST``)."""
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_FROM_NEWEST.format(table=StatusListRecord._meta.db_table), [holder.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    # As if loaded with only() these fields (in the model's order): the token fields stay deferred,
    # so no save() of this instance can blank them.
    fields = ["id", "holder_id", "number", "size", "allocated", "shuffle_key"]
    status_list = StatusListRecord.from_db(connection.alias, fields, row)
    status_list.holder = holder
    return status_list, status_list.index_of(status_list.allocated - 1)


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
    def allocate(cls, holder: Tenant, **fields: object) -> IssuedCredential:
        """Record a new credential in the holder's current status list, starting the next list when it is full.

        Never fails for lack of indexes, costs the same at any occupancy, and never reuses an index.
        Call inside the caller's transaction.
        """
        if (taken := _take_from_newest(holder)) is not None:
            status_list, idx = taken
        else:  # the first list, or the newest is full: the ORM's way, which also starts lists
            status_list = StatusListRecord.objects.current(holder)
            status_list.holder = holder
            while (idx := status_list.take()) is None:
                status_list = StatusListRecord.objects.start(holder, status_list.number + 1)
        return cls.objects.create(status_list=status_list, idx=idx, **fields)


class UsedAssertion(models.Model):
    """Assertion ids already used, kept until no clock could still accept them, so none can be replayed."""

    jti = models.CharField(max_length=64, primary_key=True)
    expires_at = models.DateTimeField(db_index=True, help_text="After this, the assertion fails verification.")

    @classmethod
    def use(cls, jti: str, expires_at: datetime) -> bool:
        """Mark ``jti`` used; ``False`` when it was used before. Call inside the caller's transaction.

        One statement that cannot fail on a used id (ON CONFLICT DO NOTHING, SQLite and PostgreSQL),
        so the caller's transaction needs no savepoint around it; a used id inserts no row.
        """
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {cls._meta.db_table} (jti, expires_at) VALUES (%s, %s) ON CONFLICT (jti) DO NOTHING",  # noqa: S608
                [jti, connection.ops.adapt_datetimefield_value(expires_at)],
            )
            return cursor.rowcount == 1

    @classmethod
    def forget_expired(cls, now: datetime) -> int:
        """Delete the ids that can no longer verify at ``now``; how many. Housekeeping, never on a request."""
        deleted, _ = cls.objects.filter(expires_at__lt=now).delete()
        return deleted


class SourceChange(models.Model):
    """One change in the source registry, written by the registry's own triggers: whose document of which type.

    It stands for the change feed an organisation's registry offers (mutations): the holder's worker reads
    it to supersede every earlier copy of changed data (:mod:`blauweknop.holder.freshness`), then forgets it.
    """

    id = models.BigAutoField(primary_key=True)
    holder_oin = models.CharField(max_length=20)
    document_type = models.CharField(max_length=40)
    bsn = models.CharField(max_length=9)
    changed_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, help_text="When the worker first saw it: it settles from then on.")

    class Meta:
        db_table = "holder_bronwijziging"

    def __repr__(self) -> str:  # the BSN stays out of logs and tracebacks
        return f"SourceChange(holder={self.holder_oin}, type={self.document_type}, pk={self.pk})"


class CorrectionRequest(models.Model):
    """A citizen's request to correct one field of their data at this holder (GDPR art. 16), and its decision.

    The holder keeps the BSN: it is the source organisation, which must find and change the record.
    """

    class State(models.TextChoices):
        RECEIVED = "ontvangen", "ontvangen"
        IN_PROGRESS = "in_behandeling", "in behandeling"
        CORRECTED = "aangepast", "aangepast"
        REJECTED = "afgewezen", "afgewezen"

    reference = models.CharField(max_length=16, unique=True, help_text="The kenmerk the citizen and staff quote.")
    holder = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="correction_requests")
    bsn = models.CharField(max_length=9)
    subject = models.CharField(max_length=64, db_index=True, help_text="Pseudonym of the citizen.")
    app_manager_oin = models.CharField(max_length=20, help_text="Whose portal the request came through: told of news.")
    document_type = models.CharField(max_length=40)
    path = models.CharField(max_length=100, help_text="The catalogue path of the field.")
    position = models.PositiveIntegerField(null=True, help_text="The item's position, for a field in a list.")
    current_value = models.JSONField(null=True, help_text="The value the holder had when the request came in.")
    item = models.JSONField(
        null=True, help_text="For a field in a list: the whole item as it was then, to find it again on accept."
    )
    proposed_value = models.TextField(help_text="What the citizen says is right, in their own words.")
    explanation = models.TextField()
    attachment_name = models.CharField(max_length=100, blank=True)
    attachment_type = models.CharField(max_length=40, blank=True)
    attachment = models.BinaryField(null=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED)
    received_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField(help_text="The date by which the holder decides: a month, or later when extended.")
    extension_reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True)
    decision_reason = models.TextField(blank=True)
    corrected_value = models.JSONField(null=True, help_text="The value written to the source when corrected.")
    handled_by = models.CharField(max_length=150, blank=True, help_text="The staff member who last acted.")
    notice_pending = models.BooleanField(default=False, help_text="The app manager is still to be told of news.")
    notice_tries = models.PositiveSmallIntegerField(default=0, help_text="Failed attempts to tell the app manager.")
    notice_next_try = models.DateTimeField(null=True, help_text="Not before this is the app manager told again.")
    request_key = models.CharField(
        max_length=64, blank=True, help_text="The portal's key for this request: sent again, the same request answers."
    )

    class Meta:
        indexes = [models.Index(fields=["holder", "state", "deadline"], name="correction_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["holder", "subject", "request_key"],
                condition=~models.Q(request_key=""),
                name="one_correction_per_request_key",
            )
        ]

    def __repr__(self) -> str:  # the BSN stays out of logs and tracebacks
        return f"CorrectionRequest({self.reference}, holder={self.holder_id}, state={self.state})"


class HolderStaffMember(models.Model):
    """A member of a holder's staff: logs in with two factors and handles the holder's correction requests."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="holder_staff")
    holder_oin = models.CharField(max_length=20, help_text="The organisation (a tenant of this deployment).")
