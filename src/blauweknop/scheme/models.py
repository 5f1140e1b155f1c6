"""Participants of the scheme and the scheme documents published about them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from blauweknop.protocol import scheme_document
from blauweknop.protocol.identifiers import is_valid_oin


def validate_oin(value: str) -> None:
    """Model-field validator for an OIN."""
    if not is_valid_oin(value):
        raise ValidationError(_("Een OIN heeft precies 20 cijfers."))


class OrganisationQuerySet(models.QuerySet["Organisation"]):
    def certified(self) -> OrganisationQuerySet:
        """Organisations that may act in the scheme right now."""
        return self.filter(certification=Organisation.Certification.CERTIFIED)

    def holders(self) -> OrganisationQuerySet:
        """Organisations that issue certified copies."""
        return self.filter(is_holder=True)


class Organisation(models.Model):
    """A participant: a holder, a requester, an app manager, or several of these."""

    class Certification(models.TextChoices):
        CERTIFIED = scheme_document.CERTIFIED, _("gecertificeerd")
        SUSPENDED = scheme_document.SUSPENDED, _("geschorst")
        REVOKED = scheme_document.REVOKED, _("ingetrokken")

    oin = models.CharField(_("OIN"), max_length=20, primary_key=True, validators=[validate_oin])
    name = models.CharField(_("naam"), max_length=200)
    slug = models.SlugField(_("adresdeel"), unique=True, help_text=_("Het deel van het webadres van deze organisatie."))
    description = models.JSONField(_("omschrijving"), default=dict, help_text=_("Eén zin per taal: nl en en."))
    contact = models.JSONField(_("contact"), default=dict, help_text=_("Telefoon en website voor hulp."))
    is_holder = models.BooleanField(_("gegevenshouder"), default=False)
    is_requester = models.BooleanField(_("gegevensvrager"), default=False)
    is_app_manager = models.BooleanField(_("appbeheerder"), default=False)
    document_types = models.JSONField(_("documentsoorten"), default=list, help_text=_("Wat deze houder uitgeeft."))
    certification = models.CharField(
        _("certificering"), max_length=20, choices=Certification.choices, default=Certification.CERTIFIED
    )
    certified_since = models.DateField(_("gecertificeerd sinds"), null=True, blank=True)
    base_url = models.URLField(_("basisadres"), blank=True, help_text=_("Leeg: deze installatie zelf."))
    public_jwks = models.JSONField(_("publieke sleutels"), default=dict)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisatie")
        verbose_name_plural = _("organisaties")

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        """Where this organisation's pages and APIs live."""
        return f"{(self.base_url or settings.BASE_URL).rstrip('/')}/{self.slug}"

    @property
    def issuer_url(self) -> str:
        """The ``iss`` of the credentials this organisation issues."""
        return self.url

    def roles(self) -> list[str]:
        """The scheme roles, as the scheme document names them."""
        flags = {scheme_document.HOLDER: self.is_holder, scheme_document.REQUESTER: self.is_requester}
        return [role for role, held in flags.items() if held]

    def scheme_entry(self, *, as_app_manager: bool = False) -> dict[str, Any]:
        """This organisation as an entry of the scheme document."""
        base = (self.base_url or settings.BASE_URL).rstrip("/")
        if as_app_manager:
            # The portal as the citizen's wallet: where a requester's link opens, and where standing fetches go.
            endpoints = {
                "api": f"{self.url}/api/v1",
                "wallet": f"{base}/delen/",
                "fetch": f"{base}/appbeheerder/api/v1",
            }
        else:
            endpoints = {"api": f"{self.url}/api/v1"}
        if self.is_holder:
            endpoints["issuer"] = self.issuer_url
        if self.is_requester and not as_app_manager:
            # A requester's own API (requests, answers) lives apart from any holder API of the same organisation.
            endpoints["requester"] = f"{base}/vragers/{self.slug}/api/v1"
        return scheme_document.participant_entry(
            oin=self.oin,
            name=self.name,
            roles=[scheme_document.APP_MANAGER] if as_app_manager else self.roles(),
            jwks=self.public_jwks,
            endpoints=endpoints,
            certification=self.certification,
            certified_since=self.certified_since.isoformat() if self.certified_since else None,
            document_types=self.document_types if self.is_holder else (),
            info={"description": self.description, "contact": self.contact},
        )


class PublishedDocumentQuerySet(models.QuerySet["PublishedDocument"]):
    def current(self) -> PublishedDocument | None:
        """The newest version that has not expired."""
        return self.filter(expires_at__gt=timezone.now()).order_by("-version").first()


class PublishedDocument(models.Model):
    """One signed version of the scheme document. The newest one is the one in force."""

    version = models.PositiveIntegerField(unique=True)
    token = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    objects = PublishedDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
