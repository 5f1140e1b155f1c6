"""Keyed pseudonyms: how logs and access records name a citizen without their BSN."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def pseudonym(bsn: str) -> str:
    """A stable pseudonym for ``bsn`` under this deployment's secret key (HMAC-SHA-256, hex)."""
    return hmac.new(settings.PSEUDONYM_KEY.encode(), bsn.encode(), hashlib.sha256).hexdigest()
