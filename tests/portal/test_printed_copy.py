"""A printed copy is checked by the code on the paper, without uploading the file (issue 8, item 4)."""

import re
import secrets
import shutil
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from blauweknop import document_types, keystore
from blauweknop.holder.models import SourceRecord
from blauweknop.portal import attempts, printed
from blauweknop.portal.models import CitizenEvent, PrintedCopy
from blauweknop.portal.tasks import prune_sessions
from blauweknop.protocol import check_code, sdjwt_vc
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme.client import scheme_client
from tests.concurrency import at_once

from .conftest import BELASTING, download_form

pytestmark = pytest.mark.django_db(transaction=True)
FIELDS = ("belastingjaar", "verzamelinkomenInCenten")
CODE_ON_PAPER = re.compile(r"Controlecode: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")


def download(client, fmt, fields=FIELDS, type_id="inkomen"):
    """Press the Blauwe Knop and download ``fields`` of ``type_id`` as ``fmt``, as the data page's form sends it."""
    client.post(f"/organisaties/{BELASTING}/blauwe-knop/")
    # A page token of its own: the same form sent twice in a row is taken for a double click.
    form = download_form(type_id, list(fields), fmt) | {"formulier": secrets.token_hex(8)}
    response = client.post(f"/organisaties/{BELASTING}/downloaden/", form)
    assert response.status_code == 200, response.status_code
    return response.content


def pdf_text(document: bytes, tmp_path) -> str:
    """The text on the PDF, as poppler's pdftotext reads it (the setup installs poppler-utils)."""
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "poppler-utils (pdftotext) must be installed by the test setup"
    (tmp_path / "kopie.pdf").write_bytes(document)
    return subprocess.run(
        [pdftotext, "-layout", str(tmp_path / "kopie.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout


def code_of(document: bytes, tmp_path) -> str:
    found = CODE_ON_PAPER.search(pdf_text(document, tmp_path))
    assert found, "the PDF shows no check code"
    return found.group(1)


def fields_shown(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-path="([^"]+)">([^<]*)<', html))


@pytest.fixture
def paper(citizen, tmp_path):
    """A PDF the citizen downloaded, and the check code printed on it."""
    document = download(citizen, "pdf")
    return document, code_of(document, tmp_path)


def test_the_code_on_a_real_pdf_opens_the_same_fields_as_uploading_it(paper, client, tmp_path):
    document, code = paper
    text = pdf_text(document, tmp_path)
    assert f"/controleren/{code}/" in text and "Geldig tot:" in text
    by_code = client.get(f"/controleren/{code}/")
    by_file = client.post("/controleren/", {"bestand": SimpleUploadedFile("kopie.pdf", document)})
    assert by_code.status_code == 200
    assert "Echt en geldig" in by_code.content.decode() and "Belastingkantoor Voorbeeldland" in by_code.content.decode()
    assert fields_shown(by_code.content.decode()) == fields_shown(by_file.content.decode())
    assert set(fields_shown(by_code.content.decode())) == set(FIELDS)


def test_the_code_form_forgives_case_spaces_and_look_alikes(paper):
    _, code = paper
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    response = Client().post("/controleren/met-code/", {"controlecode": f"  {typed} "})
    assert response.status_code == 200 and "Echt en geldig" in response.content.decode()
    assert f"Gecontroleerd met controlecode {code}." in response.content.decode()


def test_it_shows_the_result_of_the_code_form_without_sending_the_code_to_an_address(paper):
    _, code = paper
    response = Client().post("/controleren/met-code/", {"controlecode": code})
    assert response.status_code == 200 and not response.has_header("Location")
    # The language switch on that result sends the reader back to its address: the verify page, not a 405.
    again = Client().get("/controleren/met-code/")
    assert again.status_code == 302 and again["Location"] == "/controleren/"


def test_a_superseded_printed_copy_says_vervangen(paper, client, citizen, citizen_bsn):
    _, code = paper
    record = SourceRecord.objects.get(holder_oin=BELASTING, document_type="inkomen", bsn=citizen_bsn)
    record.data = {**record.data, "toetsingsinkomenInCenten": record.data["toetsingsinkomenInCenten"] + 1}
    record.save()
    citizen.post(f"/organisaties/{BELASTING}/blauwe-knop/")  # the holder issues anew: the old copy is superseded
    page = client.get(f"/controleren/{code}/").content.decode()
    assert "Vervangen door nieuwere gegevens" in page and "Echt en geldig" not in page


def _keep_expired_copy(citizen_bsn) -> str:
    """A copy the tax office signed two days ago, valid for one day, kept under a fresh code; the code."""
    scheme = async_to_sync(scheme_client.current)()
    two_days_ago = int((timezone.now() - timedelta(days=2)).timestamp())
    credential = sdjwt_vc.issue(
        {"belastingjaar": 2025},
        keystore.signing_key(BELASTING),
        iss=scheme.organisations[BELASTING].endpoints["issuer"],
        vct=document_types.of(scheme).get("inkomen").vct,
        valid_for=24 * 3600,
        now=two_days_ago,
    )
    code = check_code.new_code()
    printed._keep(code, sdjwt_vc.present(credential, ["belastingjaar"]), BELASTING, "inkomen", pseudonym(citizen_bsn))
    return code


def test_an_expired_printed_copy_says_so_and_the_prune_task_deletes_its_code(client, demo_world, citizen_bsn):
    code = _keep_expired_copy(citizen_bsn)
    page = client.get(f"/controleren/{code}/").content.decode()
    assert 'data-verdict="expired"' in page and "verlopen" in page
    prune_sessions.call()
    assert not PrintedCopy.objects.exists()
    gone = client.get(f"/controleren/{code}/")
    assert gone.status_code == 404 and "Deze controlecode kennen we niet" in gone.content.decode()


def test_a_live_printed_copy_is_not_pruned(paper):
    prune_sessions.call()
    assert PrintedCopy.objects.count() == 1


def test_the_database_row_alone_does_not_open_the_copy(paper):
    _, code = paper
    row = PrintedCopy.objects.get()
    normalised = check_code.normalise(code)
    context = f"{row.holder_oin}|{row.document_type}|{row.citizen}".encode()
    assert check_code.unseal(bytes(row.sealed), normalised, context).count("~") >= 2  # the right code opens it
    wrong = check_code.new_code()
    with pytest.raises(check_code.WrongCode):
        check_code.unseal(bytes(row.sealed), wrong, context)
    with pytest.raises(check_code.WrongCode):  # nor does a row moved to another citizen
        check_code.unseal(bytes(row.sealed), normalised, context.replace(row.citizen.encode(), b"0" * 64))
    assert b"belastingjaar" not in bytes(row.sealed) and normalised not in row.lookup


def test_a_check_by_code_shows_on_the_citizens_own_record(paper, client, citizen_bsn):
    _, code = paper
    client.get(f"/controleren/{code}/")
    checks = CitizenEvent.objects.filter(activity=CitizenEvent.Activity.CHECKED)
    assert list(checks.values_list("citizen", "holder_oin", "document_type")) == [
        (pseudonym(citizen_bsn), BELASTING, "inkomen")
    ]


HOSTILE = {
    "long": "A" * 10_000,
    "unicode": "ÄÖÜ-٣٤٥-\u202e\U0001f600",
    "sql": "' OR 1=1 --",
    "nul": "ABCD\x00EFGH",
    "almost": "ABCD-EFGH-JKM",
    "letter_u": "ABCD-EFGH-JKMU",
}


@pytest.mark.parametrize("typed", HOSTILE.values(), ids=HOSTILE.keys())
def test_it_refuses_a_hostile_code_with_the_same_plain_words(client, demo_world, typed):
    by_form = client.post("/controleren/met-code/", {"controlecode": typed})
    assert by_form.status_code == 400
    assert "Deze controlecode kennen we niet" in by_form.content.decode()
    by_address = client.get("/controleren/" + typed.replace("\x00", "").replace("/", "") + "/")
    assert by_address.status_code == 404
    assert "Deze controlecode kennen we niet" in by_address.content.decode()


def test_it_says_the_same_for_an_unknown_and_a_malformed_code(client, demo_world):
    unknown = client.get(f"/controleren/{check_code.formatted(check_code.new_code())}/")
    malformed = client.get("/controleren/no-code-at-all/")
    assert unknown.status_code == malformed.status_code == 404
    assert _main(unknown.content.decode()) == _main(malformed.content.decode())


def _main(html: str) -> str:
    return re.sub(r'value="[^"]*"', "", html[html.index("<main") : html.index("</main>")])


def test_it_refuses_to_look_up_codes_after_too_many_wrong_ones(paper, client, monkeypatch):
    _, code = paper
    monkeypatch.setattr(attempts, "WRONG_CODES", 3)
    for _ in range(3):
        assert client.get(f"/controleren/{check_code.formatted(check_code.new_code())}/").status_code == 404
    blocked = client.get(f"/controleren/{code}/")  # even the right code: no oracle once blocked
    assert blocked.status_code == 429 and "te vaak een verkeerde code" in blocked.content.decode()
    assert "over 15 minuten" in blocked.content.decode() and "PDF-bestand" in blocked.content.decode()
    assert client.post("/controleren/met-code/", {"controlecode": code}).status_code == 429
    elsewhere = Client(REMOTE_ADDR="192.0.2.7")  # another address is not blocked
    assert elsewhere.get(f"/controleren/{code}/").status_code == 200


def test_it_counts_an_ipv6_client_by_its_network(client, demo_world, monkeypatch):
    monkeypatch.setattr(attempts, "WRONG_CODES", 2)
    for host in ("2001:db8::1", "2001:db8::2"):
        Client(REMOTE_ADDR=host).get("/controleren/AAAA-AAAA-AAAA/")
    assert Client(REMOTE_ADDR="2001:db8::3").get("/controleren/AAAA-AAAA-AAAA/").status_code == 429


def test_it_refuses_wrong_codes_beyond_the_limit_even_when_they_come_at_once(demo_world, monkeypatch):
    monkeypatch.setattr(attempts, "WRONG_CODES", 10)

    def wrong_code() -> int:
        return Client(REMOTE_ADDR="198.51.100.9").get(f"/controleren/{check_code.new_code()}/").status_code

    statuses, failures = at_once(wrong_code, workers=50)
    assert not failures
    assert Counter(statuses) == {404: 10, 429: 40}


class Unsealing:
    """check_code.unseal, slowed down, counting how many run at the same moment."""

    def __init__(self, real, seconds: float) -> None:
        self.real, self.seconds = real, seconds
        self.running = self.most = 0
        self.lock = threading.Lock()

    def __call__(self, *args):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.seconds)
            return self.real(*args)
        finally:
            with self.lock:
                self.running -= 1


def _check_from_many_addresses(code: str, workers: int) -> list[int]:
    addresses = iter(range(workers))
    lock = threading.Lock()

    def check() -> int:
        with lock:
            host = f"192.0.2.{next(addresses) + 1}"
        return Client(REMOTE_ADDR=host).get(f"/controleren/{code}/").status_code

    statuses, failures = at_once(check, workers=workers)
    assert not failures
    return statuses


def test_it_never_opens_more_copies_at_once_than_its_cap(paper, monkeypatch):
    _, code = paper
    unsealing = Unsealing(check_code.unseal, seconds=0.2)
    monkeypatch.setattr(printed.check_code, "unseal", unsealing)
    statuses = _check_from_many_addresses(code, workers=12)
    assert statuses == [200] * 12  # the others waited their turn
    assert 1 < unsealing.most <= printed.UNSEALING


def test_it_refuses_a_check_that_waits_too_long_with_busy_in_plain_words(paper, monkeypatch):
    _, code = paper
    monkeypatch.setattr(printed.check_code, "unseal", Unsealing(check_code.unseal, seconds=1.0))
    monkeypatch.setattr(printed, "_unsealing", threading.BoundedSemaphore(1))
    monkeypatch.setattr(printed, "BUSY_WAIT", 0.1)
    assert sorted(_check_from_many_addresses(code, workers=3)) == [200, 503, 503]
    busy = Client(REMOTE_ADDR="192.0.2.99")
    with printed._unsealing:  # every turn taken
        response = busy.get(f"/controleren/{code}/")
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert "Het is nu erg druk. Probeer het over een minuut nog eens." in response.content.decode()


def test_it_refuses_to_open_one_code_too_often(paper, monkeypatch):
    _, code = paper
    monkeypatch.setattr(attempts, "CHECKS_PER_CODE", 2)
    assert [Client(REMOTE_ADDR=f"192.0.2.{n}").get(f"/controleren/{code}/").status_code for n in (1, 2)] == [200, 200]
    refused = Client(REMOTE_ADDR="192.0.2.3").get(f"/controleren/{code}/")
    assert refused.status_code == 429
    assert "al heel vaak gecontroleerd" in refused.content.decode() and "PDF-bestand" in refused.content.decode()
