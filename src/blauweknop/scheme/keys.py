"""Public keys of participants and of the operator through their life: next, current, retiring, retired, revoked."""

from __future__ import annotations

from typing import Any

from blauweknop.scheme.models import Key


def add(owner: str, jwk: dict[str, Any]) -> Key:
    """Add ``jwk`` for ``owner`` (an OIN, or ``stelsel``): current when the owner has none yet, else next.

    A key the owner has already is left as it is, and returned.
    """
    known = Key.objects.filter(owner=owner, kid=jwk["kid"]).first()
    if known is not None:
        return known
    has_current = Key.objects.filter(owner=owner, state=Key.State.CURRENT).exists()
    state = Key.State.NEXT if has_current else Key.State.CURRENT
    return Key.objects.create(owner=owner, kid=jwk["kid"], public_jwk=jwk, state=state)
