"""Logging filters that keep secrets out of log lines.

A check code opens a printed copy to whoever has it, so it must not end up in a log: uvicorn's
access log and Django's "Not Found" warning both write the path, and a QR code's address is
``/controleren/<code>/``. :class:`HideCheckCodes` masks that part of any path in a log record.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# Any path part after /controleren/, except the code form's own address.
_CHECK_CODE = re.compile(r"(/controleren/)(?!met-code(?:[/?#\s\"']|$))[^/?#\s\"']+")
MASK = "[controlecode]"


def hide_check_codes(text: str) -> str:
    """``text`` with the check code in every ``/controleren/<code>`` path replaced by :data:`MASK`."""
    return _CHECK_CODE.sub(rf"\g<1>{MASK}", text)


def _hidden(value: Any) -> Any:
    return hide_check_codes(value) if isinstance(value, str) else value


class HideCheckCodes(logging.Filter):
    """Masks check codes in a record's message and its arguments (the record is kept, never dropped)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _hidden(record.msg)
        if isinstance(record.args, tuple):
            # Kept a tuple of the same length: uvicorn's access formatter unpacks it.
            record.args = tuple(_hidden(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {name: _hidden(arg) for name, arg in record.args.items()}
        return True
