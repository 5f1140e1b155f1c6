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
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.utils import formats, timezone
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
MAX_KID = 100  # the column's length
# A kid is shown on pages, put in file names (keystore) and in addresses: only characters that need no escaping
# anywhere (RFC 3986 unreserved). RFC 7638 thumbprints, the default kid, are base64url and fit.
KID = re.compile(rf"[A-Za-z0-9._~-]{{1,{MAX_KID}}}")
LOCK = "scheme.keys"  # one at a time: a key's thumbprint is unique over every owner
SYSTEM = "systeem"
PARTICIPANT = "deelnemer"  # the actor of a participant's own key change, through the API

State = Key.State


class KeyRefused(Exception):
    """The key change cannot be made; ``code`` says why, ``message`` in words for the operator or the participant.

    Codes: ``not_found``, ``not_allowed``, ``reason_required``, ``bad_key``, ``key_exists``, ``too_many_keys``,
    ``notice_running`` (the operator's successor key is not known long enough to every participant).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _action(owner: str, action: str) -> str:
    """The audit action code: the operator's own key changes have codes of their own."""
    return f"operator_{action}" if owner == OPERATOR and action != "key_retired" else action


def checked(jwk: Any) -> dict[str, Any]:
    """``jwk`` as a usable public key with a kid (its thumbprint when it has none); else :class:`KeyRefused`."""
    try:
        public = checked_public_jwk(jwk)
    except InvalidInput as exc:
        message = _("Deze sleutel is niet bruikbaar. Geef de publieke sleutel van een P-256- of Ed25519-sleutel.")
        raise KeyRefused("bad_key", message) from exc
    kid = public.get("kid", thumbprint(public))
    if not isinstance(kid, str) or not KID.fullmatch(kid):
        message = _(
            "De sleutel-id (kid) moet 1 tot %(max)d tekens zijn: letters, cijfers, punt, streepje, "
            "liggend streepje of tilde (~)."
        )
        raise KeyRefused("bad_key", message % {"max": MAX_KID})
    return {**public, "kid": kid}


def known_elsewhere(public: Mapping[str, Any], owner: str, kid: str) -> bool:
    """Whether the key of ``public`` is known under another owner, or under another kid of ``owner``, in any state.

    One key belongs to one owner: else the scheme says it signs for two organisations, and revoking it for one
    leaves it trusted for the other. Nor may a revoked key come back under a new kid.
    """
    same_x = Key.objects.filter(public_jwk__x=public["x"]).exclude(owner=owner, kid=kid)
    return any(thumbprint(jwk) == thumbprint(public) for jwk in same_x.values_list("public_jwk", flat=True))


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
    """Add ``jwk`` for ``owner`` (an OIN, or ``stelsel``): current when the owner has no published key, else next.

    A next key is recorded in the audit trail and published at once, so the notice starts now; the first
    key comes with the participant's application, which is recorded there. An owner whose current key was
    revoked without a successor, but who has other published keys, gets a next key too: nothing signs
    before every verifier knows it. A key the owner has already is left as it is, and returned. Whoever
    calls this has checked that the owner holds the private key. Raises :class:`KeyRefused`.
    """
    public = checked(jwk)
    reason = _checked_reason(reason) if reason else ""  # a participant announcing its key gives none
    now = now or timezone.now()
    with write_transaction():
        lock_name(LOCK)
        known = Key.objects.filter(owner=owner, kid=public["kid"]).first()
        if known is not None:
            if known.state in (State.RETIRED, State.REVOKED) or thumbprint(known.public_jwk) != thumbprint(public):
                raise KeyRefused("key_exists", _("Deze sleutel-id is al eens gebruikt. Maak een nieuwe sleutel."))
            return known
        if known_elsewhere(public, owner, public["kid"]):
            raise KeyRefused(
                "key_exists",
                _(
                    "Deze sleutel is al bekend in het stelsel, bij deze of een andere eigenaar. "
                    "Maak een nieuwe sleutel."
                ),
            )
        owned = Key.objects.filter(owner=owner)
        if owned.published().count() >= MAX_PUBLISHED:
            raise KeyRefused("too_many_keys", _("Er zijn al %(max)d sleutels in gebruik.") % {"max": MAX_PUBLISHED})
        if not owned.published().exists():
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


def _checked_reason(reason: str) -> str:
    try:
        return audit.checked_reason(reason)
    except audit.BadReason as exc:
        raise KeyRefused("reason_required", str(exc)) from None


def revoke(
    owner: str,
    kid: str,
    *,
    actor: str,
    reason: str,
    successor: str | None = None,
    emergency: bool = False,
    now: datetime | None = None,
) -> Key:
    """Revoke ``owner``'s key ``kid`` at once, and publish: whatever it signed fails with ``key_revoked``.

    When it was the current key, the next key ``successor`` (its kid, chosen by the operator) becomes current
    at once; with none, the owner has no current key until the worker promotes a next key after its notice.
    Never the newest next key by itself: whoever stole the current key can announce next keys with it. The
    operator's current key needs a successor held here (the scheme document must stay signed) and published
    for the full :data:`OPERATOR_NOTICE`, or ``emergency``: see :func:`_successor`.
    """
    reason = _checked_reason(reason)
    now = now or timezone.now()
    with write_transaction():
        lock_name(LOCK)
        key = Key.objects.filter(owner=owner, kid=kid).first()
        if key is None:
            raise KeyRefused("not_found", _("Deze sleutel bestaat niet."))
        if key.state == State.REVOKED:
            raise KeyRefused("not_allowed", _("Deze sleutel is al ingetrokken."))
        chosen = _successor(key, successor or None, emergency=emergency, now=now)
        Key.objects.filter(pk=key.pk).update(state=State.REVOKED, revoked_at=now, reason=reason)
        details: dict[str, Any] = {"kid": kid, "was": key.state}
        if key.state == State.CURRENT:
            details["current"] = chosen.kid if chosen is not None else None
        if chosen is not None:
            Key.objects.filter(pk=chosen.pk).update(state=State.CURRENT)
            if chosen.usable_from is not None and chosen.usable_from > now:
                details["notice_cut_short"] = True
        audit.record(actor=actor, action=_action(owner, "key_revoked"), subject=owner, reason=reason, details=details)
        if _publishes(owner):
            publication.publish()
        key.refresh_from_db()
        return key


def _successor(key: Key, kid: str | None, *, emergency: bool, now: datetime) -> Key | None:
    """The next key ``kid`` that takes over from the current ``key``, checked; ``None`` when none is to.

    The operator's successor must have been published for the full notice: every participant adds a new
    operator key to its trust anchor by hand, and one that has not yet refuses every document signed with
    it. It would keep its last document for days, so later suspensions and key revocations, this one
    included, would not reach it. Only ``emergency`` (the operator says the old key is surely stolen) skips that.
    """
    if key.state != State.CURRENT:
        if kid is not None:
            raise KeyRefused("not_allowed", _("Alleen de sleutel die in gebruik is, krijgt een opvolger."))
        return None
    if kid is None:
        if key.owner != OPERATOR:
            return None
        if Key.objects.filter(owner=OPERATOR, state=State.NEXT).exists():
            message = _("Kies welke nieuwe sleutel van de beheerder het stelseldocument gaat ondertekenen.")
        else:
            message = _(
                "Voeg eerst een nieuwe sleutel van de beheerder toe. Zonder sleutel kunnen we het "
                "stelseldocument niet ondertekenen."
            )
        raise KeyRefused("not_allowed", message)
    chosen = Key.objects.filter(owner=key.owner, kid=kid, state=State.NEXT).first()
    if chosen is None:
        raise KeyRefused("not_found", _("Kies als opvolger een nieuwe sleutel van dezelfde eigenaar."))
    if key.owner != OPERATOR:
        return chosen
    if not keystore.holds(OPERATOR, chosen.kid):
        raise KeyRefused(
            "not_allowed",
            _("Het geheime deel van sleutel %(kid)s is hier niet. Daarmee kunnen we niet ondertekenen.")
            % {"kid": chosen.kid},
        )
    if chosen.usable_from is not None and chosen.usable_from > now and not emergency:
        message = _(
            "Sleutel %(kid)s is nog niet lang genoeg bekend. Deelnemers krijgen %(days)d dagen om hem in hun "
            "vertrouwde sleutels (trust anchor) te zetten. Wie dat nog niet deed, neemt daarna geen nieuw "
            "stelseldocument meer aan. Schorsingen en ingetrokken sleutels komen dan niet bij hen aan. Wacht tot "
            "%(when)s. Is de oude sleutel zeker in verkeerde handen? Kies dan voor nood."
        )
        when = formats.date_format(timezone.localtime(chosen.usable_from), "DATETIME_FORMAT")
        raise KeyRefused("notice_running", message % {"kid": chosen.kid, "days": OPERATOR_NOTICE.days, "when": when})
    return chosen


def rotate_due(now: datetime) -> list[str]:
    """Make due next keys current and retire retiring keys past ``retire_at``; publish if anything changed.

    Returns what changed, as "owner/kid state" lines. Safe on two workers at once: the second waits, then
    finds nothing due.
    """
    changed: list[str] = []
    with write_transaction():
        lock_name(LOCK)
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
