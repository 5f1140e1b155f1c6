"""The catalogue's words are the scheme's, not one organisation's: any holder may issue a document type, so no
label, help text or description names a real organisation (the demo's tax office said 'de Belastingdienst')."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blauweknop.scheme import catalogue

FILES = sorted(Path(catalogue.__file__).parent.glob("*.json"))
# Dutch public bodies that hold citizens' data, by name and by the words people use for them.
REAL_ORGANISATIONS = re.compile(
    r"\b(Belastingdienst|Dienst Toeslagen|DUO|Dienst Uitvoering Onderwijs|CJIB|Centraal Justitieel Incassobureau"
    r"|UWV|SVB|Sociale Verzekeringsbank|RDW|CAK|Kadaster|BKR|tax office|Tax and Customs Administration)\b",
    re.IGNORECASE,
)


def texts(value: Any) -> Iterator[str]:
    """Every string in a catalogue file: names, descriptions, labels, help and the words for coded values."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_it_refuses_to_name_a_real_organisation_in_the_catalogue(path):
    named = [text for text in texts(json.loads(path.read_text(encoding="utf-8"))) if REAL_ORGANISATIONS.search(text)]
    assert named == []


def test_the_catalogue_words_are_read_from_every_file():
    assert {path.stem for path in FILES} >= {"inkomen", "vorderingen", "legal_bases"}
