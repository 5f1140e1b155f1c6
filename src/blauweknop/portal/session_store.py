"""Django's database sessions, with only keys Django itself could have made (``SESSION_ENGINE``).

A session key comes from a cookie, so from anyone. Django accepts any key of 8 characters or more
and looks it up; a NUL in it (a quoted cookie value ``"\\000..."`` unquotes to one) makes PostgreSQL
refuse the query, a 500 on every page. Django makes keys of lowercase letters and digits only, so
any other key is simply no session.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS

KEY_CHARS = frozenset(VALID_KEY_CHARS)


class SessionStore(db.SessionStore):
    """A database session that ignores keys Django could not have made."""

    def _validate_session_key(self, key: str | None) -> bool:
        return bool(super()._validate_session_key(key)) and set(key) <= KEY_CHARS
