"""Plain text: what a person reads is what is stored and signed.

One check for every text a person reads and relies on: a requester's purpose the citizen consents to, the terms
in a request object, the text of a correction request. Refused, by Unicode category: control characters (a NUL
PostgreSQL refuses; line breaks only where a text has lines), format characters (zero-width spaces and joiners,
a BOM, a soft hyphen, bidi controls such as U+202E, tag characters: text that reads otherwise than it is), half a
surrogate pair, private use, unassigned code points, and line and paragraph separators.
"""

from __future__ import annotations

import unicodedata

_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_LINE_BREAKS = frozenset("\t\n\r")


def plain(value: str, *, lines: bool) -> str | None:
    """``value`` in NFC and stripped; ``None`` when it holds a character that is not plain text (see above).

    ``lines``: tabs and line breaks are allowed (an explanation, a reason), else refused too (a name, a purpose).
    """
    value = unicodedata.normalize("NFC", value).strip()
    for char in value:
        if unicodedata.category(char) in _BAD_CATEGORIES and not (lines and char in _LINE_BREAKS):
            return None
    return value
