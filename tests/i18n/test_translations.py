"""Every page is fully available in English: no message may be left untranslated or fuzzy."""

import re
from pathlib import Path

import polib

import blauweknop

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
PO = Path(blauweknop.__file__).parent / "locale" / "en" / "LC_MESSAGES" / "django.po"


def _translations(entry: polib.POEntry) -> list[str]:
    """The English text, or each of its plural forms ("1 debt", "2 debts")."""
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


def test_every_message_has_an_english_translation():
    catalogue = polib.pofile(str(PO))
    assert len(catalogue) > 100
    untranslated = [entry.msgid for entry in catalogue if not all(_translations(entry)) or "fuzzy" in entry.flags]
    assert untranslated == []


def test_placeholders_survive_translation():
    for entry in polib.pofile(str(PO)):
        expected = sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        for translation in _translations(entry):
            assert sorted(PLACEHOLDER.findall(translation)) == expected, entry.msgid
