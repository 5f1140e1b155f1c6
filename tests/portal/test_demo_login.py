"""The DigiD mock offers the demo citizens to pick from, only in the demo (issue 8, item 9)."""

import re

import pytest
from django.contrib.auth import get_user

from blauweknop.demo import showcase

from .conftest import BELASTING, log_in

pytestmark = pytest.mark.django_db
PICK = re.compile(r'name="voorbeeldburger" value="([^"]+)"')


def test_it_lists_demo_citizens_with_their_situation_and_no_bsn(client):
    page = client.get("/inloggen/").content.decode()
    examples = showcase.examples()
    assert len(examples) >= 3 and PICK.findall(page) == [example.key for example in examples]
    for example in examples:
        assert f"Inloggen als {example.name}" in page and example.situation() in page
        assert example.bsn not in page


def test_picking_a_demo_citizen_logs_in_as_them_without_typing_a_bsn(client):
    example = showcase.examples()[0]
    response = client.post(f"/inloggen/?next=/organisaties/{BELASTING}/", {"voorbeeldburger": example.key})
    assert response.status_code == 302 and response["Location"] == f"/organisaties/{BELASTING}/"
    user = get_user(client)
    assert user.bsn == example.bsn and user.first_name == example.name.split()[0]


def test_it_refuses_a_pick_that_is_not_on_the_list(client):
    page = client.post("/inloggen/", {"voorbeeldburger": "999999999"}).content.decode()
    assert "Inloggen als deze persoon lukte niet." in page
    assert not get_user(client).is_authenticated


def test_typing_a_bsn_still_logs_in(client):
    example = showcase.examples()[-1]
    assert log_in(client, example.bsn).status_code == 302
    assert get_user(client).bsn == example.bsn and get_user(client).first_name == example.first_name


def test_without_the_digid_mock_there_is_no_list_and_no_mock_login(client, settings):
    settings.DIGID_MOCK = False
    response = client.get("/inloggen/")
    assert response.status_code == 404
    assert not PICK.search(response.content.decode())
    assert client.post("/inloggen/", {"voorbeeldburger": showcase.examples()[0].key}).status_code == 404
    assert not get_user(client).is_authenticated
