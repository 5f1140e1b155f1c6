"""Public keys of participants and of the operator through their life: next, current, retiring, retired, revoked.

A new key is published as *next* first: every verifier learns it with its next refresh of the scheme
document, before anything is signed with it. Once that has surely happened (``usable_from``), the worker
(:func:`rotate_due`) makes it *current*: the scheme entry's ``signing_kid`` names it, and the owner signs
with it from then on. The old current key is *retiring*: still published, so what it signed keeps verifying
until the last of it has expired (``retire_at``), then *retired* and left out. A *revoked* key is left out
at once and listed in the entry's ``revoked_kids``: whatever it signed fails with ``key_revoked``.

The operator's own keys (owner ``stelsel``) live the same life, with a longer notice: every participant
adds a new operator key to its configured trust anchor (``BLAUWEKNOP_SCHEME_JWKS``) by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from blauweknop import keystore
from blauweknop.db import lock_name, write_transaction
from blauweknop.protocol.errors import InvalidInput
from blauweknop.protocol.jwk import checked_public_jwk, thumbprint
from blauweknop.scheme import audit, publication
from blauweknop.scheme.client import REFRESH_AFTER
from blauweknop.scheme.models import OPERATOR, Key, Organisation

logger = logging.getLogger(__name__)

# A next key signs only once every verifier has refreshed twice: all of them know it by then.
NOTICE = timedelta(seconds=2 * REFRESH_AFTER)
# The operator's next key: two weeks for every participant to add it to its trust anchor.
OPERATOR_NOTICE = timedelta(days=14)
# What a participant signs lives at most this long: the holders' copies (holder.issuing.VALID_FOR).
SIGNED_LIFETIME = timedelta(days=90)
LEEWAY = timedelta(days=1)  # clocks differ, and a copy verified on its last day must still verify
MAX_PUBLISHED = 5  # next, current and retiring keys of one owner: a rotation needs three at most
MAX_REASON = 1000
MAX_KID = 100  # the column's length
SYSTEM = "systeem"
PARTICIPANT = "deelnemer"  # the actor of a participant's own key change, through the API

State = Key.State


class KeyRefused(Exception):
    """The key change cannot be made; ``code`` says why, ``message`` in words for the operator or the participant.

    Codes: ``not_found``, ``not_allowed``, ``reason_required``, ``bad_key``, ``key_exists``, ``too_many_keys``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _action(owner: str, action: str) -> str:
    """The audit action code: the operator's own key changes have codes of their own."""
    return f"operator_{action}" if owner == OPERATOR and action != "key_retired" else action


def _checked(jwk: Any) -> dict[str, Any]:
    try:
        public = checked_public_jwk(jwk)
    except InvalidInput as exc:
        message = _("Deze sleutel is niet bruikbaar. Geef de publieke sleutel van een P-256- of Ed25519-sleutel.")
        raise KeyRefused("bad_key", message) from exc
    kid = public.get("kid", thumbprint(public))
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID or not kid.isprintable():
        raise KeyRefused(
            "bad_key", _("De sleutel-id (kid) moet tekst zijn van 1 tot %(max)d tekens.") % {"max": MAX_KID}
        )
    return {**public, "kid": kid}


def _publishes(owner: str) -> bool:
    """Whether a change to ``owner``'s keys shows in the scheme document: an applicant is not in it yet."""
    if owner == OPERATOR:
        return True
    return Organisation.objects.filter(oin=owner).exclude(certification=Organisation.Certification.APPLIED).exists()


def notice(owner: str) -> timedelta:
    """How long a next key of ``owner`` is published before it may sign."""
    return OPERATOR_NOTICE if owner == OPERATOR else NOTICE


def overlap(owner: str) -> timedelta:
    """How long a retiring key of ``owner`` stays published: until the last thing it signed has expired."""
    return timedelta(seconds=publication.VALID_FOR) + LEEWAY if owner == OPERATOR else SIGNED_LIFETIME + LEEWAY


def add(
    owner: str, jwk: Mapping[str, Any], *, actor: str = SYSTEM, reason: str = "", now: datetime | None = None
) -> Key:
    """Add ``jwk`` for ``owner`` (an OIN, or ``stelsel``): current when the owner has none yet, else next.

    A next key is recorded in the audit trail and published at once, so the notice starts now; the first
    key comes with the participant's application, which is recorded there. A key the owner has already
    is left as it is, and returned. Raises :class:`KeyRefused`.
    """
    public = _checked(jwk)
    now = now or timezone.now()
    with write_transaction():
        lock_name(f"scheme.keys:{owner}")
        known = Key.objects.filter(owner=owner, kid=public["kid"]).first()
        if known is not None:
            if known.state in (State.RETIRED, State.REVOKED) or thumbprint(known.public_jwk) != thumbprint(public):
                raise KeyRefused("key_exists", _("Deze sleutel-id is al eens gebruikt. Maak een nieuwe sleutel."))
            return known
        owned = Key.objects.filter(owner=owner)
        if owned.published().count() >= MAX_PUBLISHED:
            raise KeyRefused("too_many_keys", _("Er zijn al %(max)d sleutels in gebruik.") % {"max": MAX_PUBLISHED})
        if not owned.filter(state=State.CURRENT).exists():
            return Key.objects.create(owner=owner, kid=public["kid"], public_jwk=public, state=State.CURRENT)
        key = Key.objects.create(
            owner=owner,
            kid=public["kid"],
            public_jwk=public,
            state=State.NEXT,
            added_at=now,
            usable_from=now + notice(owner),
        )
        details = {"kid": key.kid, "usable_from": key.usable_from.isoformat()}
        audit.record(actor=actor, action=_action(owner, "key_added"), subject=owner, reason=reason, details=details)
        if _publishes(owner):
            publication.publish()
        return key


def revoke(owner: str, kid: str, *, actor: str, reason: str, now: datetime | None = None) -> Key:
    """Revoke ``owner``'s key ``kid`` at once, and publish: whatever it signed fails with ``key_revoked``.

    When it was the current key, the newest next key becomes current straight away (it is published
    already); with none, the owner has no key to sign with until it adds one. The operator's current key
    can only be revoked when a next one, held here, takes over: the scheme document must stay signed.
    """
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > MAX_REASON:
        raise KeyRefused(
            "reason_required", _("Schrijf een reden op, van hoogstens %(max)d tekens.") % {"max": MAX_REASON}
        )
    now = now or timezone.now()
    with write_transaction():
        lock_name(f"scheme.keys:{owner}")
        key = Key.objects.filter(owner=owner, kid=kid).first()
        if key is None:
            raise KeyRefused("not_found", _("Deze sleutel bestaat niet."))
        if key.state == State.REVOKED:
            raise KeyRefused("not_allowed", _("Deze sleutel is al ingetrokken."))
        successor = None
        if key.state == State.CURRENT:
            successor = _newest_usable(Key.objects.filter(owner=owner, state=State.NEXT))
            if owner == OPERATOR and successor is None:
                raise KeyRefused(
                    "not_allowed",
                    _(
                        "Voeg eerst een nieuwe sleutel van de beheerder toe. Zonder sleutel kunnen we het "
                        "stelseldocument niet ondertekenen."
                    ),
                )
        Key.objects.filter(pk=key.pk).update(state=State.REVOKED, revoked_at=now, reason=reason)
        details: dict[str, Any] = {"kid": kid, "was": key.state}
        if successor is not None:
            Key.objects.filter(pk=successor.pk).update(state=State.CURRENT)
            details["current"] = successor.kid
        audit.record(actor=actor, action=_action(owner, "key_revoked"), subject=owner, reason=reason, details=details)
        if _publishes(owner):
            publication.publish()
        key.refresh_from_db()
        return key


def rotate_due(now: datetime) -> list[str]:
    """Make due next keys current and retire retiring keys past ``retire_at``; publish if anything changed.

    Returns what changed, as "owner/kid state" lines. Safe on two workers at once: the second waits, then
    finds nothing due.
    """
    changed: list[str] = []
    with write_transaction():
        lock_name("scheme.keys.rotation")
        due = Key.objects.filter(state=State.NEXT, usable_from__lte=now)
        for owner in sorted(set(due.values_list("owner", flat=True))):
            changed += _promote(owner, due.filter(owner=owner), now)
        for key in Key.objects.filter(state=State.RETIRING, retire_at__lte=now).order_by("owner", "pk"):
            Key.objects.filter(pk=key.pk).update(state=State.RETIRED)
            audit.record(actor=SYSTEM, action="key_retired", subject=key.owner, details={"kid": key.kid})
            changed.append(f"{key.owner}/{key.kid} retired")
        if changed:
            publication.publish()
    for line in changed:
        logger.info("key %s", line)
    return changed


def _newest_usable(candidates: Any) -> Key | None:
    """The newest of ``candidates`` the owner can sign with: for the operator, only a key held here."""
    for key in candidates.order_by("-added_at", "-pk"):
        if key.owner != OPERATOR or keystore.holds(OPERATOR, key.kid):
            return key
        logger.warning("operator key %s is due but its private key is not held here: not used", key.kid)
    return None


def _promote(owner: str, due: Any, now: datetime) -> list[str]:
    """Make the newest due key of ``owner`` current; older due ones never signed and retire with it."""
    chosen = _newest_usable(due)
    if chosen is None:
        return []
    lines = []
    old = Key.objects.filter(owner=owner, state=State.CURRENT).first()
    if old is not None:
        Key.objects.filter(pk=old.pk).update(state=State.RETIRING, retire_at=now + overlap(owner))
        lines.append(f"{owner}/{old.kid} retiring")
    skipped = due.filter(added_at__lt=chosen.added_at).exclude(pk=chosen.pk)
    lines += [f"{owner}/{kid} retired" for kid in skipped.values_list("kid", flat=True)]
    skipped.update(state=State.RETIRED)
    Key.objects.filter(pk=chosen.pk).update(state=State.CURRENT)
    details = {"kid": chosen.kid, "previous": old.kid if old else None}
    audit.record(actor=SYSTEM, action=_action(owner, "key_promoted"), subject=owner, details=details)
    return [*lines, f"{owner}/{chosen.kid} current"]


def signing_kid(owner: str) -> str | None:
    """The kid ``owner`` signs with now (its current key), or ``None`` when it has none."""
    return Key.objects.filter(owner=owner, state=State.CURRENT).values_list("kid", flat=True).first()


def revoked_kids(owner: str) -> list[str]:
    """The kids of ``owner``'s revoked keys: they stay listed for good."""
    return sorted(Key.objects.filter(owner=owner, state=State.REVOKED).values_list("kid", flat=True))
