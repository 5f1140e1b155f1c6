"""What the portal keeps per session beside the session itself: each holder's copies, in a row of its own.

Django's database session saves the whole session at the end of every request that changed it, so
two presses at the same time would each write back only their own holder's copies (the last save
wins). One row per session and holder, written with an upsert, cannot lose another holder's copies.
The rows belong to the session: deleting the session (logging out, pruning) deletes them.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from django.contrib.sessions.models import Session
from django.db import models
from django.utils import timezone

from blauweknop.db import lock_name
from blauweknop.protocol.client_assertion import ClientAssertion
from blauweknop.protocol.validity import DEFAULT_LEEWAY


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


def new_record_id() -> str:
    """A consent record's id: random, in receipts and in the requester's API, never guessable."""
    return secrets.token_urlsafe(18)


class OpenedRequest(models.Model):
    """A requester's request (OpenID4VP, verified) that a citizen opened and has not decided on yet.

    Bound to the session that opened it: nobody else can decide on it. The signed request object is
    kept as fetched, so the decision is made on exactly what the citizen was shown. The same link opened
    again in the session finds this one (``link``), and a citizen keeps only a few undecided ones.
    """

    id = models.CharField(max_length=32, primary_key=True, default=new_record_id)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    citizen = models.CharField(max_length=64, blank=True, db_index=True)  # keyed pseudonym, never the BSN
    link = models.CharField(max_length=32, blank=True)  # digest of client_id and request_uri
    client_id = models.CharField(max_length=20)  # the requester's OIN
    request_object = models.TextField()
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    consent = models.OneToOneField("Consent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # What the done page tells (blauweknop.portal.sharing): on the row, not in the session, which two tabs
    # saving at once would overwrite (attacker review A2).
    outcome = models.JSONField(null=True, blank=True)


class Consent(models.Model):
    """One decision of a citizen on a request: an ISO/IEC TS 27560 consent record (blauweknop.protocol.consent_receipt).

    Also kept for a refusal (the record of a "no"). Standing access keeps what a later fetch needs
    without the citizen: the BSN and the private wallet key for this consent, sealed under the vault key.
    """

    class State(models.TextChoices):
        GIVEN = "gegeven", "gegeven"
        REFUSED = "geweigerd", "geweigerd"
        WITHDRAWN = "ingetrokken", "ingetrokken"
        EXPIRED = "verlopen", "verlopen"

    class Access(models.TextChoices):
        ONCE = "eenmalig", "eenmalig"
        STANDING = "doorlopend", "doorlopend"

    id = models.CharField(max_length=32, primary_key=True, default=new_record_id)
    citizen = models.CharField(max_length=64, db_index=True)  # keyed pseudonym, never the BSN
    requester_oin = models.CharField(max_length=20)
    requester_name = models.CharField(max_length=200)
    purpose = models.JSONField()  # {"nl": ..., "en": ...}, as the requester signed it
    legal_basis = models.CharField(max_length=100)  # id in the scheme's register
    retention_days = models.PositiveIntegerField()
    access = models.CharField(max_length=20, choices=Access.choices)
    asked = models.JSONField()  # the credential queries as asked, each claim required or optional
    approved = models.JSONField(default=dict)  # {query id: [claim paths]}; empty when refused
    valid_until = models.DateTimeField(null=True, blank=True)  # standing access: the end the citizen approved
    state = models.CharField(max_length=20, choices=State.choices)
    decided_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    request_object = models.TextField()  # what the citizen decided on, signed by the requester
    sealed = models.BinaryField(null=True, blank=True)  # standing access only: BSN and wallet key, sealed

    class Meta:
        ordering = ["-decided_at"]

    def __repr__(self) -> str:
        return f"Consent(pk={self.pk}, state={self.state})"


class ConsentEvent(models.Model):
    """Something that happened under a consent: given, refused, withdrawn, expired, a delivery or a refused fetch."""

    class Kind(models.TextChoices):
        GIVEN = "gegeven", "gegeven"
        REFUSED = "geweigerd", "geweigerd"
        WITHDRAWN = "ingetrokken", "ingetrokken"
        EXPIRED = "verlopen", "verlopen"
        DELIVERED = "geleverd", "geleverd"  # data presented to the requester (the answer, or a standing fetch)
        FETCH_REFUSED = "ophalen-geweigerd", "ophalen-geweigerd"  # a standing fetch the portal refused
        NOT_DELIVERED = "niet-geleverd", "niet-geleverd"  # approved, but nothing reached the requester

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    detail = models.JSONField(default=dict)  # e.g. which holders and fields; never a value, never a BSN

    class Meta:
        ordering = ["at"]


class RefusalNotice(models.Model):
    """A standing fetch this portal refused, to be told to a holder that shared under the consent (the outbox).

    The worker tells it (:mod:`blauweknop.portal.refusal_notices`), never the fetch itself. One per consent,
    holder, refusal code and hour (``hour``): a requester hammering a withdrawn consent cannot fill this table.
    A notice told (or given up) stays until its hour is over, so that no second one is made in that hour.
    """

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="+")
    holder_oin = models.CharField(max_length=20)
    code = models.CharField(max_length=30)  # the fetch API's problem code the requester got
    hour = models.DateTimeField()  # the start of the hour the refusal fell in
    tries = models.PositiveSmallIntegerField(default=0)  # failed attempts to tell the holder
    next_try = models.DateTimeField(null=True)  # not before this is the holder told again
    done_at = models.DateTimeField(null=True, db_index=True)  # told, refused for good, or given up

    class Meta:
        db_table = "portal_weigeringsmeldingen"
        constraints = [
            models.UniqueConstraint(fields=["consent", "holder_oin", "code", "hour"], name="one_notice_an_hour")
        ]


class EndNotice(models.Model):
    """A standing consent that ended, to be told to its requester at once (the outbox; docs/plus.md §4).

    Queued in the transaction that ends the consent (withdrawn by the citizen, or run out), one per consent;
    the worker tells it (:mod:`blauweknop.portal.end_notices`). ``told_at`` says from when the requester knew:
    the scheme operator's monitoring counts only the fetches it tried after that (:mod:`blauweknop.portal.figures`).
    """

    class Reason(models.TextChoices):
        WITHDRAWN = "ingetrokken", "ingetrokken"
        EXPIRED = "verlopen", "verlopen"

    consent = models.OneToOneField(Consent, on_delete=models.CASCADE, related_name="end_notice")
    requester_oin = models.CharField(max_length=20)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    tries = models.PositiveSmallIntegerField(default=0)  # failed attempts to tell the requester
    next_try = models.DateTimeField(null=True)  # not before this is the requester told again
    done_at = models.DateTimeField(null=True, db_index=True)  # told, refused for good, or given up
    told_at = models.DateTimeField(null=True)  # when the requester took it; empty if it never did

    class Meta:
        db_table = "portal_eindmeldingen"


class UsedClientAssertion(models.Model):
    """A client assertion (private_key_jwt) already accepted, a requester's or a holder's, by issuer and jti."""

    key = models.CharField(max_length=64, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)

    @classmethod
    def use(cls, assertion: ClientAssertion) -> bool:
        """Mark ``assertion`` used; ``False`` if it was used before. Inside the caller's write transaction."""
        key = assertion.replay_key()
        lock_name(f"client-assertion:{key}")
        if cls.objects.filter(pk=key).exists():
            return False
        cls.objects.create(key=key, expires_at=datetime.fromtimestamp(assertion.expires_at + DEFAULT_LEEWAY, UTC))
        return True


class CorrectionTicket(models.Model):
    """A correction request the citizen sent through this portal: where it went, to show its state and tell of news.

    The request itself stays at the holder; the portal asks the holder for its state. An e-mail address is
    kept only when the citizen asked to be told, and erased once told.
    """

    subject = models.CharField(max_length=64, db_index=True, help_text="Pseudonym of the citizen.")
    holder_oin = models.CharField(max_length=20)
    reference = models.CharField(max_length=16, help_text="The holder's kenmerk of the request.")
    asked_at = models.DateTimeField(default=timezone.now)
    email = models.EmailField(blank=True, help_text="Where to send 'there is news'; empty when not asked or sent.")
    news_at = models.DateTimeField(null=True, help_text="When the holder said there is news.")
    told_at = models.DateTimeField(null=True, help_text="When the e-mail about the news was sent.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["holder_oin", "reference"], name="one_ticket_per_holder_reference")
        ]


class DemoInboxMessage(models.Model):
    """An e-mail the demo 'sent': the demo's mail backend stores it here, for the demo inbox page."""

    to = models.TextField()
    subject = models.TextField()
    body = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)
