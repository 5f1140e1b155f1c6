"""``blauweknop conformance``: the scheme's checks run against a participant (helper D fills this in)."""

from __future__ import annotations

import argparse


def add_command(commands: argparse._SubParsersAction) -> None:
    """Register ``blauweknop conformance``."""
