"""'Wie heeft mijn gegevens ingezien?' says what truly happened, and pages through it without gaps or doubles."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from blauweknop.audit.models import AccessRecord
from blauweknop.demo.organisations import ORGANISATIONS, PORTAL_OIN
from blauweknop.holder.models import SourceRecord, Tenant
from blauweknop.portal import access
from blauweknop.portal.models import CitizenEvent
from blauweknop.portal.timeline import PORTAL, Place, portal_key, to_link
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation

from .conftest import BELASTING, GEMEENTE, download_form, log_in
from .test_holder_failures import JSON, hostile_holder  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db(transaction=True)

FETCHED = "Opgehaald om te bekijken, op uw verzoek"
PRINTED = "U heeft een PDF gemaakt en gedownload"
SEARCHED = "Op uw verzoek gezocht, niets gevonden"
DOWNLOADED = {
    "sdjwt": "U heeft een digitale kopie gedownload (.sdjwt)",
    "pdf": "U heeft een PDF gedownload",
    "json": "U heeft een JSON-bestand gedownload",
    "csv": "U heeft een CSV-bestand gedownload, voor een spreadsheet",
}
CHECKED = "Uw kopie is gecontroleerd op de controlepagina"
EVERY_SENTENCE = (FETCHED, PRINTED, SEARCHED, CHECKED, *DOWNLOADED.values())


def _press(client, oin=BELASTING):
    assert client.post(f"/organisaties/{oin}/blauwe-knop/").status_code == 302


def _download(client, fmt, fields=("belastingjaar",)):
    response = client.post(f"/organisaties/{BELASTING}/downloaden/", download_form("inkomen", list(fields), fmt))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    return response


def _said(client, path="/mijn-inzage/") -> dict[str, int]:
    page = client.get(path).content.decode()
    return {sentence: page.count(f">{sentence}<") for sentence in EVERY_SENTENCE if f">{sentence}<" in page}


def test_it_says_fetched_to_view_when_the_button_is_pressed_not_downloaded(citizen):
    _press(citizen)
    said = _said(citizen)
    assert set(said) == {FETCHED}  # one per document type fetched; nothing was downloaded
    assert said[FETCHED] == AccessRecord.objects.count()


@pytest.mark.parametrize("fmt", ["sdjwt", "json", "csv"])
def test_a_download_is_recorded_in_its_format(citizen, fmt):
    _press(citizen)
    _download(citizen, fmt)
    said = _said(citizen)
    assert said.pop(DOWNLOADED[fmt]) == 1
    assert set(said) == {FETCHED}


def _rows(html: str) -> list[tuple[str, str]]:
    """What happened and by whom, row by row."""
    return re.findall(r'data-label="Wat gebeurde er">([^<]+)</td>.*?data-label="Door wie">([^<]+)</td>', html, re.S)


def test_it_refuses_to_show_one_pdf_download_as_two_entries(citizen):
    _press(citizen)
    _download(citizen, "pdf")
    said = _said(citizen)
    assert said.pop(PRINTED) == 1  # the holder made it for this download: one entry, by you, not "afgedrukt"
    assert set(said) == {FETCHED}
    assert (PRINTED, "U") in _rows(citizen.get("/mijn-inzage/").content.decode())
    assert not CitizenEvent.objects.exists()
    printed = AccessRecord.objects.get(activity="basis-afdrukken")
    assert (printed.document_type, printed.fields, printed.actor_oin) == ("inkomen", ["belastingjaar"], PORTAL_OIN)


def test_a_check_on_the_verify_page_shows_as_a_check_by_someone(citizen):
    _press(citizen)
    copy = _download(citizen, "sdjwt").content
    receiver = Client()
    receiver.post("/controleren/", {"bestand": _upload(copy)})
    rows = _rows(citizen.get("/mijn-inzage/").content.decode())
    assert (CHECKED, "U, of iemand aan wie u de kopie gaf") in rows  # most often it was the citizen
    assert not any("Iemand" in what or "Iemand" in who for what, who in rows)


def test_a_press_at_an_organisation_with_nothing_shows_that_it_looked_you_up(client, demo_world):
    issued = set(next(o for o in ORGANISATIONS if o["oin"] == GEMEENTE)["document_types"])
    held: dict[str, set[str]] = {}
    for bsn, type_id in SourceRecord.objects.filter(holder_oin=GEMEENTE).values_list("bsn", "document_type"):
        held.setdefault(bsn, set()).add(type_id)
    bsn, kinds = next((bsn, kinds) for bsn, kinds in sorted(held.items()) if kinds < issued)
    assert log_in(client, bsn).status_code == 302
    _press(client, GEMEENTE)
    rows = _rows(client.get("/mijn-inzage/").content.decode())
    assert rows.count((SEARCHED, "De Blauwe Knop")) == len(issued - kinds)
    searched = AccessRecord.objects.filter(activity="basis-zoeken")
    assert set(searched.values_list("document_type", flat=True)) == issued - kinds
    assert all(record.fields == [] and record.actor_oin == PORTAL_OIN for record in searched)


def test_it_says_nothing_that_did_not_happen(citizen):
    assert _said(citizen) == {}
    assert (
        "Er is nog niets met uw gegevens gebeurd via de Blauwe Knop." in citizen.get("/mijn-inzage/").content.decode()
    )
    _press(citizen)
    refused = citizen.post(f"/organisaties/{BELASTING}/downloaden/", download_form("inkomen", [], "json"))
    assert refused.status_code == 302  # nothing chosen: nothing downloaded
    Client().post("/controleren/", {"bestand": _upload(b"geen kopie")})
    assert set(_said(citizen)) == {FETCHED}
    assert not CitizenEvent.objects.exists()


def _upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("kopie.sdjwt", content, content_type="application/octet-stream")


def _entries(html: str) -> list[str]:
    return re.findall(r'data-label="Welke gegevens">([^<]+)</td>', html)


def _link(html: str, name: str) -> str | None:
    found = re.search(rf'href="(\?[^"]+)"[^>]*>{name}<', html)
    return "/mijn-inzage/" + found.group(1) if found else None


@pytest.fixture
def crowded_log(citizen, citizen_bsn, monkeypatch):
    """47 entries at the tax office, the municipality and the portal, most at one and the same moment."""
    monkeypatch.setattr(access, "PAGE_SIZE", 5)
    _press(citizen, BELASTING)
    _press(citizen, GEMEENTE)
    AccessRecord.objects.all().delete()
    subject, moment = pseudonym(citizen_bsn), datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    names = []
    for oin in (BELASTING, GEMEENTE):
        for n in range(15):
            name = f"{oin[-9:-3]}-{n:02d}"
            at = moment if n < 12 else moment - timedelta(minutes=n)
            AccessRecord.objects.create(
                at=at,
                subject=subject,
                holder=Tenant.objects.get(pk=oin),
                actor_oin=PORTAL_OIN,
                activity="basis-ophalen",
                purpose="p",
                legal_basis="verzoek-betrokkene",
                document_type=name,
            )
            names.append(name)
    for n in range(17):
        name = f"portaal-{n:02d}"
        at = moment if n < 10 else moment + timedelta(seconds=n)
        CitizenEvent.objects.create(
            citizen=subject, holder_oin=BELASTING, document_type=name, activity="gedownload", format="csv", at=at
        )
        names.append(name)
    return citizen, names


def test_paging_has_no_gaps_or_doubles_across_holders_with_equal_timestamps(crowded_log):
    citizen, names = crowded_log
    pages, path = [], "/mijn-inzage/"
    while path is not None:
        html = citizen.get(path).content.decode()
        pages.append(_entries(html))
        path = _link(html, "Oudere")
    seen = [name for page in pages for name in page]
    assert sorted(seen) == sorted(names)  # every entry once: no gap, no double
    assert all(len(page) == 5 for page in pages[:-1]) and len(pages) == 10
    # And back again, newer page by newer page, to the newest.
    back, path = [], _link(html, "Nieuwere")
    while path is not None:
        html = citizen.get(path).content.decode()
        back.append(_entries(html))
        path = _link(html, "Nieuwere")
    assert sorted(name for page in back for name in page) == sorted(seen[: -len(pages[-1])])
    assert back[-1] == pages[0]


def test_it_refuses_to_put_a_holders_record_id_or_a_moment_in_a_link(crowded_log):
    citizen, _ = crowded_log
    kenmerken = set(AccessRecord.objects.values_list("span_id", flat=True))
    html, path, links = "", "/mijn-inzage/", []
    while path is not None:
        html = citizen.get(path).content.decode()
        links += re.findall(r'href="([^"]*)"', html)
        path = _link(html, "Oudere")
    paging = [link for link in links if "voor=" in link or "na=" in link]
    assert len(paging) >= 10
    for link in paging:
        assert not any(kenmerk in link for kenmerk in kenmerken)
        assert "~" not in link and "2026" not in link and "portaal" not in link and BELASTING not in link


def test_a_holder_that_is_down_is_named_and_the_rest_is_shown(crowded_log, deployment):
    citizen, _ = crowded_log
    Organisation.objects.filter(oin=GEMEENTE).update(base_url="http://127.0.0.1:9")
    publication.publish()
    scheme_client.forget()
    html = citizen.get("/mijn-inzage/").content.decode()
    assert "Kijk later nog eens: Gemeente Voorbeeldstad" in html
    assert _entries(html) and all(not name.startswith(GEMEENTE[-9:-3]) for name in _entries(html))


@pytest.mark.parametrize(
    "query",
    [
        "voor=x",
        "na=2026-13-45T10:00:00Z~portaal~00000000000000000001",
        "voor=2026-11-01T10:00:00~portaal~1",
        "voor=2026-11-01T10:00:00Z~portaal~abc",
        "na=2026-11-01T10:00:00Z~123~0123456789abcdef",
        "voor=" + "~" * 5000,
        "voor=9999-12-31T23:59:59.999999Z~portaal~00000000000000000001",
        "na=0001-01-01T00:00:00Z~00000000000000000000~0123456789abcdef",
        "voor=9999-12-31T23:59:59.999999%2B00:00~portaal~00000000000000000001",
        "voor=8999-12-31T23:59:59.999999-14:00~portaal~00000000000000000001",
        "na=8999-12-31T23:59:59.999999-14:00~00000000000000000000~0123456789abcdef",
        "voor=0001-01-01T00:00:00%2B14:00~portaal~00000000000000000001",
        "na=0001-01-01T00:00:00%2B14:00~00000000000000000000~0123456789abcdef",
        "voor=2101-01-01T00:00:00Z~portaal~00000000000000000001",
        "na=1999-12-31T23:59:59Z~00000000000000000000~0123456789abcdef",
    ],
)
def test_it_shows_the_newest_for_a_place_that_is_not_one(citizen, query):
    _press(citizen)
    response = citizen.get(f"/mijn-inzage/?{query}")
    html = response.content.decode()
    assert response.status_code == 200 and f">{FETCHED}<" in html
    assert _link(html, "Nieuwste") is None and _link(html, "Nieuwere") is None  # the newest page itself


@pytest.mark.parametrize("at", [datetime(2150, 1, 1, tzinfo=UTC), datetime(1999, 12, 31, 23, 59, tzinfo=UTC)])
def test_it_shows_the_newest_for_a_sealed_place_outside_the_years_a_record_can_have(citizen, citizen_bsn, at):
    _press(citizen)
    sealed = to_link(Place(at, PORTAL, portal_key(1)), access._link_key(), pseudonym(citizen_bsn).encode())
    html = citizen.get(f"/mijn-inzage/?voor={sealed}").content.decode()
    assert f">{FETCHED}<" in html and _link(html, "Nieuwste") is None


def test_it_refuses_a_place_from_a_link_that_was_changed_or_is_another_citizens(crowded_log, citizen_bsn):
    citizen, _ = crowded_log
    older = _link(citizen.get("/mijn-inzage/").content.decode(), "Oudere")
    token = older.split("voor=", 1)[1]
    changed = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for query in (f"voor={changed}", f"na={token}x", f"voor={token[:20]}"):
        html = citizen.get(f"/mijn-inzage/?{query}").content.decode()
        assert _link(html, "Nieuwste") is None and _link(html, "Nieuwere") is None
    someone_else = SourceRecord.objects.exclude(bsn=citizen_bsn).values_list("bsn", flat=True).first()
    other = Client()
    log_in(other, someone_else)
    assert _link(other.get(older).content.decode(), "Nieuwste") is None


@pytest.mark.parametrize("at", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+14:00", "2150-01-01T00:00:00Z"])
def test_it_leaves_out_a_holders_record_at_a_moment_no_link_can_name(citizen, hostile_holder, caplog, at):  # noqa: F811
    record = b'{"kenmerk": "0123456789abcdef", "gevraagdDoor": "x", "documentsoort": "x", "activiteit": "x", '
    hostile_holder.answer = (200, JSON, b'{"inzages": [' + record + b'"tijdstip": "' + at.encode() + b'"}]}')
    _press(citizen)
    response = citizen.get("/mijn-inzage/")
    html = response.content.decode()
    assert response.status_code == 200 and f">{FETCHED}<" in html and ">x<" not in html
    assert any("out of range; left out" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def test_it_names_this_portal_as_its_header_does_in_either_language(citizen):
    _press(citizen)
    assert (FETCHED, "De Blauwe Knop") in _rows(citizen.get("/mijn-inzage/").content.decode())
    citizen.cookies["django_language"] = "en"
    english = citizen.get("/mijn-inzage/").content.decode()
    assert "The Blue Button</td>" in english
    assert "De Blauwe Knop</td>" not in english
