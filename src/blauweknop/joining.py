"""``blauweknop scheme apply``: an organisation applies to join the scheme (helper C fills this in)."""

from __future__ import annotations

import argparse


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``blauweknop scheme apply``."""
