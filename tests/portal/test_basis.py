"""Basis: log in, press the Blauwe Knop, see the data, choose fields, download, check the copy."""

import csv
import io
import json

import httpx
import pytest

from blauweknop.holder.models import SourceRecord
from blauweknop.protocol import scheme_document, sdjwt_vc
from blauweknop.protocol.status_list import StatusListClient
from blauweknop.scheme import publication
from blauweknop.scheme.client import trust_anchor
from blauweknop.scheme.models import Organisation

from .conftest import BELASTING, checkbox_paths, download_form, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def _press(client):
    response = client.post(f"/organisaties/{BELASTING}/blauwe-knop/")
    assert response.status_code == 302
    return client.get(response["Location"])


def _download(client, fields, fmt, type_id="inkomen"):
    return client.post(f"/organisaties/{BELASTING}/downloaden/", download_form(type_id, fields, fmt))


def test_the_mock_login_keeps_the_bsn_out_of_every_url(client, citizen_bsn, demo_world):
    wrong = log_in(client, "123456789")
    assert wrong.status_code == 200
    assert "Dit nummer bestaat niet als BSN" in wrong.content.decode()
    right = log_in(client, citizen_bsn, next_url=f"/organisaties/{BELASTING}/")
    assert right.status_code == 302 and right["Location"] == f"/organisaties/{BELASTING}/"
    assert citizen_bsn not in right["Location"]
    assert client.session.get_expiry_age() <= 15 * 60


def test_pages_behind_login_send_the_citizen_to_digid_first(client, demo_world):
    response = client.get(f"/organisaties/{BELASTING}/")
    assert response.status_code == 302 and response["Location"].startswith("/inloggen/")


def test_the_blauwe_knop_shows_every_field_in_plain_words(citizen, citizen_bsn):
    page = _press(citizen)
    html = page.content.decode()
    income = SourceRecord.objects.get(holder_oin=BELASTING, document_type="inkomen", bsn=citizen_bsn).data
    assert "Verzamelinkomen" in html and "Het inkomen waarmee toeslagen en huur worden berekend." in html
    euros = f"{income['verzamelinkomenInCenten'] // 100:,}".replace(",", ".")
    assert f"€ {euros}," in html
    assert {"belastingjaar", "verzamelinkomenInCenten"} <= set(checkbox_paths(html))
    # The copy names its subject; the BSN is offered, but shared only when the citizen ticks it.
    assert f"{income['naam']['geslachtsnaam']}</strong>" in html
    assert "burgerservicenummer" in checkbox_paths(html)
    assert 'name="veld-inkomen" value="burgerservicenummer" checked' not in html


def test_a_downloaded_copy_holds_exactly_the_chosen_fields(citizen, deployment):
    _press(citizen)
    response = _download(citizen, ["belastingjaar", "toetsingsinkomenInCenten"], "sdjwt")
    assert response["Content-Disposition"].startswith('attachment; filename="belastingkantoor-inkomen-')
    scheme = scheme_document.verify(httpx.get(f"{deployment.url}/stelsel/api/v1/stelseldocument").text, trust_anchor())
    result = sdjwt_vc.verify(
        response.content.decode(),
        scheme.issuer_keys(),
        status_lists=StatusListClient(lambda u: httpx.get(u).text),
        require_key_binding=False,
    )
    assert set(result.claims) == {"belastingjaar", "toetsingsinkomenInCenten"}
    assert scheme.issuer(result.iss).name == "Belastingkantoor Voorbeeldland"


def test_json_and_csv_hold_the_same_choice(citizen):
    _press(citizen)
    as_json = json.loads(_download(citizen, ["belastingjaar"], "json").content)
    assert list(as_json) == ["belastingjaar"]
    body = _download(citizen, ["belastingjaar"], "csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert rows == [["Jaar"], [str(as_json["belastingjaar"])]]


def test_choosing_nothing_or_something_unknown_is_explained(citizen):
    _press(citizen)
    for fields in ([], ["adres.woonplaats"], ["../../etc"]):  # none, not in this copy, no field at all
        response = _download(citizen, fields, "sdjwt")
        assert response.status_code == 302
        page = citizen.get(response["Location"]).content.decode()
        assert "Kies minstens één gegeven" in page
    wrong_format = _download(citizen, ["belastingjaar"], "exe")
    assert "Die download kennen we niet" in citizen.get(wrong_format["Location"]).content.decode()


def test_a_holder_that_is_down_does_not_stop_the_page(citizen, deployment):
    Organisation.objects.filter(oin=BELASTING).update(base_url="http://127.0.0.1:9")
    publication.publish()
    from blauweknop.scheme.client import scheme_client

    scheme_client.forget()
    page = _press(citizen).content.decode()
    assert "is nu niet bereikbaar. Probeer het later nog eens." in page


def test_every_fetch_shows_up_in_who_has_looked_at_my_data(citizen):
    _press(citizen)
    page = citizen.get("/mijn-inzage/").content.decode()
    assert "Belastingkantoor Voorbeeldland" in page and "Inkomen" in page
    assert "Opgehaald om te bekijken, op uw verzoek" in page


def test_logging_out_forgets_every_copy(citizen):
    _press(citizen)
    citizen.post("/uitloggen/")
    assert citizen.get(f"/organisaties/{BELASTING}/gegevens/").status_code == 302


@pytest.mark.parametrize(
    "path", ["/static/blauweknop/site.css", "/static/vendor/utrecht/index.css", "/static/blauweknop/theme.css"]
)
def test_the_nl_design_system_styles_and_ours_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b"{" in b"".join(response.streaming_content)
