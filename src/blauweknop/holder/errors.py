"""What a holder's services refuse, in the holder's own terms; ``blauweknop.holder.api`` maps them to HTTP.

Each refusal has a stable ``code`` (the problem's ``code``) and a plain sentence for people.
"""

from __future__ import annotations


class HolderError(Exception):
    """A refusal by the holder: a stable code and a plain sentence."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


class NotHere(HolderError):
    """What was asked for is not at this holder: no such organisation, document type or data."""


class NotCertified(HolderError):
    """The organisation is this deployment's, but the scheme suspended or revoked it: it may not act now."""


class NotOurs(HolderError):
    """The copy was not issued by this holder, or is of a type the catalogue does not know."""


class NotYours(HolderError):
    """The copy belongs to another citizen's wallet."""


class Replayed(HolderError):
    """The app manager's assertion was used before."""
