"""Every page is fully available in English: no message may be left untranslated or fuzzy."""

import re
from pathlib import Path

import polib

import blauweknop

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
PO = Path(blauweknop.__file__).parent / "locale" / "en" / "LC_MESSAGES" / "django.po"


def test_every_message_has_an_english_translation():
    catalogue = polib.pofile(str(PO))
    assert len(catalogue) > 100
    untranslated = [entry.msgid for entry in catalogue if not entry.msgstr or "fuzzy" in entry.flags]
    assert untranslated == []


def test_placeholders_survive_translation():
    for entry in polib.pofile(str(PO)):
        assert sorted(PLACEHOLDER.findall(entry.msgstr)) == sorted(PLACEHOLDER.findall(entry.msgid)), entry.msgid
