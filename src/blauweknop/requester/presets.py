"""Ready-made requests: what each requester's staff may ask, set by the deployment as data, not code.

A JSON file (docs/plus.md, "Setting what a requester asks") lists the presets, each naming the document types
and fields (catalogue paths), why, how long the data is kept and whether the access is one-time or standing by
default, and says which requester (by OIN) may use which. Staff choose one on "Nieuw verzoek" and may change the
purpose words, reference, retention, one-time or standing and the term; what is asked stays as the preset says.
A requester the file does not name has none. The file is found at ``BLAUWEKNOP_REQUESTER_PRESETS``, else
``vragen.json`` in the data folder; the demo, without either, reads :data:`DEMO_FILE`. Its form is checked when it
is read (and by ``manage.py check``); what it asks is checked against the scheme's catalogue on "Nieuw verzoek".
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks

from blauweknop import i18n
from blauweknop.protocol import dcql, openid4vp
from blauweknop.protocol.identifiers import is_valid_oin
from blauweknop.requester.asking import MAX_FIELDS, MAX_PURPOSE, MAX_RETENTION_DAYS, MAX_TYPES, Asked

logger = logging.getLogger(__name__)

ENVIRONMENT = "BLAUWEKNOP_REQUESTER_PRESETS"
FILE_NAME = "vragen.json"  # in the data folder
DEMO_FILE = Path(__file__).with_name("demo_presets.json")
MAX_BYTES = 256 * 1024
MAX_PRESETS = 50
MAX_NAME = 120
MAX_STANDING_MONTHS = 12  # standing access ends at most a year away (asking.MAX_STANDING_DAYS)
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
_PATH = re.compile(r"[A-Za-z0-9.]{1,120}")
_PRESET_KEYS = {"id", "name", "purpose", "asked", "retention_days", "access", "standing_months"}
_ASKED_KEYS = {"type", "required", "multiple", "fields"}


class PresetsInvalid(Exception):
    """The presets file cannot be used; the message names the file and the place in it."""


@dataclass(frozen=True)
class Preset:
    """One kind of request: what is asked, why, for how long."""

    id: str
    name: dict[str, str]  # what staff choose, in plain words, in Dutch and English
    purpose: dict[str, str]  # the default purpose, as the citizen reads it
    asked: tuple[Asked, ...]
    retention_days: int
    access: str = openid4vp.ONCE  # the default; staff may choose the other
    standing_months: int = 6  # standing access: this many months from today, unless staff choose a date

    @property
    def standing(self) -> bool:
        return self.access == openid4vp.STANDING

    @property
    def label(self) -> str:
        """Its name in the page's language."""
        return self.name[i18n.language()]


@dataclass(frozen=True)
class Presets:
    """Every preset of the deployment and which requester may use which."""

    presets: tuple[Preset, ...] = ()
    requesters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    problem: str = ""  # why the file could not be used: then there are none

    def for_requester(self, oin: str) -> tuple[Preset, ...]:
        """The presets the requester ``oin`` chooses from: none when the file does not name it."""
        ids = self.requesters.get(oin, ())
        return tuple(preset for preset in self.presets if preset.id in ids)

    def get(self, preset_id: str, oin: str | None = None) -> Preset | None:
        """The preset ``preset_id`` (one the requester ``oin`` may use, when given), or ``None``."""
        choices = self.presets if oin is None else self.for_requester(oin)
        return next((preset for preset in choices if preset.id == preset_id), None)

    def matching(self, query: dcql.Query) -> Preset | None:
        """The preset that asks exactly what ``query`` asks (the same types and fields), or ``None``."""
        asked = [(item.id, tuple(claim.path for claim in item.claims)) for item in query.credentials]
        for preset in self.presets:
            if asked == [(item.type_id, tuple(path for path, _ in item.fields)) for item in preset.asked]:
                return preset
        return None


def _fail(where: str, message: str) -> PresetsInvalid:
    return PresetsInvalid(f"{where}: {message}")


def _object(value: Any, where: str, allowed: set[str], needed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "must be an object, between { and }.")
    if unknown := sorted(set(value) - allowed):
        raise _fail(where, f"unknown key {unknown[0]!r}; the keys are {', '.join(sorted(allowed))}.")
    if missing := sorted(needed - set(value)):
        raise _fail(where, f"{missing[0]!r} is missing.")
    return value


def _words(value: Any, where: str, limit: int) -> dict[str, str]:
    if not isinstance(value, dict) or set(value) != {"nl", "en"}:
        raise _fail(where, 'give it in Dutch and English: {"nl": "...", "en": "..."}.')
    for language, text in value.items():
        if not isinstance(text, str) or not text.strip() or len(text) > limit or not text.isprintable():
            raise _fail(f"{where}.{language}", f"must be plain text of 1 to {limit} characters.")
    return {language: text.strip() for language, text in value.items()}


def _whole(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(where, f"must be a whole number from {low} to {high}.")
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, "must be true or false.")
    return value


def _asked(value: Any, where: str) -> Asked:
    item = _object(value, where, _ASKED_KEYS, {"type", "required", "fields"})
    if not isinstance(item["type"], str) or not _ID.fullmatch(item["type"]):
        raise _fail(f"{where}.type", "must be a document type id of the catalogue, e.g. inkomen.")
    fields = item["fields"]
    if not isinstance(fields, dict) or not fields:
        raise _fail(f"{where}.fields", 'must name at least one field: {"catalogue.path": true (required) or false}.')
    for path, required in fields.items():
        if not _PATH.fullmatch(path):
            raise _fail(f"{where}.fields", f"{path[:40]!r} is not a catalogue path such as naam.voornamen.")
        _flag(required, f"{where}.fields.{path}")
    return Asked(
        item["type"],
        required=_flag(item["required"], f"{where}.required"),
        multiple=_flag(item.get("multiple", False), f"{where}.multiple"),
        fields=tuple(fields.items()),
    )


def _preset(value: Any, where: str) -> Preset:
    entry = _object(value, where, _PRESET_KEYS, {"id", "name", "purpose", "asked", "retention_days"})
    if not isinstance(entry["id"], str) or not _ID.fullmatch(entry["id"]):
        raise _fail(f"{where}.id", "must be 1 to 40 small letters, digits or '-', e.g. huur.")
    asked = entry["asked"]
    if not isinstance(asked, list) or not 1 <= len(asked) <= MAX_TYPES:
        raise _fail(f"{where}.asked", f"must list 1 to {MAX_TYPES} document types.")
    items = tuple(_asked(item, f"{where}.asked[{number}]") for number, item in enumerate(asked))
    if sum(len(item.fields) for item in items) > MAX_FIELDS:
        raise _fail(f"{where}.asked", f"asks more than {MAX_FIELDS} fields in all.")
    access = entry.get("access", openid4vp.ONCE)
    if access not in (openid4vp.ONCE, openid4vp.STANDING):
        raise _fail(f"{where}.access", f"is {openid4vp.ONCE!r} or {openid4vp.STANDING!r}.")
    return Preset(
        id=entry["id"],
        name=_words(entry["name"], f"{where}.name", MAX_NAME),
        purpose=_words(entry["purpose"], f"{where}.purpose", MAX_PURPOSE),
        asked=items,
        retention_days=_whole(entry["retention_days"], f"{where}.retention_days", 1, MAX_RETENTION_DAYS),
        access=access,
        standing_months=_whole(entry.get("standing_months", 6), f"{where}.standing_months", 1, MAX_STANDING_MONTHS),
    )


def parse(value: Any) -> Presets:
    """The presets in ``value`` (the file's JSON), every part checked; :class:`PresetsInvalid` says what is wrong."""
    top = _object(value, "the file", {"presets", "requesters"}, {"presets", "requesters"})
    if not isinstance(top["presets"], list) or len(top["presets"]) > MAX_PRESETS:
        raise _fail("presets", f"must be a list of at most {MAX_PRESETS} presets.")
    found = tuple(_preset(entry, f"presets[{number}]") for number, entry in enumerate(top["presets"]))
    ids = [preset.id for preset in found]
    if twice := sorted({preset_id for preset_id in ids if ids.count(preset_id) > 1}):
        raise _fail("presets", f"the id {twice[0]!r} is used twice.")
    if not isinstance(top["requesters"], dict):
        raise _fail("requesters", 'must be an object: {"<OIN>": ["<preset id>", ...]}.')
    requesters = {}
    for oin, chosen in top["requesters"].items():
        if not is_valid_oin(oin):
            raise _fail("requesters", f"{oin[:40]!r} is not an OIN (20 digits).")
        if not isinstance(chosen, list) or not all(isinstance(preset_id, str) for preset_id in chosen):
            raise _fail(f"requesters.{oin}", "must be a list of preset ids.")
        if unknown := [preset_id for preset_id in chosen if preset_id not in ids]:
            raise _fail(f"requesters.{oin}", f"names {unknown[0][:40]!r}, which is not a preset in this file.")
        requesters[oin] = tuple(chosen)
    return Presets(found, requesters)


def file() -> Path | None:
    """Where the presets are read from, or ``None`` when none are set."""
    named = os.environ.get(ENVIRONMENT)
    if named:
        return Path(named)
    in_data = Path(settings.DATA_DIR) / FILE_NAME
    if in_data.exists():
        return in_data
    return DEMO_FILE if settings.DEMO else None


@functools.lru_cache(maxsize=4)
def _read(path: Path, changed: int) -> Presets:
    """The presets in ``path`` as it was at ``changed`` (its mtime): read again when the file changes."""
    try:
        with path.open("rb") as handle:
            content = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise PresetsInvalid(f"{path}: cannot be read ({exc.strerror}).") from None
    if len(content) > MAX_BYTES:
        raise PresetsInvalid(f"{path}: is larger than {MAX_BYTES // 1024} KiB.")
    try:
        return parse(json.loads(content))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PresetsInvalid(f"{path}: is not JSON ({exc}).") from None
    except PresetsInvalid as exc:
        raise PresetsInvalid(f"{path}, {exc}") from None


def load(path: Path) -> Presets:
    """The presets in the file ``path``; :class:`PresetsInvalid` names the file and what is wrong in it."""
    try:
        changed = path.stat().st_mtime_ns
    except OSError as exc:
        raise PresetsInvalid(f"{path}: cannot be read ({exc.strerror}).") from None
    return _read(path, changed)


def current() -> Presets:
    """This deployment's presets; none when no file is set, or when the file is wrong (then ``problem`` says why)."""
    path = file()
    if path is None:
        return Presets()
    try:
        return load(path)
    except PresetsInvalid as exc:
        logger.error("requester presets not used: %s", exc)
        return Presets(problem=str(exc))


def check_file(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``manage.py check``: the presets file, when one is set, can be read and has the right form."""
    path = file()
    if path is None:
        return []
    try:
        load(path)
    except PresetsInvalid as exc:
        return [checks.Error(str(exc), hint="See docs/plus.md, 'Setting what a requester asks'.", id="blauweknop.E101")]
    return []
