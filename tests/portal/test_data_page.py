"""The data page and its downloads: minimal by default, choices kept, the organisation named."""

import csv
import io
import re
from datetime import date

import pytest

from blauweknop.holder.models import SourceRecord

from .conftest import BELASTING, GEMEENTE, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def _press(client, oin):
    response = client.post(f"/organisaties/{oin}/blauwe-knop/")
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def _download(client, oin, type_id, fields, fmt):
    return client.post(f"/organisaties/{oin}/downloaden/", {"documentsoort": type_id, "veld": fields, "formaat": fmt})


def _ticked(html: str, type_id: str) -> set[str]:
    """The paths whose box is ticked in the form of ``type_id``."""
    form = re.search(rf'value="{type_id}">(.*?)</form>', html, re.S).group(1)
    return set(re.findall(r'name="veld" value="([^"]+)" checked', form))


def _all(html: str, type_id: str) -> set[str]:
    form = re.search(rf'value="{type_id}">(.*?)</form>', html, re.S).group(1)
    return set(re.findall(r'name="veld" value="([^"]+)"', form))


@pytest.fixture
def resident(client, two_citizen_bsns):
    """A citizen logged in, with personal data at the municipality (which carries the BSN)."""
    assert log_in(client, two_citizen_bsns[0]).status_code == 302
    return client


def test_it_leaves_the_bsn_unticked_as_the_catalogue_marks_it_bijzonder(resident):
    html = _press(resident, GEMEENTE)
    every, ticked = _all(html, "persoonsgegevens"), _ticked(html, "persoonsgegevens")
    assert "burgerservicenummer" in every
    assert ticked == every - {"burgerservicenummer"}
    assert "Alles heeft een vinkje" not in html


def test_it_keeps_what_the_citizen_chose_after_an_error(resident):
    html = _press(resident, GEMEENTE)
    debts_before = _ticked(html, "vorderingen")
    assert _download(resident, GEMEENTE, "persoonsgegevens", [], "csv").status_code == 302
    html = resident.get(f"/organisaties/{GEMEENTE}/gegevens/").content.decode()
    assert "Kies minstens één gegeven" in html
    assert _ticked(html, "persoonsgegevens") == set()  # nothing sent, nothing ticked
    assert _ticked(html, "vorderingen") == debts_before  # the other type is as it was
    _download(resident, GEMEENTE, "persoonsgegevens", ["naam.voornamen", "../../etc"], "sdjwt")
    html = resident.get(f"/organisaties/{GEMEENTE}/gegevens/").content.decode()
    assert _ticked(html, "persoonsgegevens") == {"naam.voornamen"}


def test_it_names_the_organisation_in_the_heading_and_title(resident):
    html = _press(resident, GEMEENTE)
    assert re.search(r"<title>[^<]*Uw gegevens bij Gemeente Voorbeeldstad", html)
    assert re.search(r"<h1[^>]*>Uw gegevens bij Gemeente Voorbeeldstad</h1>", html)


def test_it_names_every_download_after_the_organisation(citizen):
    _press(citizen, BELASTING)
    today = date.today().isoformat()
    for fmt in ("sdjwt", "json", "csv"):
        response = _download(citizen, BELASTING, "inkomen", ["belastingjaar"], fmt)
        expected = f'attachment; filename="belastingkantoor-inkomen-{today}.{fmt}"'
        assert response["Content-Disposition"] == expected


def _csv_rows(response) -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


@pytest.fixture
def debtor(client, demo_world):
    """A citizen logged in with a debt at the tax office under a payment arrangement: its position and data."""
    for record in SourceRecord.objects.filter(holder_oin=BELASTING, document_type="vorderingen").order_by("bsn"):
        for n, debt in enumerate(record.data["vorderingen"]):
            if "betalingsregeling" in debt:
                assert log_in(client, record.bsn).status_code == 302
                return client, n, debt
    pytest.fail("no demo citizen has a payment arrangement")


def test_it_writes_csv_for_a_dutch_spreadsheet(debtor):
    citizen, n, first = debtor
    html = _press(citizen, BELASTING)
    fields = [
        f"vorderingen.{n}.openstaandBedragInCenten",
        f"vorderingen.{n}.vervaldatum",
        f"vorderingen.{n}.betalingsregeling.actief",
    ]
    assert set(fields) <= _all(html, "vorderingen")
    rows = _csv_rows(_download(citizen, BELASTING, "vorderingen", fields, "csv"))
    assert rows[0] == ["gegeven", "omschrijving", "waarde"]
    # the one chosen debt is the first (and only) in the file
    values = {row[0].replace("vorderingen.0.", ""): row[2] for row in rows[1:]}
    cents = first["openstaandBedragInCenten"]
    assert values["openstaandBedragInCenten"] == f"{cents // 100},{cents % 100:02d}"
    assert values["vervaldatum"] == first["vervaldatum"]  # ISO: every spreadsheet reads it as a date
    assert values["betalingsregeling.actief"] == ("ja" if first["betalingsregeling"]["actief"] else "nee")


def test_it_writes_yes_and_no_in_an_english_csv(debtor):
    citizen, n, debt = debtor
    _press(citizen, BELASTING)
    citizen.cookies["django_language"] = "en"
    rows = _csv_rows(_download(citizen, BELASTING, "vorderingen", [f"vorderingen.{n}.betalingsregeling.actief"], "csv"))
    assert rows[1][2] == ("yes" if debt["betalingsregeling"]["actief"] else "no")


def test_it_refuses_to_let_a_text_value_run_as_a_spreadsheet_formula(citizen, citizen_bsn):
    record = SourceRecord.objects.get(holder_oin=BELASTING, document_type="vorderingen", bsn=citizen_bsn)
    record.data["vorderingen"][0]["omschrijving"] = '=HYPERLINK("https://example.invalid","klik")'
    record.save()
    _press(citizen, BELASTING)
    rows = _csv_rows(_download(citizen, BELASTING, "vorderingen", ["vorderingen.0.omschrijving"], "csv"))
    assert rows[1][2] == '\'=HYPERLINK("https://example.invalid","klik")'
