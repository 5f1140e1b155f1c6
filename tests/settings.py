"""The test suite's settings: the demo's, with fresh secrets for every run that are written nowhere."""

import os
import secrets
import tempfile
from pathlib import Path

from blauweknop.demo.first_run import DEMO_SECRETS

os.environ.setdefault("BLAUWEKNOP_DEMO", "True")
for _variable in DEMO_SECRETS:
    os.environ.setdefault(_variable, secrets.token_urlsafe(50))

from blauweknop.settings import *  # noqa: E402, F403
from blauweknop.settings import DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests run the roles in several threads (a live server beside the test client); a shared
    # in-memory database fails on table locks, a file in WAL mode waits for them instead. One file
    # per run, outside the project: a fresh clone has no data folder, and parallel runs never meet.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"blauweknop-test-{os.getpid()}.sqlite3")}

# WhiteNoise looks for collectstatic's folder at start-up; a fresh clone has none under var/ yet.
STATIC_ROOT = Path(tempfile.gettempdir()) / "blauweknop-test-static"
STATIC_ROOT.mkdir(exist_ok=True)

# The demo world makes a staff login per requester, and tests make their own: a deliberately slow password hash
# (a quarter second each) would cost the suite minutes and protects nothing here.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
