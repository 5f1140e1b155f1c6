"""POST /<holder>/api/v1/afdrukken signs a PDF only for the logged-in citizen's own copy (issue 6, item 15)."""

import httpx
import pytest
from django.conf import settings

from blauweknop import pdf
from blauweknop.audit.models import AccessRecord
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol import sdjwt_vc
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from tests.holder.test_issue_credential import BELASTING, _assertion
from tests.portal.test_printed_copy import pdf_text

pytestmark = pytest.mark.django_db(transaction=True)
PRINT = "/belastingkantoor/api/v1/afdrukken"


@pytest.fixture
def copy(demo_world, wallet):
    """A copy of one citizen's income, issued to their wallet key, and that citizen's BSN."""
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]
    body = {"appbeheerderverklaring": _assertion(bsn, wallet), "documentsoort": "inkomen"}
    issued = httpx.post(f"{demo_world.url}/belastingkantoor/api/v1/verklaringen", json=body, timeout=30)
    return sdjwt_vc.present(issued.json()["verklaring"], ["belastingjaar"]), bsn


def _print(server, presentation, assertion=None):
    body = {"verklaring": presentation} | ({"appbeheerderverklaring": assertion} if assertion else {})
    return httpx.post(server.url + PRINT, json=body, timeout=30)


def test_it_refuses_to_print_without_an_app_managers_assertion(demo_world, copy):
    response = _print(demo_world, copy[0])
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_input"


def test_it_prints_the_citizens_own_copy_once_per_assertion(demo_world, copy, wallet):
    presentation, bsn = copy
    assertion = _assertion(bsn, wallet)
    printed = _print(demo_world, presentation, assertion)
    assert printed.status_code == 200 and pdf.is_pdf(printed.content)
    replay = _print(demo_world, presentation, assertion)
    assert (replay.status_code, replay.json()["code"]) == (401, "assertion_replayed")


def test_it_refuses_a_copy_issued_to_another_wallet(demo_world, copy, caplog):
    presentation, bsn = copy
    someone_else = SigningKey(generate_jwk())
    response = _print(demo_world, presentation, _assertion(bsn, someone_else))
    assert (response.status_code, response.json()["code"]) == (403, "not_your_copy")
    assert f"print refused: holder={BELASTING} code=not_your_copy" in caplog.text


def test_a_print_is_recorded_as_printed_with_the_fields_on_paper(demo_world, copy, wallet):
    presentation, bsn = copy
    assert _print(demo_world, presentation, _assertion(bsn, wallet)).status_code == 200
    printed = AccessRecord.objects.about(bsn).get(activity="basis-afdrukken")
    assert (printed.document_type, printed.fields) == ("inkomen", ["belastingjaar"])


def test_it_records_no_print_it_refused(demo_world, copy):
    presentation, bsn = copy
    assert _print(demo_world, presentation, _assertion(bsn, SigningKey(generate_jwk()))).status_code == 403
    assert not AccessRecord.objects.filter(activity="basis-afdrukken").exists()


def test_it_prints_the_check_code_with_its_address_and_the_end_of_validity(demo_world, copy, wallet, tmp_path):
    presentation, bsn = copy
    body = {"appbeheerderverklaring": _assertion(bsn, wallet), "verklaring": presentation}
    printed = httpx.post(demo_world.url + PRINT, json=body | {"controlecode": "7KQ2M9XD4TRB"}, timeout=30)
    assert printed.status_code == 200
    text = pdf_text(printed.content, tmp_path)
    assert "Controlecode: 7KQ2-M9XD-4TRB" in text
    assert f"{settings.VERIFY_URL}7KQ2-M9XD-4TRB/" in text and "Geldig tot:" in text


@pytest.mark.parametrize(
    "code",
    ["7kq2m9xd4trb", "7KQ2-M9XD-4TRB", "7KQ2M9XD4TR", "7KQ2M9XD4TRU", "7KQ2M9XD4TRB\n", "Ä" * 12, "7" * 10_000, 12],
    ids=["lower", "hyphens", "short", "letter-u", "newline", "unicode", "long", "number"],
)
def test_it_refuses_a_check_code_that_is_not_twelve_crockford_characters(demo_world, copy, wallet, code):
    presentation, bsn = copy
    body = {"appbeheerderverklaring": _assertion(bsn, wallet), "verklaring": presentation, "controlecode": code}
    response = httpx.post(demo_world.url + PRINT, json=body, timeout=30)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_input"


@pytest.mark.parametrize(
    ("language", "says", "not_says"),
    [
        (
            "nl",
            [
                "De persoon koos zelf welke gegevens in deze kopie staan. Er kunnen gegevens zijn weggelaten.",
                "pagina 1 van 1",
            ],
            ["OIN", "gegevens.sdjwt"],
        ),
        (
            "en",
            ["The person chose which data are in this copy. Some data may have been left out.", "page 1 of 1"],
            ["OIN", "gegevens.sdjwt", "In dit bestand", "De persoon", "Gemaakt op", "Geldig tot", "pagina"],
        ),
    ],
)
def test_it_prints_in_plain_words_of_the_readers_language_that_data_may_be_left_out(
    demo_world, copy, wallet, tmp_path, language, says, not_says
):
    presentation, bsn = copy
    body = {"appbeheerderverklaring": _assertion(bsn, wallet), "verklaring": presentation, "taal": language}
    printed = httpx.post(demo_world.url + PRINT, json=body, timeout=30)
    assert printed.status_code == 200
    text = " ".join(pdf_text(printed.content, tmp_path).split())
    assert all(words in text for words in says), text
    assert not [words for words in not_says if words in text], text
