"""The organisations a holder deployment issues for, as the verified scheme document describes them.

A deployment names its tenants by OIN only (``BLAUWEKNOP_HOLDER_OINS``) and holds their private
keys; their names, issuer URLs, public keys and document types come from the scheme document. The
URL slug a tenant is served under is the last path segment of its issuer URL.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.conf import settings

from blauweknop import document_types
from blauweknop.document_types import Catalogue
from blauweknop.holder.errors import NotCertified, NotHere
from blauweknop.holder.models import Tenant
from blauweknop.protocol.jwk import KeySet
from blauweknop.protocol.scheme_document import HOLDER, Participant, SchemeDocument, issuer_slug
from blauweknop.tenancy import Acting


@dataclass(frozen=True)
class Holder(Acting):
    """One tenant as it acts on a request: what the scheme document says now, and its row here."""

    tenant: Tenant
    catalogue: Catalogue

    @property
    def issuer_url(self) -> str:
        return self.tenant.issuer_url

    @property
    def keys(self) -> KeySet:
        """The public keys the scheme document lists for this holder."""
        return self.participant.keys

    def issues(self, type_id: str) -> bool:
        """Whether the scheme document lists ``type_id`` among what this holder issues."""
        return type_id in self.participant.document_types


def shared_slugs(scheme: SchemeDocument) -> set[str]:
    """The slugs under which the scheme document puts two or more of this deployment's tenants: one is unreachable."""
    slugs = Counter(
        issuer_slug(participant.endpoints.get("issuer", ""))
        for oin in settings.HOLDER_OINS
        if (participant := scheme.organisations.get(oin)) is not None and participant.endpoints.get("issuer")
    )
    return {slug for slug, count in slugs.items() if count > 1}


def find(scheme: SchemeDocument, slug: str) -> Participant:
    """This deployment's tenant served at ``slug``. Reads no database.

    :class:`NotHere` when none is; :class:`NotCertified` when the scheme document lists it but suspended or
    revoked it: the address is right, acting is what is refused now (403, not 404).
    """
    for oin in settings.HOLDER_OINS:
        participant = scheme.organisations.get(oin)
        issuer = participant.endpoints.get("issuer", "") if participant else ""
        if participant and HOLDER in participant.roles and issuer and issuer_slug(issuer) == slug:
            if not participant.is_certified:  # refused before anything is used up or written
                raise NotCertified("not_certified", f"{participant.name} may not issue certified copies now.")
            return participant
    raise NotHere("not_found", "No holder in this deployment issues credentials under this address.")


def at(scheme: SchemeDocument, slug: str) -> Holder:
    """The tenant served at ``slug``, its row stored or brought up to date on first use. Blocking."""
    participant = find(scheme, slug)
    tenant = Tenant.objects.learn(participant.oin, slug, participant.endpoints["issuer"])
    return Holder(participant, tenant, document_types.of(scheme))
