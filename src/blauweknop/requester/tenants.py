"""The organisations a requester deployment asks data for, as the verified scheme document describes them.

A deployment names its requesters by OIN only (``BLAUWEKNOP_REQUESTER_OINS``) and holds their private
keys; their names, addresses and public keys come from the scheme document. A requester's API lives at
its ``endpoints.requester`` (``…/vragers/<slug>/api/v1``): the slug is the path segment before ``/api/v1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from blauweknop.api import ApiProblem
from blauweknop.protocol.scheme_document import APP_MANAGER, REQUESTER, Participant, SchemeDocument
from blauweknop.requester.models import Requester
from blauweknop.tenancy import Acting

API_SUFFIX = "/api/v1"


class NotHere(ApiProblem):
    """No requester of this deployment is served at this address (404), or it may not act now (403)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(403 if code == "not_certified" else 404, code, detail)


@dataclass(frozen=True)
class RequesterTenant(Acting):
    """One requester as it acts on a call: what the scheme document says now, and its row here.

    Its private key (:meth:`Acting.signing_key`) signs its request objects and client assertions.
    """

    requester: Requester
    scheme: SchemeDocument

    @property
    def api_url(self) -> str:
        """Its API's registered address, without a trailing slash: what audiences and request_uris start with."""
        return self.participant.endpoints["requester"].rstrip("/")


def slug_of(requester_url: str) -> str:
    """The slug in a requester's API address ``…/vragers/<slug>/api/v1``."""
    path = urlsplit(requester_url).path.rstrip("/").removesuffix(API_SUFFIX)
    return path.rpartition("/")[2]


def _ours(scheme: SchemeDocument) -> list[Participant]:
    """This deployment's requesters that the scheme document lists as requesters with an API address."""
    found = (scheme.organisations.get(oin) for oin in settings.REQUESTER_OINS)
    return [p for p in found if p and REQUESTER in p.roles and p.endpoints.get("requester")]


def _tenant(scheme: SchemeDocument, participant: Participant) -> RequesterTenant:
    if not participant.is_certified:  # refused before anything is used up or written
        raise NotHere("not_certified", f"{participant.name} may not ask for data now.")
    slug = slug_of(participant.endpoints["requester"])
    return RequesterTenant(participant, Requester.objects.learn(participant.oin, slug), scheme)


def at(scheme: SchemeDocument, slug: str) -> RequesterTenant:
    """The requester served at ``slug``, its row stored or brought up to date on first use. Blocking."""
    for participant in _ours(scheme):
        if slug_of(participant.endpoints["requester"]) == slug:
            return _tenant(scheme, participant)
    raise NotHere("not_found", "No requester in this deployment is served under this address.")


def of_oin(scheme: SchemeDocument, oin: str) -> RequesterTenant:
    """This deployment's requester ``oin`` (for the staff pages and tasks). Blocking."""
    for participant in _ours(scheme):
        if participant.oin == oin:
            return _tenant(scheme, participant)
    raise NotHere("not_found", "This deployment does not ask data for this organisation.")


def wallet(scheme: SchemeDocument) -> Participant:
    """The app manager whose wallet this deployment's requesters send citizens to (``BLAUWEKNOP_PORTAL_OIN``).

    Its ``endpoints.wallet`` opens a request; its ``endpoints.fetch`` answers standing fetches.
    """
    return scheme.certified(settings.PORTAL_OIN, APP_MANAGER)
