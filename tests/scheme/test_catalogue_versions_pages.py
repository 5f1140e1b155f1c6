"""The operator's catalogue pages: the types and their versions, and publishing a new version (paste or upload,
checked, shown, confirmed), with every mistake said in words."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from blauweknop.scheme import publication
from blauweknop.scheme.catalogue.versions import publish_version
from blauweknop.scheme.models import AuditEntry, PublishedDocumentType
from tests.scheme.test_catalogue_versions import vorderingen_v4
from tests.scheme.test_operator_pages import log_in, make_operator

CATALOGUE = "/stelsel/beheer/catalogus/"
NEW = "/stelsel/beheer/catalogus/nieuwe-versie/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    """A client logged in as the operator's staff member ``olga``, with a scheme document published."""
    publication.publish()
    device = make_operator("olga")
    log_in(client, "olga", device)
    return client


def test_only_the_operators_staff_see_the_catalogue_pages(client):
    for url in (CATALOGUE, NEW):
        response = client.get(url)
        assert response.status_code == 302 and "/stelsel/beheer/inloggen/" in response["Location"]
    assert client.post(NEW, {"definitie": json.dumps(vorderingen_v4()), "confirmed": "ja"}).status_code == 302
    assert not PublishedDocumentType.objects.exists()


def test_the_catalogue_lists_every_type_with_its_versions(operator):
    page = operator.get(CATALOGUE).content.decode()
    for type_id in ("inkomen", "persoonsgegevens", "studieschuld", "toeslagen", "vorderingen"):
        assert f'id="soort-{type_id}"' in page
    assert "Openstaande betalingen (vorderingen)" in page and "Meegeleverd met de software" in page
    assert "Nieuwe versie publiceren" in page


def test_a_pasted_version_is_checked_shown_and_only_published_when_confirmed(operator):
    response = operator.post(NEW, {"definitie": json.dumps(vorderingen_v4(), indent=2)})
    page = response.content.decode()
    assert response.status_code == 200 and "Weet u het zeker?" in page
    assert "Toelichting" in page and "Kenmerk → Betalingskenmerk" in page and "4 (nu 3)" in page
    assert not PublishedDocumentType.objects.exists() and not AuditEntry.objects.exists()

    definition = html.unescape(re.search(r'name="definitie" value="([^"]*)"', page).group(1))
    response = operator.post(NEW, {"definitie": definition, "confirmed": "ja"})
    assert response.status_code == 302 and response["Location"] == CATALOGUE
    stored = PublishedDocumentType.objects.get()
    assert (stored.type_id, stored.version, stored.published_by) == ("vorderingen", 4, "olga")
    assert AuditEntry.objects.get().action == "catalogue_published"
    page = operator.get(CATALOGUE).content.decode()
    assert "Gepubliceerd: Openstaande betalingen, versie 4." in page
    assert "4 (voor nieuwe kopieën)" in page and "door olga" in page


def test_an_uploaded_file_is_checked_as_a_pasted_one(operator):
    upload = SimpleUploadedFile("vorderingen-4.json", json.dumps(vorderingen_v4()).encode())
    page = operator.post(NEW, {"bestand": upload}).content.decode()
    assert "Weet u het zeker?" in page and "Ja, publiceer versie 4" in page


def _bad_version() -> str:
    return json.dumps({**vorderingen_v4(), "version": 3, "vct": vorderingen_v4()["vct"][:-1] + "3"})


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({}, "Plak de nieuwe versie, of kies een bestand."),
        ({"definitie": "{ geen json"}, "Dit is geen JSON. Kijk bij regel 1, teken 3."),
        ({"definitie": "[" * 20_000 + "]" * 20_000}, "het zit te diep in elkaar"),
        ({"definitie": _bad_version()}, "De nieuwste versie van vorderingen is 3. Kies een hoger nummer."),
        ({"definitie": json.dumps({**vorderingen_v4(), "id": "paspoort"})}, "De documentsoort paspoort bestaat niet"),
        ({"definitie": json.dumps({**vorderingen_v4(), "naam": "x"})}, "Bij het begin staat iets wat niet hoort: naam"),
        ({"definitie": "x" * 70_000}, "De tekst is te lang."),
        ({"bestand": SimpleUploadedFile("groot.json", b" " * 70_000)}, "Het bestand is te groot."),
        ({"bestand": SimpleUploadedFile("plaatje.json", b"\xff\xd8\xff")}, "Dit bestand is geen tekst (UTF-8)."),
        (
            {"definitie": "{}", "bestand": SimpleUploadedFile("v.json", b"{}")},
            "Plak de tekst of kies een bestand, niet allebei.",
        ),
    ],
    ids=[
        "nothing",
        "not-json",
        "too-deep",
        "not-higher",
        "other-id",
        "unknown-part",
        "too-long",
        "too-big",
        "binary",
        "both",
    ],
)
def test_a_wrong_version_is_refused_in_words_and_nothing_is_published(operator, form, words):
    response = operator.post(NEW, form)
    page = response.content.decode()
    assert response.status_code == 400
    assert words in page and "Het is nog niet gepubliceerd." in page
    assert not PublishedDocumentType.objects.exists()


def test_a_version_another_operator_published_first_is_refused_at_the_confirm_step(operator):
    publish_version(vorderingen_v4(), actor="bram")
    response = operator.post(NEW, {"definitie": json.dumps(vorderingen_v4()), "confirmed": "ja"})
    assert response.status_code == 400  # checked again before the confirm step publishes
    assert "De nieuwste versie van vorderingen is 4" in response.content.decode()
    assert PublishedDocumentType.objects.get().published_by == "bram"


def test_the_pages_speak_english(operator):
    operator.post("/i18n/setlang/", {"language": "en", "next": CATALOGUE})
    page = operator.get(CATALOGUE).content.decode()
    assert "Outstanding payments (vorderingen)" in page and "Publish a new version" in page
    page = operator.post(NEW, {"definitie": "{ geen json"}).content.decode()
    assert "This is not JSON. Look at line 1, character 3." in page
