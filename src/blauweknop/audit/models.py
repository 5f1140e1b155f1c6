"""The access log: who read which data of which citizen, when, why, and on what basis."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from blauweknop.display import ACTIVITIES, FETCHED, PRINTED, SEARCHED
from blauweknop.pseudonyms import pseudonym


def new_trace_id() -> str:
    """A W3C trace-context trace id (16 random bytes, hex)."""
    return secrets.token_hex(16)


def new_span_id() -> str:
    """A W3C trace-context span id (8 random bytes, hex)."""
    return secrets.token_hex(8)


class AccessRecordQuerySet(models.QuerySet["AccessRecord"]):
    def about(self, bsn: str) -> AccessRecordQuerySet:
        """The records about the citizen with ``bsn``, newest first."""
        return self.filter(subject=pseudonym(bsn)).order_by("-at")


class AccessRecord(models.Model):
    """One read of a citizen's data, with the fields of the Logboek Dataverwerkingen and VNG logging."""

    class Activity(models.TextChoices):
        FETCHED = FETCHED, ACTIVITIES[FETCHED]
        PRINTED = PRINTED, ACTIVITIES[PRINTED]
        SEARCHED = SEARCHED, ACTIVITIES[SEARCHED]

    trace_id = models.CharField(max_length=32, default=new_trace_id)
    span_id = models.CharField(max_length=16, default=new_span_id)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    subject = models.CharField(max_length=64, db_index=True, help_text=_("Pseudoniem van de burger, nooit het BSN."))
    holder = models.ForeignKey("holder.Tenant", on_delete=models.PROTECT, related_name="access_records")
    actor_oin = models.CharField(max_length=20, help_text=_("Wie vroeg: de app of de organisatie."))
    activity = models.CharField(max_length=40, choices=Activity.choices)
    purpose = models.CharField(max_length=200)
    legal_basis = models.CharField(max_length=100)
    document_type = models.CharField(max_length=40)
    fields = models.JSONField(default=list)
    # A share (variant Plus): the app manager that asked, and its consent record. A refusal the app manager
    # makes later under that consent is recorded about the same citizen (blauweknop.holder.refused_fetches).
    app_manager_oin = models.CharField(max_length=20, blank=True, default="")
    consent = models.CharField(max_length=100, blank=True, default="")

    objects = AccessRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        # A citizen's page of records at one holder, newest first, ties broken by span id.
        indexes = [
            models.Index(fields=["holder", "subject", "-at", "-span_id"], name="records_of_subject"),
            models.Index(fields=["holder", "app_manager_oin", "consent"], name="records_of_consent"),
        ]
