"""Publishing the scheme document: what the operator signs, from the participants in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from blauweknop import keystore
from blauweknop.protocol import scheme_document
from blauweknop.protocol.jwk import jwks
from blauweknop.scheme import catalogue
from blauweknop.scheme.models import Organisation, PublishedDocument

OPERATOR_KEY = "stelsel"
VALID_FOR = 7 * 86400
RENEW_AFTER = 86400  # re-signed daily, so a document in force always has days left before it expires


def operator_jwks() -> dict:
    """The scheme operator's public keys, as published at ``/stelsel/api/v1/jwks.json``."""
    return jwks([keystore.signing_key(OPERATOR_KEY).public_jwk])


@transaction.atomic
def publish() -> PublishedDocument:
    """Sign and store the next version of the scheme document, with every participant in it."""
    latest = PublishedDocument.objects.select_for_update().order_by("-version").first()
    version = latest.version + 1 if latest else 1
    organisations = Organisation.objects.order_by("oin")
    payload = scheme_document.build(
        iss=settings.SCHEME_URL,
        version=version,
        organisations=[o.scheme_entry() for o in organisations if o.is_holder or o.is_requester],
        app_managers=[o.scheme_entry(as_app_manager=True) for o in organisations if o.is_app_manager],
        document_types=[t.publish() for t in catalogue.document_types().values()],
        legal_bases=catalogue.legal_bases(),
        valid_for=VALID_FOR,
    )
    token = scheme_document.sign(payload, keystore.signing_key(OPERATOR_KEY))
    expires_at = datetime.fromtimestamp(payload["exp"], UTC)
    return PublishedDocument.objects.create(version=version, token=token, expires_at=expires_at)


def in_force() -> PublishedDocument | None:
    """The document in force, re-signed when it is a day old; ``None`` if nothing was ever published.

    Renewing on read keeps a running operator's document from expiring without a scheduler; the
    first publication stays a deliberate act of the operator.
    """
    current = PublishedDocument.objects.current()
    if current is not None and timezone.now() - current.published_at < timedelta(seconds=RENEW_AFTER):
        return current
    if current is None and not PublishedDocument.objects.exists():
        return None
    return publish()
