"""What a requester deployment keeps: its tenants, its staff, the requests it made and the data it received."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone


def new_state() -> str:
    """The OpenID4VP ``state`` of a request: random, unguessable, names the request in the answer."""
    return secrets.token_urlsafe(24)


def new_nonce() -> str:
    """The OpenID4VP ``nonce`` the wallet's Key Binding JWT must carry."""
    return secrets.token_urlsafe(24)


def _insert_once(model: type[models.Model], key: str, expires_at: datetime) -> bool:
    """Store ``key`` in ``model``'s table; ``False`` when it was there already. Call inside the caller's transaction.

    One statement that cannot fail on a known key (ON CONFLICT DO NOTHING, SQLite and PostgreSQL),
    so the caller's transaction needs no savepoint around it.
    """
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({column}, expires_at) VALUES (%s, %s) ON CONFLICT ({column}) DO NOTHING",  # noqa: S608
            [key, connection.ops.adapt_datetimefield_value(expires_at)],
        )
        return cursor.rowcount == 1


class RequesterQuerySet(models.QuerySet["Requester"]):
    def learn(self, oin: str, slug: str) -> Requester:
        """The requester ``oin`` as the scheme document describes it now, stored on first use or after a change."""
        requester = self.filter(pk=oin).first()
        if requester is not None and requester.slug == slug:
            return requester
        try:
            with transaction.atomic():
                requester, _ = self.update_or_create(oin=oin, defaults={"slug": slug})
        except IntegrityError:  # a concurrent request stored it first: the OIN is the only unique column
            requester = self.get(pk=oin)
        return requester


class Requester(models.Model):
    """An organisation this deployment asks data for (``BLAUWEKNOP_REQUESTER_OINS``).

    Like a holder's tenant, the row only remembers what the scheme document said when it was last used;
    the scheme document stays the source of its name, keys and addresses.
    """

    oin = models.CharField(max_length=20, primary_key=True)
    slug = models.TextField(help_text="The path segment its API is served under: /vragers/<slug>/api/v1/.")

    objects = RequesterQuerySet.as_manager()

    def __str__(self) -> str:
        return self.oin


class StaffMember(models.Model):
    """A member of a requester's staff: logs in to the requester portal with two factors."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="requester_staff")
    requester = models.ForeignKey(Requester, on_delete=models.CASCADE, related_name="staff")


class ShareRequest(models.Model):
    """One request for data (OpenID4VP authorization request) and where it stands."""

    class State(models.TextChoices):
        OPEN = "open", "open"  # waiting for the citizen
        APPROVED = "goedgekeurd", "goedgekeurd"  # answered with data
        REFUSED = "geweigerd", "geweigerd"  # the citizen said no
        WITHDRAWN = "ingetrokken", "ingetrokken"  # standing access the citizen withdrew
        EXPIRED = "verlopen", "verlopen"  # not answered in time, or standing access that ended

    class Access(models.TextChoices):
        ONCE = "eenmalig", "eenmalig"
        STANDING = "doorlopend", "doorlopend"

    requester = models.ForeignKey(Requester, on_delete=models.PROTECT, related_name="requests")
    code = models.CharField(max_length=16, unique=True, help_text="Short code for the citizen; in the request_uri.")
    state = models.CharField(max_length=64, unique=True, default=new_state)
    nonce = models.CharField(max_length=64, default=new_nonce)
    reference = models.CharField(max_length=100, blank=True, help_text="The requester's own reference (a file number).")
    purpose = models.JSONField(help_text='In plain words: {"nl": ..., "en": ...}.')
    legal_basis = models.CharField(max_length=100, help_text="An id from the scheme's register of legal bases.")
    retention_days = models.PositiveIntegerField()
    access = models.CharField(max_length=20, choices=Access.choices, default=Access.ONCE)
    access_until = models.DateField(null=True, blank=True, help_text="Standing access: the last day.")
    asked = models.JSONField(help_text="The credential queries as asked (see requester.asking).")
    subject = models.CharField(
        max_length=64,
        blank=True,
        help_text="Whom the request is for: a keyed pseudonym of the BSN the back office named, never the BSN; "
        "empty when it named nobody.",
    )
    request_object = models.TextField(help_text="The signed request object (oauth-authz-req+jwt).")
    status = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    consent = models.CharField(max_length=64, blank=True, help_text="The consent record id the portal gave.")
    app_manager = models.CharField(
        max_length=20, blank=True, help_text="OIN of the app manager that gave the consent: only it may end it here."
    )
    approved_until = models.DateField(null=True, blank=True, help_text="Standing access as the citizen approved it.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="The request can be answered until then.")
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When standing access ended (status ingetrokken or verlopen): as the app manager told, or when a "
        "fetch found out. From then on nothing is fetched under it.",
    )
    not_reached = models.JSONField(
        default=list,
        blank=True,
        help_text="Standing access: the OINs of the holders that gave no answer to the last fetch, as the app "
        "manager said (nietBereikt). What they hold is missing from that fetch; empty when it was whole.",
    )

    class Meta:
        ordering = ["-created_at"]


class ReceivedCredential(models.Model):
    """The disclosed claims of one verified presentation: only what the citizen approved, nothing else."""

    class Via(models.TextChoices):
        ANSWER = "antwoord", "antwoord"  # the wallet's answer to the request
        STANDING = "ophaling", "ophaling"  # a fetch under standing access
        LAW = "wet", "wet"  # fetched on a legal basis, without asking

    request = models.ForeignKey(ShareRequest, null=True, on_delete=models.CASCADE, related_name="received")
    requester = models.ForeignKey(Requester, on_delete=models.PROTECT, related_name="received")
    via = models.CharField(max_length=20, choices=Via.choices)
    query_id = models.CharField(max_length=64, blank=True)
    issuer_oin = models.CharField(max_length=20)
    vct = models.TextField()
    claims = models.JSONField(help_text="The disclosed claims only.")
    received_at = models.DateTimeField(default=timezone.now)
    delete_after = models.DateTimeField(db_index=True, help_text="The end of the retention term.")
    # The copy's status reference and end, not its signature: enough to tell, whenever staff look, whether
    # the holder superseded it since (its data changed) or it expired. Empty for rows received before.
    status_uri = models.TextField(blank=True, help_text="The status list the copy's status is in.")
    status_idx = models.PositiveIntegerField(null=True, blank=True, help_text="The copy's index in that list.")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="The copy's own end (exp).")

    class Meta:
        ordering = ["-received_at"]


class UsedPresentation(models.Model):
    """A presentation already accepted: the same one again is a replay. Kept until its KB-JWT is too old."""

    digest = models.CharField(max_length=64, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)

    @classmethod
    def use(cls, digest: str, expires_at: datetime) -> bool:
        """Mark the presentation ``digest`` received; ``False`` when it was received before (a replay)."""
        return _insert_once(cls, digest, expires_at)


class UsedClientAssertion(models.Model):
    """A client assertion (private_key_jwt) already accepted, by a digest of its issuer and jti, until it expires."""

    key = models.CharField(max_length=64, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)

    @classmethod
    def use(cls, key: str, expires_at: datetime) -> bool:
        """Mark the assertion ``key`` (:meth:`ClientAssertion.replay_key`) used; ``False`` when it was used before."""
        return _insert_once(cls, key, expires_at)
