"""Participants of the scheme and the scheme documents published about them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from blauweknop.protocol import application, scheme_document
from blauweknop.protocol.identifiers import is_valid_oin
from blauweknop.protocol.jwk import thumbprint


def validate_oin(value: str) -> None:
    """Model-field validator for an OIN."""
    if not is_valid_oin(value):
        raise ValidationError(_("Een OIN heeft precies 20 cijfers."))


PUBLIC_CONTACT = ("telefoon", "website")


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
        # Applied: waiting for the operator; never in a scheme document until certified.
        APPLIED = "applied", _("aangemeld")
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
    kind = models.CharField(
        _("soort organisatie"),
        max_length=20,
        choices=[(kind, kind) for kind in scheme_document.KINDS],
        default=scheme_document.OTHER_KIND,
        help_text=_(
            "Voor de openbare cijfers: gemeente, rijk, waterschap, bank, woningcorporatie, schuldhulp of overig."
        ),
    )
    certification = models.CharField(
        _("certificering"), max_length=20, choices=Certification.choices, default=Certification.CERTIFIED
    )
    certified_since = models.DateField(_("gecertificeerd sinds"), null=True, blank=True)
    base_url = models.URLField(_("basisadres"), blank=True, help_text=_("Leeg: deze installatie zelf."))

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

    @property
    def keys(self) -> KeyQuerySet:
        """This organisation's public keys, in every state."""
        return Key.objects.filter(owner=self.oin)

    @property
    def public_contact(self) -> dict[str, str]:
        """Where citizens can ask, as the scheme document publishes it: the e-mail for key notices stays here."""
        return {name: value for name, value in self.contact.items() if name in PUBLIC_CONTACT}

    def roles(self) -> list[str]:
        """The scheme roles, as the scheme document names them."""
        flags = {scheme_document.HOLDER: self.is_holder, scheme_document.REQUESTER: self.is_requester}
        return [role for role, held in flags.items() if held]

    def scheme_entry(self, *, as_app_manager: bool = False) -> dict[str, Any]:
        """This organisation as an entry of the scheme document."""
        roles = [scheme_document.APP_MANAGER] if as_app_manager else self.roles()
        endpoints = application.endpoints(self.base_url or settings.BASE_URL, self.slug, roles)
        revoked = list(self.keys.filter(state=Key.State.REVOKED))
        return scheme_document.participant_entry(
            oin=self.oin,
            name=self.name,
            roles=roles,
            jwks={"keys": [k.public_jwk for k in self.keys.published()]},
            endpoints=endpoints,
            certification=self.certification,
            certified_since=self.certified_since.isoformat() if self.certified_since else None,
            document_types=self.document_types if self.is_holder else (),
            info={"description": self.description, "contact": self.public_contact, "soort": self.kind},
            signing_kid=self.keys.filter(state=Key.State.CURRENT).values_list("kid", flat=True).first(),
            revoked_kids=[key.kid for key in revoked],
            revoked_thumbprints=[thumbprint(key.public_jwk) for key in revoked],
        )


class Application(models.Model):
    """An application to join, kept apart from the participants until the operator certifies it.

    An application proves only that its sender holds the one key in it, nothing about the OIN it names (OINs are
    public). So it takes nothing from anyone: several may name one OIN or slug while they wait, its key is not in
    the register, and a refused one leaves the OIN, slug and key free. Certifying one makes the participant
    (:class:`Organisation`) and registers its key (``blauweknop.scheme.lifecycle.certify``).
    """

    class State(models.TextChoices):
        WAITING = "waiting", _("aangemeld")
        CERTIFIED = "certified", _("gecertificeerd")
        REFUSED = "refused", _("geweigerd")

    oin = models.CharField(_("OIN"), max_length=20, db_index=True, validators=[validate_oin])
    name = models.CharField(_("naam"), max_length=200)
    slug = models.SlugField(_("adresdeel"))
    fields = models.JSONField(_("gegevens"), help_text=_("De velden van de deelnemer die zij vraagt te worden."))
    kid = models.CharField(_("sleutel-id"), max_length=100)
    public_jwk = models.JSONField(
        _("publieke sleutel"), help_text=_("De sleutel waarmee de aanmelding is ondertekend.")
    )
    state = models.CharField(_("stand"), max_length=10, choices=State.choices, default=State.WAITING)
    received_at = models.DateTimeField(_("ontvangen op"), default=timezone.now)
    decided_at = models.DateTimeField(_("besloten op"), null=True, blank=True)

    class Meta:
        ordering = ["received_at", "pk"]
        verbose_name = _("aanmelding")
        verbose_name_plural = _("aanmeldingen")

    def __str__(self) -> str:
        return f"{self.name} ({self.oin})"

    def as_participant(self) -> Organisation:
        """The participant this application asks to become, not saved: to show it, and to make it on certification."""
        return Organisation(oin=self.oin, certification=Organisation.Certification.CERTIFIED, **self.fields)


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


OPERATOR = "stelsel"  # the owner of the scheme operator's own keys


class KeyQuerySet(models.QuerySet["Key"]):
    def published(self) -> KeyQuerySet:
        """The keys a scheme document lists for verifying: next, current and retiring ones."""
        return self.filter(state__in=[Key.State.NEXT, Key.State.CURRENT, Key.State.RETIRING]).order_by("added_at", "pk")


class Key(models.Model):
    """A public signing key of a participant (by OIN) or of the operator (``stelsel``), and where it is in its life.

    next: published, so every verifier knows it, but not signing yet; current: what the owner signs with now;
    retiring: no longer signs, still verifies the copies it signed until they expire; retired: left out of the
    scheme document; revoked: compromised or withdrawn, its signatures fail with ``key_revoked`` at once.
    """

    class State(models.TextChoices):
        NEXT = "next", _("nieuw, nog niet in gebruik")
        CURRENT = "current", _("in gebruik")
        RETIRING = "retiring", _("uitgefaseerd")
        RETIRED = "retired", _("vervallen")
        REVOKED = "revoked", _("ingetrokken")

    owner = models.CharField(_("eigenaar"), max_length=20, help_text=_("Een OIN, of 'stelsel' voor de beheerder."))
    kid = models.CharField(_("sleutel-id"), max_length=100)
    public_jwk = models.JSONField(_("publieke sleutel"))
    state = models.CharField(_("stand"), max_length=10, choices=State.choices, default=State.NEXT)
    added_at = models.DateTimeField(_("toegevoegd op"), default=timezone.now)
    # When a next key may become current: by then every verifier has a scheme document that lists it.
    usable_from = models.DateTimeField(_("bruikbaar vanaf"), null=True, blank=True)
    # When a retiring key leaves the scheme document: the last copy it signed has expired by then.
    retire_at = models.DateTimeField(_("vervalt op"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("ingetrokken op"), null=True, blank=True)
    reason = models.TextField(_("reden"), blank=True)

    objects = KeyQuerySet.as_manager()

    class Meta:
        ordering = ["owner", "added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "kid"], name="scheme_key_once_per_owner"),
            models.UniqueConstraint(
                fields=["owner"], condition=models.Q(state="current"), name="scheme_key_one_current_per_owner"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner}/{self.kid} ({self.state})"


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Refuses to change or remove entries in bulk: these bypass the model's own ``save`` and ``delete``."""

    def update(self, **kwargs: Any) -> int:
        raise ValueError("Audit entries cannot be changed.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise ValueError("Audit entries cannot be changed.")  # before its transaction begins: the caller's stays usable

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit entries cannot be removed.")


class AuditEntry(models.Model):
    """One action on the scheme (an application, a certification step, a key change, a catalogue version).

    Append-only: the database refuses changes (triggers, migration 0002), this model and its queryset refuse
    them too, and each entry holds the digest of the one before it, so an edit or a removal in the middle breaks
    the chain (``blauweknop.scheme.audit.verify_chain``). A removal of the newest entries leaves the chain whole;
    each scheme document names the count and the newest digest, so ``audit.missing_since`` finds that.
    """

    at = models.DateTimeField(_("tijdstip"), default=timezone.now)
    actor = models.CharField(
        _("door"), max_length=150, help_text=_("De gebruikersnaam van de beheerder, of wie anders.")
    )
    action = models.CharField(_("handeling"), max_length=40)
    subject = models.CharField(_("over"), max_length=100, db_index=True, help_text=_("Een OIN, of wat anders."))
    reason = models.TextField(_("reden"), blank=True)
    details = models.JSONField(_("details"), default=dict)
    previous = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, unique=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("regel in het logboek")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("An audit entry cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("An audit entry cannot be removed.")


class PublishedDocumentType(models.Model):
    """A version of a document type that the operator published after the built-in catalogue.

    Older versions stay in the scheme document, so copies of an older version keep their meaning.
    """

    type_id = models.CharField(_("documentsoort"), max_length=60)
    version = models.PositiveIntegerField(_("versie"))
    definition = models.JSONField(_("definitie"))
    published_at = models.DateTimeField(_("gepubliceerd op"), default=timezone.now)
    published_by = models.CharField(_("door"), max_length=150)

    class Meta:
        ordering = ["type_id", "version"]
        constraints = [models.UniqueConstraint(fields=["type_id", "version"], name="scheme_type_version_once")]


class OperatorMember(models.Model):
    """A staff member of the scheme operator: may review applications, certify, suspend, revoke, rotate, publish."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator_member")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.user.get_username()
