"""Private signing keys of the parties this deployment plays, kept outside the repository.

A key comes from the environment (``BLAUWEKNOP_KEY_<NAME>`` as a JWK, or ``..._FILE``) or from the
key folder (``<name>.jwk``). A missing key is a configuration error, except in the demo
(``BLAUWEKNOP_DEMO=True``), which generates it at first use and writes it there, readable by the
owner only. Names are OINs, or ``stelsel`` for the scheme operator.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from blauweknop.protocol.jwk import SigningKey, generate_jwk

_lock = threading.Lock()
_loaded: dict[tuple[str, str], SigningKey] = {}


def _variable(name: str) -> str:
    return f"BLAUWEKNOP_KEY_{name.upper()}"


def _from_environment(name: str) -> dict | None:
    variable = _variable(name)
    if f"{variable}_FILE" in os.environ:
        return json.loads(Path(os.environ[f"{variable}_FILE"]).read_text())
    if variable in os.environ:
        return json.loads(os.environ[variable])
    return None


def _from_folder(name: str, path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text())
    if not settings.DEMO:
        raise ImproperlyConfigured(
            f"There is no signing key for {name}: set {_variable(name)} or {_variable(name)}_FILE, or put it in {path}."
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written whole under a private name, then linked into place: another process of the demo (web,
    # worker, scheduler) either finds no key or a complete one, never a half-written file.
    jwk = generate_jwk()
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{name}.", suffix=".draft")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(jwk, handle)
        os.link(draft, path)
    except FileExistsError:  # another process of the demo made it just now
        return json.loads(path.read_text())
    finally:
        os.unlink(draft)
    return jwk


def signing_key(name: str) -> SigningKey:
    """The private key ``name``, loaded once per process."""
    folder = str(settings.KEY_DIR)
    with _lock:
        if (folder, name) not in _loaded:
            jwk = _from_environment(name) or _from_folder(name, Path(folder) / f"{name}.jwk")
            _loaded[(folder, name)] = SigningKey(jwk)
        return _loaded[(folder, name)]
