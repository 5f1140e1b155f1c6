"""The demo's first run: its secrets are made once, explicitly, under the data folder.

``python -m blauweknop.demo.first_run`` (``make demo`` and the browser tests run it) makes the
data folder, a Django secret key, a pseudonym key and a vault key, readable by the owner only. The settings
only read them, and only with ``BLAUWEKNOP_DEMO=True``: a real deployment gets its secrets from
the environment. This module imports nothing from Django, because the settings cannot load
before these secrets exist.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

# The project folder (with manage.py); the data folder is anchored here, not to the current directory.
PROJECT_DIR = Path(__file__).resolve().parents[3]
# Each secret the demo makes, by the variable a real deployment sets instead.
DEMO_SECRETS = {
    "DJANGO_SECRET_KEY": "django-secret-key",
    "BLAUWEKNOP_PSEUDONYM_KEY": "pseudonym-key",
    "BLAUWEKNOP_VAULT_KEY": "vault-key",
}


def data_dir() -> Path:
    """``BLAUWEKNOP_DATA_DIR``, or ``var/`` in the project folder."""
    return Path(os.environ.get("BLAUWEKNOP_DATA_DIR") or PROJECT_DIR / "var").resolve()


def secret_path(folder: Path, variable: str) -> Path:
    """Where the demo keeps the secret that ``variable`` holds in a real deployment."""
    return folder / "secrets" / DEMO_SECRETS[variable]


def prepare(folder: Path) -> list[Path]:
    """Make the data folder and any missing demo secret; return the secrets made now."""
    (folder / "secrets").mkdir(parents=True, exist_ok=True, mode=0o700)
    (folder / "static").mkdir(exist_ok=True)  # collectstatic's target, so WhiteNoise finds it
    made = []
    for variable in DEMO_SECRETS:
        path = secret_path(folder, variable)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        made.append(path)
    return made


def main() -> int:
    """Prepare the data folder and say what was made."""
    folder = data_dir()
    for path in prepare(folder):
        print(f"Made a new demo secret: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
