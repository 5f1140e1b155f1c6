"""Publishing the scheme document: what the operator signs, from the participants in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from blauweknop import keystore
from blauweknop.protocol import scheme_document
from blauweknop.protocol.jwk import SigningKey, jwks
from blauweknop.scheme import audit, catalogue, keys
from blauweknop.scheme.models import OPERATOR, Key, Organisation, PublishedDocument, PublishedDocumentType

OPERATOR_KEY = OPERATOR
VALID_FOR = 7 * 86400
RENEW_AFTER = 86400  # the worker re-signs daily, so a document in force always has days left before it expires


def operator_jwks() -> dict:
    """The scheme operator's public keys, as published at ``/stelsel/api/v1/jwks.json``: next, current, retiring.

    Before the first publication the register has none yet: then the key it will sign with.
    """
    published = [key.public_jwk for key in Key.objects.filter(owner=OPERATOR).published()]
    return jwks(published or [keystore.signing_key(OPERATOR).public_jwk])


def operator_key() -> SigningKey:
    """The private key of the operator's current key; the deployment's own key becomes the first one.

    The scheme document is signed with it, and so is what the operator sends as a client (its monitoring).
    """
    kid = keys.signing_kid(OPERATOR)
    if kid is not None and settings.DEMO and not keystore.holds(OPERATOR, kid):
        # A demo whose key folder was made anew: it signs with what it has on disk, as seed_demo does.
        Key.objects.filter(owner=OPERATOR, kid=kid).update(state=Key.State.RETIRED)
        kid = None
    if kid is None:
        kid = keys.add(OPERATOR, keystore.signing_key(OPERATOR).public_jwk).kid
    return keystore.signing_key(OPERATOR, kid)


@transaction.atomic
def publish() -> PublishedDocument:
    """Sign and store the next version of the scheme document, with every participant in it."""
    return _sign_after(_newest_locked())


@transaction.atomic
def renew(now: datetime) -> PublishedDocument | None:
    """Sign the next version when the newest is a day old at ``now``; ``None`` when it is not due.

    Nothing is signed before the operator's first publication: that stays a deliberate act. Safe
    on two workers at once: the second waits for the first and then finds a fresh document.
    """
    newest = _newest_locked()
    if newest is None or now - newest.published_at < timedelta(seconds=RENEW_AFTER):
        return None
    return _sign_after(newest)


def in_force() -> PublishedDocument | None:
    """The newest document that has not expired, or ``None``. Only reads: the worker renews it."""
    return PublishedDocument.objects.current()


def _newest_locked() -> PublishedDocument | None:
    """The newest version, read after locking it, so a version committed while waiting is the one seen."""
    PublishedDocument.objects.select_for_update().order_by("-version").values_list("pk", flat=True).first()
    return PublishedDocument.objects.order_by("-version").first()


def _sign_after(latest: PublishedDocument | None) -> PublishedDocument:
    version = latest.version + 1 if latest else 1
    # An applicant is not in the scheme until the operator certifies it.
    organisations = Organisation.objects.exclude(certification=Organisation.Certification.APPLIED).order_by("oin")
    # Every version of each document type: a copy of an older version keeps its meaning.
    published_types = PublishedDocumentType.objects.values_list("definition", flat=True)
    payload = scheme_document.build(
        iss=settings.SCHEME_URL,
        version=version,
        organisations=[o.scheme_entry() for o in organisations if o.is_holder or o.is_requester],
        app_managers=[o.scheme_entry(as_app_manager=True) for o in organisations if o.is_app_manager],
        document_types=[t.publish() for t in catalogue.every_version(published_types)],
        legal_bases=catalogue.legal_bases(),
        operator_revoked_kids=keys.revoked_kids(OPERATOR),
        # The audit trail as it is now, so that a later cut or change of it shows (audit.missing_since).
        audit=audit.head(),
        valid_for=VALID_FOR,
    )
    token = scheme_document.sign(payload, operator_key())
    expires_at = datetime.fromtimestamp(payload["exp"], UTC)
    return PublishedDocument.objects.create(version=version, token=token, expires_at=expires_at)
