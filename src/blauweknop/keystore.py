"""Private signing keys of the parties this deployment plays, kept outside the repository.

A key comes from the environment (``BLAUWEKNOP_KEY_<NAME>`` as a JWK, or ``..._FILE``) or from the
key folder (``<name>.jwk``). A missing key is a configuration error, except in the demo
(``BLAUWEKNOP_DEMO=True``), which generates it at first use and writes it there, readable by the
owner only. Names are OINs, or ``stelsel`` for the scheme operator.

During a key rotation a party holds several keys under one name: in the environment as a JWK Set
(``{"keys": [...]}``; the first is the default), or in the folder as ``<name>.jwk`` (the default) beside
``<name>.<anything>.jwk`` files. Which one signs is the scheme document's choice (the entry's
``signing_kid``): :func:`signing_key` with ``kid`` finds it; without, it is the default.
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
_all: dict[tuple[str, str], dict[str, SigningKey]] = {}


class MissingKey(ImproperlyConfigured):
    """The scheme document says to sign with a key this deployment does not hold: ``name``'s key ``kid``."""

    def __init__(self, name: str, kid: str) -> None:
        super().__init__(
            f"There is no private key {kid!r} for {name}: add it as {name}.<kid>.jwk or to {_variable(name)}."
        )
        self.name, self.kid = name, kid


def _variable(name: str) -> str:
    return f"BLAUWEKNOP_KEY_{name.upper()}"


def _environment_jwks(name: str) -> list[dict] | None:
    """The keys the environment holds for ``name``, the default first; ``None`` when it names none."""
    variable = _variable(name)
    if f"{variable}_FILE" in os.environ:
        found = json.loads(Path(os.environ[f"{variable}_FILE"]).read_text())
    elif variable in os.environ:
        found = json.loads(os.environ[variable])
    else:
        return None
    keys = found.get("keys") if isinstance(found, dict) and "keys" in found else [found]
    if not isinstance(keys, list) or not keys:
        raise ImproperlyConfigured(f"{variable} must be one private JWK, or a JWK Set with at least one.")
    return keys


def _from_environment(name: str) -> dict | None:
    keys = _environment_jwks(name)
    return keys[0] if keys else None


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


def _default(name: str) -> SigningKey:
    folder = str(settings.KEY_DIR)
    if (folder, name) not in _loaded:
        jwk = _from_environment(name) or _from_folder(name, Path(folder) / f"{name}.jwk")
        _loaded[(folder, name)] = SigningKey(jwk)
    return _loaded[(folder, name)]


def _load_all(name: str) -> dict[str, SigningKey]:
    """Every private key held for ``name``, by kid: the default and the others (a folder is read again)."""
    default = _default(name)
    environment = _environment_jwks(name)
    if environment is not None:
        extra = [SigningKey(jwk) for jwk in environment[1:]]
    else:
        # "<name>.<kid>.jwk": the dot after the name keeps OIN 1 from reading OIN 10's files.
        extra = [
            SigningKey(json.loads(path.read_text())) for path in sorted(Path(settings.KEY_DIR).glob(f"{name}.*.jwk"))
        ]
    return {key.kid: key for key in [*extra, default]}


def signing_key(name: str, kid: str | None = None) -> SigningKey:
    """The private key ``name`` (its default), or its key ``kid``; loaded once per process.

    Raises :class:`MissingKey` when no key ``kid`` is held for ``name``. A key put in the folder while
    the process runs is found: an unknown kid makes it read the folder again.
    """
    with _lock:
        if kid is None:
            return _default(name)
        cached = (str(settings.KEY_DIR), name)
        if kid not in _all.get(cached, {}):
            _all[cached] = _load_all(name)
        if kid not in _all[cached]:
            raise MissingKey(name, kid)
        return _all[cached][kid]


def signing_keys(name: str) -> list[SigningKey]:
    """Every private key held for ``name``, the default first (read anew)."""
    with _lock:
        found = _load_all(name)
        _all[(str(settings.KEY_DIR), name)] = found
        default = _default(name)
        return [default, *(key for key in found.values() if key is not default)]


def holds(name: str, kid: str) -> bool:
    """Whether a private key ``kid`` is held for ``name``."""
    try:
        signing_key(name, kid)
    except MissingKey:
        return False
    return True
