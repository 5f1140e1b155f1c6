"""``python -m blauweknop`` runs the ``blauweknop`` command."""

from blauweknop.cli import run

run()
