"""The debt overview page and its bundle: two citizens, two holders of debts, each citizen sees only their own."""

import hashlib
import io
import json
import re
import shutil
import subprocess
import zipfile
from html import unescape
from itertools import combinations

import httpx
import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier

from blauweknop import keystore, pdf
from blauweknop.display import format_value
from blauweknop.holder.models import SourceRecord
from blauweknop.portal import bundle as bundle_module
from blauweknop.portal.models import CitizenEvent
from blauweknop.portal.verification import verify_credential
from blauweknop.protocol import scheme_document, sdjwt
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.jwk import thumbprint
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client, trust_anchor
from blauweknop.scheme.models import Organisation

from .conftest import log_in
from .test_holder_failures import _move

pytestmark = pytest.mark.django_db(transaction=True)

WHO_SIGNED_WHAT = (
    "Elke organisatie heeft haar eigen deel ondertekend. De Blauwe Knop heeft die handtekeningen nagekeken, "
    "maar staat niet in voor de bedragen. De Blauwe Knop heeft dit PDF-bestand ondertekend, "
    "zodat u ziet dat er na het maken niets is veranderd."
)


@pytest.fixture
def debtors(demo_world):
    """Two holders of debts, and two citizens who owe something at both."""
    records = SourceRecord.objects.filter(document_type="vorderingen")
    by_holder: dict[str, set[str]] = {}
    for oin, bsn in records.values_list("holder_oin", "bsn"):
        by_holder.setdefault(oin, set()).add(bsn)
    for first, second in combinations(sorted(by_holder), 2):
        both = sorted(by_holder[first] & by_holder[second])
        if len(both) >= 2:
            return (first, second), both[:2]
    pytest.fail("the demo world has no two citizens with debts at the same two holders")


def _records(bsn, holders):
    return [SourceRecord.objects.get(holder_oin=oin, document_type="vorderingen", bsn=bsn).data for oin in holders]


def _debts_of(bsn, holders):
    """Every debt the holders hold about ``bsn``: its reference and what is still owed."""
    found = {}
    for oin, data in zip(holders, _records(bsn, holders), strict=True):
        found[oin] = {d["kenmerk"]: d["openstaandBedragInCenten"] for d in data["vorderingen"]}
    return found


def _logged_in(bsn):
    client = Client()
    assert log_in(client, bsn).status_code == 302
    return client


def _press(client, *holders):
    for oin in holders:
        assert client.post(f"/organisaties/{oin}/blauwe-knop/").status_code == 302


def _page(client, query=""):
    response = client.get(f"/overzicht/schulden/{query}")
    assert response.status_code == 200
    return unescape(response.content.decode())


def _references(html):
    """The references of the debts listed (not the explanation of the word at the end)."""
    return set(re.findall(r"<dt>Kenmerk</dt><dd>([^<]+)</dd>", html.split('id="uitleg"')[0]))


def _missing(html):
    """The organisations the page names as missing."""
    said = re.search(r"hebben we nu geen gegevens: ([^.]+)\. Het overzicht is dus niet compleet", html)
    return said.group(1).split(", ") if said else []


def _money(cents):
    with translation.override("nl"):
        return format_value("money", cents)


def test_each_citizen_sees_exactly_their_own_debts_with_the_right_totals(debtors):
    holders, citizens = debtors
    owed = {bsn: _debts_of(bsn, holders) for bsn in citizens}
    for bsn, other in zip(citizens, reversed(citizens), strict=True):
        client = _logged_in(bsn)
        _press(client, *holders)
        html = _page(client)
        listed = _references(html)
        assert listed == {kenmerk for debts in owed[bsn].values() for kenmerk in debts}
        assert not listed & {kenmerk for debts in owed[other].values() for kenmerk in debts}
        for debts in owed[bsn].values():  # the total per creditor
            assert f'<td class="utrecht-table__cell blauweknop-amount">{_money(sum(debts.values()))}</td>' in html
        overall = sum(sum(debts.values()) for debts in owed[bsn].values())
        # Only these two were asked: the total says it leaves the others out.
        assert re.search(rf"Samen, zonder [^<:]+: <strong>{re.escape(_money(overall))}</strong>", html)
        # How to pay each debt (catalogue v3), and whom to call (the scheme document).
        paying = [
            d["betaalwijze"] for data in _records(bsn, holders) for d in data["vorderingen"] if "betaalwijze" in d
        ]
        assert all(
            f'Zet bij uw betaling: <span class="blauweknop-code">{how["betalingskenmerk"]}</span>' in html
            for how in paying
        )
        for oin in holders:
            assert f">{Organisation.objects.get(oin=oin).contact['telefoon']}</a>" in html
        assert "Wat betekent dit?" in html and "Openstaand bedrag" in html
        assert not {scheme_document_name(oin) for oin in holders} & set(_missing(html))  # both answered


def test_a_holder_that_failed_is_named_and_the_overview_says_it_is_not_complete(debtors):
    (failing, answering), (bsn, _other) = debtors
    name = scheme_document_name(failing)
    _move(failing, "http://127.0.0.1:9")
    client = _logged_in(bsn)
    _press(client, failing, answering)
    html = _page(client)
    missing = re.search(
        r"Van deze organisaties hebben we nu geen gegevens: ([^.]+)\. Het overzicht is dus niet compleet", html
    )
    assert missing and name in missing.group(1).split(", ")
    assert _references(html) == set(_debts_of(bsn, [answering])[answering])


def test_a_holder_suspended_after_the_fetch_is_named_and_its_debts_are_no_longer_shown_or_bundled(debtors):
    (suspended, answering), (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, suspended, answering)
    Organisation.objects.filter(oin=suspended).update(certification="suspended")
    publication.publish()
    scheme_client.forget()
    html = _page(client)
    assert scheme_document_name(suspended) in _missing(html)
    assert scheme_document_name(answering) not in _missing(html)
    assert _references(html) == set(_debts_of(bsn, [answering])[answering])
    files = zipfile.ZipFile(io.BytesIO(_download(client).content))
    assert [entry["oin"] for entry in json.loads(files.read("inhoud.json"))["bestanden"]][:-1] == [answering]


def scheme_document_name(oin):
    return Organisation.objects.get(oin=oin).name


def test_without_answers_it_sends_the_citizen_to_the_overview_first(debtors):
    html = _page(_logged_in(debtors[1][0]))
    assert "We hebben uw gegevens nog niet opgehaald." in html and 'href="/overzicht/"' in html
    assert "Alle schulden" not in html


def test_the_page_asks_for_a_login_first(client, demo_world):
    response = client.get("/overzicht/schulden/")
    assert response.status_code == 302 and response["Location"].startswith("/inloggen/")


@pytest.mark.parametrize(
    "query",
    ["?sorteer=%00", "?schuldeiser=" + "9" * 5000, "?regeling[]=met", "?te-laat=1&te-laat=0&sorteer=bedrag&sorteer=x"],
)
def test_it_refuses_hostile_parameters_without_failing(debtors, query):
    holders, (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, *holders)
    html = _page(client, query)
    assert "Alle schulden" in html


def test_it_filters_by_creditor_from_the_form(debtors):
    holders, (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, *holders)
    html = _page(client, f"?schuldeiser={holders[0]}&sorteer=bedrag")
    assert _references(html) == set(_debts_of(bsn, holders[:1])[holders[0]])
    assert f'<option value="{holders[0]}" selected>' in html


def test_the_print_view_has_no_forms_and_the_page_a_print_style_sheet(debtors):
    holders, (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, *holders)
    assert "weergave=afdrukken" in _page(client)
    printed = _page(client, "?weergave=afdrukken")
    assert "<form" not in printed and "Alle schulden" in printed and "<header" not in printed
    assert 'href="/static/blauweknop/debts.css"' in printed
    css = client.get("/static/blauweknop/debts.css")
    assert "@media print" in b"".join(css.streaming_content).decode()


def test_the_page_speaks_english_too(debtors):
    holders, (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, *holders)
    client.cookies["django_language"] = "en"
    html = _page(client)
    assert "All debts" in html and "What does this mean?" in html and "Alle schulden" not in html


def _download(client):
    page = _page(client)
    token = re.search(r'name="formulier" value="([^"]+)"', page).group(1)
    return client.post("/overzicht/schulden/downloaden/", {"formulier": token})


@pytest.fixture
def bundle(debtors):
    holders, (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, *holders)
    response = _download(client)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert re.fullmatch(
        r'attachment; filename="schuldenoverzicht-\d{4}-\d\d-\d\d\.zip"', response["Content-Disposition"]
    )
    assert _download(client).status_code == 200  # a new page is a new choice
    return holders, bsn, zipfile.ZipFile(io.BytesIO(response.content))


def _scheme(deployment):
    return scheme_document.verify(httpx.get(f"{deployment.url}/stelsel/api/v1/stelseldocument").text, trust_anchor())


def test_the_bundle_holds_each_sources_copy_and_they_verify_without_the_bsn(bundle, deployment):
    holders, bsn, files = bundle
    copies = [name for name in files.namelist() if name.endswith(".sdjwt")]
    assert len(copies) == 2
    manifest = json.loads(files.read("inhoud.json"))
    listed = {entry["bestand"]: entry for entry in manifest["bestanden"]}
    assert set(listed) == set(files.namelist()) - {"inhoud.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files.read(name)).hexdigest()
    scheme = _scheme(deployment)
    for name in copies:
        presentation = files.read(name).decode()
        result = verify_credential(presentation, scheme)
        assert result.claims.keys() >= {"naam", "geboorte", "vorderingen"}
        assert "burgerservicenummer" not in result.claims and bsn not in presentation
        assert scheme.issuer(result.iss).oin == listed[name]["oin"] and listed[name]["oin"] in holders
        key = JWK(**result.issuer_key.jwk)
        reference = SDJWTVerifier(presentation, lambda iss, header, key=key: key).get_verified_payload()
        assert reference["vorderingen"] == result.claims["vorderingen"]


def test_a_tampered_part_fails_verification(bundle, deployment):
    _holders, _bsn, files = bundle
    name = next(n for n in files.namelist() if n.endswith(".sdjwt"))
    jwt, disclosures, _kb = sdjwt.split(files.read(name).decode())
    changed = [d.replace(d[5], "A" if d[5] != "A" else "B", 1) for d in disclosures[:1]] + disclosures[1:]
    with pytest.raises(ProtocolError):
        verify_credential(jwt + "~" + "".join(d + "~" for d in changed), _scheme(deployment))


def test_the_pdf_is_signed_by_the_portal_and_says_who_signed_and_checked_what(bundle, tmp_path):
    holders, bsn, files = bundle
    (name,) = [n for n in files.namelist() if n.endswith(".pdf")]
    printed = files.read(name)
    assert pdf.signer_thumbprint(printed) == thumbprint(keystore.signing_key(settings.PORTAL_OIN).public_jwk)
    (tmp_path / name).write_bytes(printed)
    signed = subprocess.run([shutil.which("pdfsig"), str(tmp_path / name)], capture_output=True, text=True).stdout
    assert "Signature is Valid." in signed and "Total document signed" in signed
    text = subprocess.run([shutil.which("pdftotext"), str(tmp_path / name), "-"], capture_output=True, text=True)
    words = " ".join(text.stdout.split())
    assert WHO_SIGNED_WHAT in words and "niet zelf gecontroleerd" not in words
    assert "SHA-256" not in words and "Controlegetal van het bestand" in words
    for oin in holders:
        holder = scheme_document_name(oin)
        assert f"Dit deel komt van {holder} en is door {holder} ondertekend." in words
        assert all(kenmerk in words for kenmerk in _debts_of(bsn, [oin])[oin])
    # Changed after signing, the PDF no longer passes.
    changed = printed.replace(b"Schuldenoverzicht", b"Schuldenoverzichx", 1)
    assert changed != printed
    with pytest.raises(ProtocolError):
        pdf.signer_thumbprint(changed)


def test_the_same_download_clicked_twice_gives_one_file(debtors):
    holders, (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, *holders)
    page = _page(client)
    token = re.search(r'name="formulier" value="([^"]+)"', page).group(1)
    assert client.post("/overzicht/schulden/downloaden/", {"formulier": token}).status_code == 200
    assert client.post("/overzicht/schulden/downloaden/", {"formulier": token}).status_code == 204
    # One download recorded per source, for the citizen's access page; the second click is not one.
    downloads = CitizenEvent.objects.filter(activity=CitizenEvent.Activity.DOWNLOADED, format="sdjwt")
    assert sorted(downloads.values_list("holder_oin", flat=True)) == sorted(holders)


def test_it_refuses_a_bundle_too_large_to_make_and_says_what_to_do(debtors, monkeypatch):
    holders, (bsn, _other) = debtors
    monkeypatch.setattr(bundle_module, "MAX_DEBTS", 1)
    client = _logged_in(bsn)
    _press(client, *holders)
    response = _download(client)
    assert response.status_code == 302 and response["Location"] == "/overzicht/schulden/"
    assert "Het overzicht is te groot om te downloaden." in _page(client)


def test_without_debts_there_is_no_bundle(debtors):
    client = _logged_in(debtors[1][0])
    response = client.post("/overzicht/schulden/downloaden/", {"formulier": "x"})
    assert response.status_code == 302 and response["Location"] == "/overzicht/schulden/"


def _pdf_words(files, tmp_path):
    (name,) = [n for n in files.namelist() if n.endswith(".pdf")]
    (tmp_path / name).write_bytes(files.read(name))
    text = subprocess.run([shutil.which("pdftotext"), str(tmp_path / name), "-"], capture_output=True, text=True)
    return " ".join(text.stdout.split())


def test_an_incomplete_bundle_says_so_in_its_pdf_and_manifest_and_the_page_warns_before(debtors, tmp_path):
    (failing, answering), (bsn, _other) = debtors
    down, up = scheme_document_name(failing), scheme_document_name(answering)
    _move(failing, "http://127.0.0.1:9")
    client = _logged_in(bsn)
    _press(client, failing, answering)
    assert re.search(rf"Let op: deze download is niet compleet\. Van [^<]*{re.escape(down)}", _page(client))
    files = zipfile.ZipFile(io.BytesIO(_download(client).content))
    words = _pdf_words(files, tmp_path)
    assert re.search(
        rf"hebben we nu geen gegevens: [^.]*{re.escape(down)}[^.]*\. Het overzicht is dus niet compleet", words
    )
    assert f"Met schulden: {up}." in words and f"Gaven nu geen antwoord: {down}." in words
    assert re.search(r"Samen, zonder [^:]+: € [\d.]+,\d\d", words) and "Alles bij elkaar" not in words
    manifest = json.loads(files.read("inhoud.json"))
    assert manifest["compleet"] is False
    assert manifest["organisaties"]["metSchulden"] == [up] and manifest["organisaties"]["geenAntwoord"] == [down]
    assert down not in manifest["organisaties"]["nietGevraagd"]


def test_a_press_at_one_organisation_says_the_others_were_not_asked_and_offers_to_fetch_them(debtors):
    (pressed, other), (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, pressed)
    html = _page(client)
    said = re.search(r"U heeft nog niet alle organisaties gevraagd\. Nog niet gevraagd: ([^<]+)\. Het overzicht", html)
    assert said and scheme_document_name(other) in said.group(1).split(", ")
    assert "hebben we nu geen gegevens" not in html and "Probeer het later" not in html
    fetch = re.search(r'<form method="post" action="/overzicht/">.*?</form>', html, re.S)
    assert fetch and "Haal alles op" in fetch.group(0) and "csrfmiddlewaretoken" in fetch.group(0)
    assert client.post("/overzicht/").status_code == 303


def test_the_page_links_to_the_words_explained_and_explains_how_to_pay(debtors):
    holders, (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, *holders)
    html = _page(client)
    intro = html.split('id="kiezen"')[0]
    assert '<a class="utrecht-link utrecht-link--html-a" href="#uitleg">Wat betekenen deze woorden?</a>' in intro
    terms = html.split('id="uitleg"')[1]
    assert all(
        f"<dt>{word}</dt>" in terms for word in ("Hoe betalen", "Ten name van", "Te laat", "Zet bij uw betaling")
    )
    assert "Noem dit nummer als u belt of schrijft." in terms
    assert "(.sdjwt)" not in html and "bestand met een digitaal zegel" in html
    assert re.search(r"Betaal (het openstaande bedrag: |elke maand )€", html)


def test_a_filtered_list_says_its_total_is_of_what_is_shown(debtors):
    holders, (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, *holders)
    for query in (f"?schuldeiser={holders[0]}", f"?weergave=afdrukken&schuldeiser={holders[0]}"):
        html = _page(client, query)
        owed = _debts_of(bsn, holders[:1])[holders[0]]
        shown = f"Alleen wat u hieronder ziet ({len(owed)} van de"
        assert shown in html and f"<strong>{_money(sum(owed.values()))}</strong>" in html.split(shown)[1][:200]


def test_the_print_view_names_the_person_and_who_was_asked(debtors):
    holders, (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, *holders)
    printed = _page(client, "?weergave=afdrukken")
    name = _records(bsn, holders)[0]["naam"]
    assert re.search(rf"Over: {re.escape(name['voornamen'])}[^<]*{re.escape(name['geslachtsnaam'])}", printed)
    names = ", ".join(sorted((scheme_document_name(oin) for oin in holders), key=str.casefold))
    assert f"<li>Met schulden: {names}.</li>" in printed and "<li>Nog niet gevraagd: " in printed


def test_a_citizen_without_debts_is_told_so_in_words_not_an_empty_table(debtors):
    _holders, (bsn, _other) = debtors
    with_debts = set(
        SourceRecord.objects.filter(document_type="vorderingen", bsn=bsn).values_list("holder_oin", flat=True)
    )
    others = SourceRecord.objects.filter(document_type="vorderingen").exclude(holder_oin__in=with_debts)
    none_here = others.values_list("holder_oin", flat=True).first()
    client = _logged_in(bsn)
    _press(client, none_here)
    html = _page(client)
    assert f"U heeft bij deze organisaties geen schulden: {scheme_document_name(none_here)}." in html
    assert "blauweknop-debt-totals" not in html


def test_the_english_page_says_how_to_object(debtors):
    holders, (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, *holders)
    client.cookies["django_language"] = "en"
    html = _page(client)
    assert "<dt>How to object</dt>" in html and "Objecting" not in html
