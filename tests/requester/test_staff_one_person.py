"""A request for one citizen, made on the staff page (docs/plus.md §1): the BSN is checked, never shown again.

The API took an optional ``burgerservicenummer``; the staff page had no such field. Now staff may name the one
person a request is for: the 11-proef is checked with a plain error, the number is never put back in a page or
a URL, and only its pseudonym is kept. The citizen's review page says why their BSN is asked, and someone else
who opens the link is told plainly that the request is for another person and whom to call.
"""

import base64
import json
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from blauweknop.protocol import openid4vp
from blauweknop.protocol.errors import VerificationError
from blauweknop.pseudonyms import pseudonym
from blauweknop.requester.models import ShareRequest
from tests.portal.conftest import log_in as citizen_logs_in
from tests.requester.test_staff_login import BANK, HOUSING, log_in, make_staff
from tests.requester.test_subject_binding import other_bsn  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)
NOT_A_BSN = "123456788"  # nine digits that fail the 11-proef
HOUSING_NAME = "Woningcorporatie Thuisbasis"


def _staff(oin: str, username: str, language: str = "nl") -> Client:
    client = Client()
    client.cookies["django_language"] = language
    assert log_in(client, username, make_staff(oin, username))["Location"] == "/vragers/"
    return client


def _citizen(bsn: str, language: str = "nl") -> Client:
    client = Client()
    client.cookies["django_language"] = language
    assert citizen_logs_in(client, bsn).status_code == 302
    return client


def _make(staff: Client, bsn: str = "", preset: str = "huur", **fields: str):
    return staff.post("/vragers/nieuw/", {"preset": preset, "burgerservicenummer": bsn, **fields})


def _link(staff: Client, made) -> str:
    html = staff.get(made["Location"]).content.decode()
    return re.search(r'id="link">([^<]+)<', html).group(1).replace("&amp;", "&")


def _open(citizen: Client, link: str) -> str:
    """The citizen opens the link: the review page's address."""
    parts = urlsplit(link)
    opened = citizen.get(f"{parts.path}?{parts.query}")
    assert opened.status_code == 303, opened.content.decode()[:500]
    return opened["Location"]


def _share(citizen: Client, review: str) -> str:
    """The citizen says yes to everything asked: the done page's text."""
    decided = citizen.post(review, {"besluit": "ja"})
    assert decided.status_code == 303
    return citizen.get(decided["Location"]).content.decode()


def _payload(request_object: str) -> dict:
    part = request_object.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.mark.parametrize("language", ["nl", "en"])
def test_staff_name_the_one_person_a_request_is_for_and_never_see_the_number_again(demo_world, bsn, language):
    staff = _staff(HOUSING, "anna", language)
    made = _make(staff, f" {bsn[:4]} {bsn[4:]} ", reference="dossier-1p")  # spaces as people type them
    assert made.status_code == 302 and bsn not in made["Location"]
    share_request = ShareRequest.objects.get(reference="dossier-1p")
    assert share_request.subject == pseudonym(bsn)
    assert (
        bsn not in share_request.request_object
        and _payload(share_request.request_object)["blauweknop"]["voorEenPersoon"]
    )
    page = staff.get(made["Location"]).content.decode()
    assert bsn not in page
    expected = {
        "nl": "Alleen voor de persoon met het BSN dat u opgaf",
        "en": "Only for the person with the BSN you gave",
    }
    assert expected[language] in page
    assert bsn not in staff.get("/vragers/").content.decode()


def test_a_request_for_anyone_says_so_and_its_request_object_does_not_claim_one_person(demo_world):
    staff = _staff(BANK, "bert")
    made = _make(staff, preset="lening", reference="bank-iedereen")
    share_request = ShareRequest.objects.get(reference="bank-iedereen")
    assert share_request.subject == ""
    assert "voorEenPersoon" not in _payload(share_request.request_object)["blauweknop"]
    assert "Voor de inwoner die de link of de code krijgt" in staff.get(made["Location"]).content.decode()


@pytest.mark.parametrize(
    ("language", "error"),
    [
        ("nl", "Dit is geen goed BSN. Een BSN heeft 9 cijfers. Kijk het nummer na en typ het opnieuw."),
        ("en", "This is not a valid BSN. A BSN has 9 digits. Check the number and type it again."),
    ],
)
@pytest.mark.parametrize("typed", [NOT_A_BSN, "12345678", "1234567890123456789012", "abcdefghi"])
def test_a_bsn_that_is_not_one_gets_a_plain_error_and_is_not_put_back(demo_world, language, error, typed):
    staff = _staff(HOUSING, "anna", language)
    response = _make(staff, typed)
    assert response.status_code == 200
    page = response.content.decode()
    assert error in page and typed not in page
    assert not ShareRequest.objects.exists()


def test_a_valid_bsn_is_not_put_back_when_another_field_is_wrong(demo_world, bsn):
    response = _make(_staff(HOUSING, "anna"), bsn, retention_days="nooit")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Vul een aantal dagen in" in page and bsn not in page
    assert not ShareRequest.objects.exists()


def test_the_terms_carry_for_one_person_only_as_true_or_false():
    terms = openid4vp.Terms({"nl": "Huur"}, "toestemming", 30, openid4vp.ONCE, None, for_one_person=True)
    assert terms.claim()["voorEenPersoon"] is True
    assert openid4vp.Terms.from_claim(terms.claim()).for_one_person is True
    assert openid4vp.Terms.from_claim({**terms.claim(), "voorEenPersoon": False}).for_one_person is False
    with pytest.raises(VerificationError, match="voorEenPersoon"):
        openid4vp.Terms.from_claim({**terms.claim(), "voorEenPersoon": "ja"})


@pytest.mark.parametrize(
    ("language", "why", "elsewhere", "call"),
    [
        (
            "nl",
            f"{HOUSING_NAME} maakte dit verzoek voor één persoon. Daarom deelt u ook uw BSN. "
            f"Zo ziet {HOUSING_NAME} dat het om u gaat.",
            "Dit verzoek is voor iemand anders.",
            f"Heeft u deze code of link van {HOUSING_NAME} gekregen? Bel hen.",
        ),
        (
            "en",
            f"{HOUSING_NAME} made this request for one person. That is why you also share your BSN. "
            f"This way {HOUSING_NAME} sees that it is about you.",
            "This request is for someone else.",
            f"Did you get this code or link from {HOUSING_NAME}? Call them.",
        ),
    ],
)
def test_the_citizen_reads_why_their_bsn_is_asked_and_someone_else_is_told_whom_to_call(
    demo_world,
    bsn,
    other_bsn,  # noqa: F811
    language,
    why,
    elsewhere,
    call,
):
    staff = _staff(HOUSING, "anna")
    made = _make(staff, bsn, reference="dossier-twee")
    link = _link(staff, made)

    someone_else = _citizen(other_bsn, language)
    review = someone_else.get(_open(someone_else, link)).content.decode()
    assert why in review
    done = _share(someone_else, _open(someone_else, link))
    assert elsewhere in done and call in done
    assert bsn not in done and other_bsn not in done
    share_request = ShareRequest.objects.get(reference="dossier-twee")
    assert share_request.status == ShareRequest.State.OPEN  # still open for the person it is for
    assert not share_request.received.exists()

    the_one = _citizen(bsn, language)
    done = _share(the_one, _open(the_one, link))
    assert 'data-uitkomst="gedeeld"' in done
    share_request.refresh_from_db()
    assert share_request.status == ShareRequest.State.APPROVED and share_request.received.count() == 1


def test_a_request_for_anyone_does_not_say_it_is_for_one_person(demo_world, bsn):
    staff = _staff(BANK, "bert")
    link = _link(staff, _make(staff, preset="lening"))
    citizen = _citizen(bsn)
    review = citizen.get(_open(citizen, link)).content.decode()
    assert "maakte dit verzoek voor één persoon" not in review
