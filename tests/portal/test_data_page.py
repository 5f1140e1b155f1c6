"""The data page and its downloads: minimal by default, choices kept, the organisation named."""

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest

from blauweknop.holder.models import SourceRecord
from blauweknop.portal.models import CitizenEvent
from blauweknop.pseudonyms import pseudonym

from .conftest import BELASTING, GEMEENTE, download_form, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def _press(client, oin):
    response = client.post(f"/organisaties/{oin}/blauwe-knop/")
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def _form(html: str) -> dict[str, list[str]]:
    """What the data page's form sends as it is shown: its hidden fields and every ticked box."""
    form = re.search(r'<form id="gegevens"(.*?)</form>', html, re.S).group(1)
    sent: dict[str, list[str]] = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name, value = re.search(r'name="([^"]+)"', tag).group(1), re.search(r'value="([^"]*)"', tag).group(1)
        if 'type="hidden"' in tag or " checked" in tag:
            sent.setdefault(name, []).append(value)
    return sent


def _download(client, oin, type_id, fields, fmt):
    return client.post(f"/organisaties/{oin}/downloaden/", download_form(type_id, fields, fmt))


def _send(client, form, download, oin=BELASTING):
    """Send the data page's ``form`` as its button ``download`` would."""
    return client.post(f"/organisaties/{oin}/downloaden/", {**form, "download": download})


def _section(html: str, type_id: str) -> str:
    return re.search(rf'<details [^>]*data-documentsoort="{type_id}".*?</details>', html, re.S).group(0)


def _ticked(html: str, type_id: str) -> set[str]:
    """The paths whose box is ticked in the section of ``type_id``."""
    return set(re.findall(rf'name="veld-{type_id}" value="([^"]+)" checked', _section(html, type_id)))


def _all(html: str, type_id: str) -> set[str]:
    return set(re.findall(rf'name="veld-{type_id}" value="([^"]+)"', _section(html, type_id)))


@pytest.fixture
def resident(client, demo_world):
    """A citizen logged in, with personal data (which carries the BSN) and debts at the municipality."""
    debtors = SourceRecord.objects.filter(holder_oin=GEMEENTE, document_type="vorderingen").values_list("bsn")
    bsn = SourceRecord.objects.filter(holder_oin=GEMEENTE, bsn__in=debtors).values_list("bsn", flat=True).first()
    assert bsn is not None, "no demo citizen has debts at the municipality"
    assert log_in(client, bsn).status_code == 302
    return client


def test_it_leaves_the_bsn_unticked_as_the_catalogue_marks_it_bijzonder(resident):
    html = _press(resident, GEMEENTE)
    every, ticked = _all(html, "persoonsgegevens"), _ticked(html, "persoonsgegevens")
    assert "burgerservicenummer" in every
    assert ticked == every - {"burgerservicenummer"}
    assert "Alles heeft een vinkje" not in html


def test_it_keeps_what_the_citizen_chose_after_an_error(resident):
    html = _press(resident, GEMEENTE)
    form = _form(html)
    debts_before = _ticked(html, "vorderingen")
    form["veld-persoonsgegevens"] = []
    response = _send(resident, form, "persoonsgegevens:csv", GEMEENTE)
    assert response.status_code == 302
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


def _csv_rows(response, separator=";") -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=separator))


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
    assert rows[0] == ["Nog te betalen", "Betalen voor", "Betalingsregeling"]  # labels, not the catalogue's paths
    assert len(rows) == 2  # the one chosen debt is the only row
    cents = first["openstaandBedragInCenten"]
    assert rows[1][0] == f"{cents // 100},{cents % 100:02d}"
    assert rows[1][1] == first["vervaldatum"]  # ISO: every spreadsheet reads it as a date
    assert rows[1][2] == ("ja" if first["betalingsregeling"]["actief"] else "nee")


def test_it_writes_an_english_csv_for_an_english_spreadsheet(debtor):
    citizen, n, debt = debtor
    _press(citizen, BELASTING)
    citizen.cookies["django_language"] = "en"
    fields = [f"vorderingen.{n}.openstaandBedragInCenten", f"vorderingen.{n}.betalingsregeling.actief"]
    rows = _csv_rows(_download(citizen, BELASTING, "vorderingen", fields, "csv"), separator=",")
    assert rows[0] == ["Still to pay", "Payment plan"]
    cents = debt["openstaandBedragInCenten"]
    assert rows[1] == [f"{cents // 100}.{cents % 100:02d}", "yes" if debt["betalingsregeling"]["actief"] else "no"]


def test_it_refuses_to_let_a_text_value_run_as_a_spreadsheet_formula(citizen, citizen_bsn):
    record = SourceRecord.objects.get(holder_oin=BELASTING, document_type="vorderingen", bsn=citizen_bsn)
    record.data["vorderingen"][0]["omschrijving"] = '=HYPERLINK("https://example.invalid","klik")'
    record.save()
    _press(citizen, BELASTING)
    rows = _csv_rows(_download(citizen, BELASTING, "vorderingen", ["vorderingen.0.omschrijving"], "csv"))
    assert rows[1][0] == '\'=HYPERLINK("https://example.invalid","klik")'


def test_it_says_calmly_that_an_organisation_has_no_data_of_a_type(client, demo_world):
    at_municipality = SourceRecord.objects.filter(holder_oin=GEMEENTE)
    with_debts = at_municipality.filter(document_type="vorderingen").values_list("bsn", flat=True)
    bsn = at_municipality.exclude(bsn__in=with_debts).values_list("bsn", flat=True).first()
    assert log_in(client, bsn).status_code == 302
    html = _press(client, GEMEENTE)
    said = "U hoeft niets te betalen aan Gemeente Voorbeeldstad."
    assert said in html
    before = html[: html.index(said)]
    assert before[before.rindex('role="') :].startswith('role="status"'), "information, not an alert"
    assert 'role="alert"' not in html


def _debts(bsn, *debts):
    """Give the citizen exactly these debts at the tax office: (still owed in cents, last day to pay)."""
    record = SourceRecord.objects.get(holder_oin=BELASTING, document_type="vorderingen", bsn=bsn)
    template = record.data["vorderingen"][0]
    record.data["vorderingen"] = [
        {**template, "kenmerk": f"K-{n}", "openstaandBedragInCenten": owed, "vervaldatum": due.isoformat()}
        for n, (owed, due) in enumerate(debts)
    ]
    record.save()


def test_it_shows_the_total_still_owed_and_since_when_a_payment_is_late(citizen, citizen_bsn):
    today = date.today()
    _debts(
        citizen_bsn,
        (10000, date(today.year - 1, 3, 1)),  # late
        (2345, date(today.year + 1, 1, 1)),  # not due yet
        (0, date(today.year - 1, 4, 1)),  # paid: never late
    )
    html = _press(citizen, BELASTING)
    debts = _section(html, "vorderingen")
    assert re.search(r"Totaal nog te betalen: <strong>€\s123,45</strong>", debts)
    assert debts.count("te laat sinds") == 1
    assert f"te laat sinds 2 maart {today.year - 1}" in debts
    assert "Totaal nog te betalen" not in _section(html, "inkomen")  # income is no debt


def test_it_leaves_out_every_field_of_an_unticked_item_without_javascript(citizen, citizen_bsn):
    today = date.today()
    _debts(citizen_bsn, (100, today), (200, today))
    form = _form(_press(citizen, BELASTING))
    assert form["onderdeel-vorderingen"] == ["1", "2"]
    form["onderdeel-vorderingen"] = ["2"]  # the first debt's own box unticked; its fields still ticked
    response = _send(citizen, form, "vorderingen:json")
    sent = json.loads(response.content)
    assert [debt["kenmerk"] for debt in sent["vorderingen"]] == ["K-1"]
    html = citizen.get(f"/organisaties/{BELASTING}/gegevens/").content.decode()
    assert not {p for p in _ticked(html, "vorderingen") if p.startswith("vorderingen.0.")}
    assert 'name="onderdeel-vorderingen" value="1" checked' not in html
    assert 'name="onderdeel-vorderingen" value="2" checked' in html


def test_it_says_by_an_item_s_own_box_that_without_its_tick_nothing_of_the_item_is_downloaded(citizen, citizen_bsn):
    _debts(citizen_bsn, (100, date.today()))
    html = _section(_press(citizen, BELASTING), "vorderingen")
    start = html.index("blauweknop-item__box")
    box = html[start : html.index('name="veld-vorderingen"', start)]
    assert 'name="onderdeel-vorderingen" value="1" checked' in box
    hint = "Zonder vinkje hier komt niets van dit onderdeel in uw bestand, ook niet wat hieronder aangevinkt staat."
    assert re.search(rf'id="onderdeel-uitleg-vorderingen-1">{hint}<', box), "the box's own description"
    # Without JavaScript the fields below keep their ticks: the style sheet shows this while the box is unticked.
    assert re.search(r'class="[^"]*blauweknop-left-out">Dit onderdeel komt niet in uw bestand.<', box)


def test_it_names_an_item_by_what_it_is_and_says_that_a_tick_shares_nothing_yet(citizen, citizen_bsn):
    _debts(citizen_bsn, (100, date.today()))
    html = _press(citizen, BELASTING)
    lead = "Wat een vinkje heeft, komt in uw bestand. U deelt nog niets: dat doet u pas als u het bestand aan iemand"
    assert lead + " geeft." in html
    assert "Zet een vinkje bij wat u wilt delen" not in html
    label = re.search(r'value="1" checked aria-describedby="[^"]+">\s*<strong>([^<]+)</strong>', html).group(1)
    assert re.fullmatch(r"[A-Z][^,]+, K-0, € 1,00", label), label
    assert "Nummer 1" not in html


def test_it_marks_a_last_day_to_object_that_has_passed(citizen, citizen_bsn):
    today = date.today()
    _debts(citizen_bsn, (100, today), (100, today))
    record = SourceRecord.objects.get(holder_oin=BELASTING, document_type="vorderingen", bsn=citizen_bsn)
    record.data["vorderingen"][0]["bezwaarTot"] = (today - timedelta(days=1)).isoformat()
    record.data["vorderingen"][1]["bezwaarTot"] = today.isoformat()  # the last day itself is still open
    record.save()
    debts = _section(_press(citizen, BELASTING), "vorderingen")
    assert debts.count("(deze datum is voorbij)") == 1
    assert "(deze datum is voorbij)" in debts.split('data-onderdeel="2"')[0]


def test_it_says_in_the_section_whose_button_was_pressed_that_nothing_was_ticked_there(citizen):
    form = _form(_press(citizen, BELASTING))
    form["veld-inkomen"] = []
    response = _send(citizen, form, "inkomen:csv")
    assert (response.status_code, response["Location"]) == (302, f"/organisaties/{BELASTING}/gegevens/#soort-inkomen")
    html = citizen.get(response["Location"].partition("#")[0]).content.decode()
    said = "Kies minstens één gegeven bij Inkomen. Zet er een vinkje bij en download opnieuw."
    assert re.search(rf'role="alert" id="leeg-inkomen">.*{said}', _section(html, "inkomen"), re.S)
    assert html.count('role="alert"') == 1, "said once, where the page opens"
    assert said not in _section(html, "vorderingen")
    again = citizen.get(f"/organisaties/{BELASTING}/gegevens/").content.decode()
    assert 'role="alert"' not in again, "a reload no longer shows the old error"


def test_it_keeps_every_choice_after_a_language_switch(resident):
    html = _press(resident, GEMEENTE)
    form = _form(html)
    form["veld-persoonsgegevens"] = ["naam.geslachtsnaam"]
    form["veld-vorderingen"] = form["veld-vorderingen"][:1]
    response = resident.post(f"/organisaties/{GEMEENTE}/taal/", {**form, "language": "en"})
    assert (response.status_code, response["Location"]) == (302, f"/organisaties/{GEMEENTE}/gegevens/")
    html = resident.get(response["Location"]).content.decode()
    assert '<html lang="en"' in html
    assert _ticked(html, "persoonsgegevens") == {"naam.geslachtsnaam"}
    assert _ticked(html, "vorderingen") == set(form["veld-vorderingen"])
    # the switch on this page belongs to its form, so that it sends the choices along
    switch = r'<button [^>]*form="gegevens" formaction="/organisaties/\d+/taal/" name="language" value="nl"'
    assert re.search(switch, html)


def test_it_answers_a_double_click_with_one_download_and_one_record(citizen, citizen_bsn):
    form = _form(_press(citizen, BELASTING))
    first, again = _send(citizen, form, "inkomen:sdjwt"), _send(citizen, form, "inkomen:sdjwt")
    other = _send(citizen, form, "inkomen:csv")
    assert (first.status_code, again.status_code, other.status_code) == (200, 204, 200)
    assert again.content == b""
    recorded = CitizenEvent.objects.filter(citizen=pseudonym(citizen_bsn), activity=CitizenEvent.Activity.DOWNLOADED)
    assert sorted(recorded.values_list("format", flat=True)) == ["csv", "sdjwt"]
    # a new page is a new choice: the same download from it is a second file
    form = _form(citizen.get(f"/organisaties/{BELASTING}/gegevens/").content.decode())
    assert _send(citizen, form, "inkomen:sdjwt").status_code == 200


def test_it_records_no_download_that_did_not_happen(citizen, citizen_bsn):
    form = _form(_press(citizen, BELASTING))
    form["veld-inkomen"] = []
    assert _send(citizen, form, "inkomen:sdjwt").status_code == 302
    assert not CitizenEvent.objects.filter(citizen=pseudonym(citizen_bsn)).exists()


def test_it_offers_the_pdf_first_a_way_back_and_sections_that_fold(citizen):
    html = _press(citizen, BELASTING)
    for type_id in ("inkomen", "vorderingen"):
        section = _section(html, type_id)
        assert re.match(r"<details [^>]*open", section) and "<summary>" in section
        buttons = re.findall(r'name="download" value="[^:]+:(\w+)"', section)
        assert buttons == ["pdf", "sdjwt", "csv", "json"]
    assert re.search(rf'class="[^"]*blauweknop-back"><a [^>]*href="/organisaties/{BELASTING}/"', html)


ALLOWANCES = "00000001001806418000"
NOT_FETCHED = "Er zijn nog geen gegevens opgehaald."


def test_it_says_once_that_there_is_nothing_to_download_when_an_organisation_has_nothing(client, demo_world):
    bsn = SourceRecord.objects.exclude(bsn__in=SourceRecord.objects.filter(holder_oin=ALLOWANCES).values("bsn"))
    assert log_in(client, bsn.values_list("bsn", flat=True).first()).status_code == 302
    html = _press(client, ALLOWANCES)
    said = (  # it holds allowances and allowances to pay back (issue 9): one sentence for each, then one conclusion
        "U krijgt geen toeslag van Toeslagendienst Voorbeeldland. U hoeft niets te betalen aan Toeslagendienst "
        "Voorbeeldland. Er is dus niets om te downloaden."
    )
    assert html.count(said) == 1
    assert "geen toeslagen over u" not in html
    assert NOT_FETCHED not in html  # pressing again would not help
    assert re.search(r'<a [^>]*href="/">Terug naar het begin</a>', html)
    again = client.get(f"/organisaties/{ALLOWANCES}/gegevens/").content.decode()
    assert said in again and NOT_FETCHED not in again  # reloaded: still true, still said once
    client.cookies["django_language"] = "en"
    english = client.get(f"/organisaties/{ALLOWANCES}/gegevens/").content.decode()
    assert "You get no allowance from Toeslagendienst Voorbeeldland." in english
    assert "So there is nothing to download." in english


def test_it_offers_the_blauwe_knop_itself_when_nothing_was_fetched(citizen):
    html = citizen.get(f"/organisaties/{BELASTING}/gegevens/").content.decode()
    assert NOT_FETCHED in html and "Ga terug" not in html
    press = re.search(rf'<form action="/organisaties/{BELASTING}/blauwe-knop/" method="post">(.*?)</form>', html, re.S)
    assert press and 'class="blauweknop-button" type="submit"' in press.group(1)
    assert "csrfmiddlewaretoken" in press.group(1)


@pytest.mark.parametrize(
    "form",
    [
        {"download": "inkomen"},
        {"download": ":" * 500},
        {"download": "inkomen:exe", "veld-inkomen": ["belastingjaar"]},
        {"download": "vorderingen:json", "veld-vorderingen": ["vorderingen.0.kenmerk"], "onderdeel-vorderingen": "-1"},
        {"download": "onbekend:json", "veld-onbekend": ["x"], "onderdeel-inkomen": ["\x00"]},
    ],
)
def test_it_refuses_a_form_it_did_not_send_in_plain_words(citizen, form):
    _press(citizen, BELASTING)
    response = _send(citizen, form, form["download"])
    assert response.status_code == 302
    assert response["Location"].partition("#")[0] == f"/organisaties/{BELASTING}/gegevens/"
    switched = citizen.post(
        f"/organisaties/{BELASTING}/taal/", {**form, "language": "xx", "next": "https://evil.example/"}
    )
    assert switched.status_code == 302 and not switched["Location"].startswith("https://evil.example")
