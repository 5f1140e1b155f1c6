"""A staff page that meets an outage says so in plain words (503) in every role's deployment, never a 500.

Issue 11's closing note: a requester-only deployment whose current signing key is not held here answered
"Nieuw verzoek" (which signs the request object) with a 500, because the page that says so lived in the
portal. The outage middleware is every role's now; staff read that it is their organisation's fault,
which key of which participant their technical administrator must put in place, and that the log says how.
"""

import json

import pytest
from django.urls import resolve

from blauweknop.keystore import MissingKey
from blauweknop.outage import OutageMiddleware
from blauweknop.requester.models import ShareRequest
from blauweknop.scheme.client import SchemeUnavailable
from tests.requester.test_staff_login import BANK, HOUSING, log_in, make_staff
from tests.scheme.test_keys_rotation import world  # noqa: F401 (fixture)
from tests.test_settings import load_settings, production_environment
from tests.test_signing_key_missing import _lose_key, _told_the_operator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def requester_only_middleware(tmp_path_factory):
    """The middleware a deployment with only the requester role runs, as its own settings make it."""
    folder = tmp_path_factory.mktemp("requester-only")
    env = production_environment(folder / "data", BLAUWEKNOP_ROLES="requester")
    done = load_settings(env, cwd=folder, expression="settings.MIDDLEWARE")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def requester_only(settings, requester_only_middleware):
    settings.MIDDLEWARE = requester_only_middleware


def _staff(client, oin, username):
    assert log_in(client, username, make_staff(oin, username))["Location"] == "/vragers/"
    return client


def test_a_requester_only_deployment_without_its_key_says_so_on_the_staff_page_that_signs(
    world,  # noqa: F811
    requester_only,
    client,
    caplog,
):
    kid = _lose_key(HOUSING)
    housing = _staff(client, HOUSING, "anna")
    response = housing.post("/vragers/nieuw/", {"preset": "huur", "reference": "dossier-17"})
    assert response.status_code == 503
    page = response.content.decode()
    assert "Door een fout bij uw organisatie kunnen we nu niets ondertekenen." in page
    assert f"Vraag de technisch beheerder in uw organisatie om sleutel {kid} van {HOUSING} te plaatsen." in page
    assert 'href="/vragers/nieuw/"' in page  # in the staff's own layout, with their links
    assert response["Retry-After"] == "3600"
    assert not ShareRequest.objects.filter(reference="dossier-17").exists()
    _told_the_operator(caplog, HOUSING, kid)

    housing.cookies["django_language"] = "en"
    english = housing.post("/vragers/nieuw/", {"preset": "huur"}).content.decode()
    assert "Because of a fault at your organisation, nothing can be signed now." in english
    assert f"Ask the technical administrator at your organisation to put key {kid} of {HOUSING} in place." in english


def test_another_requester_of_that_deployment_still_makes_its_requests(world, requester_only, client):  # noqa: F811
    _lose_key(HOUSING)
    bank = _staff(client, BANK, "bert")
    response = bank.post("/vragers/nieuw/", {"preset": "lening", "reference": "bank-7"})
    assert response.status_code == 302
    assert ShareRequest.objects.get(reference="bank-7").requester_id == BANK


def test_every_role_runs_the_outage_middleware(requester_only_middleware):
    assert requester_only_middleware[-1] == "blauweknop.outage.OutageMiddleware"


@pytest.mark.parametrize(("page", "outage"), [("/gegevenshouder/beheer/", "scheme"), ("/stelsel/beheer/", "key")])
def test_the_staff_of_a_holder_and_of_the_scheme_operator_get_the_page_in_their_own_layout(rf, page, outage):
    request = rf.get(page)
    request.resolver_match = resolve(page)
    error = SchemeUnavailable() if outage == "scheme" else MissingKey("stelsel", "kid-1")
    response = OutageMiddleware(lambda r: None).process_exception(request, error)
    assert response.status_code == 503
    html = response.content.decode()
    assert f'href="{page}"' in html  # the home link of that role's layout
    expected = {
        "scheme": "We kunnen nu niet nagaan welke organisaties meedoen.",
        "key": "om sleutel kid-1 van stelsel te plaatsen",
    }
    assert expected[outage] in html
