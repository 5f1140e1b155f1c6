"""Ids in the addresses of the share and consent pages are made of URL-safe letters only; anything else is a 404.

A NUL byte reached the database as part of an id and PostgreSQL refused it with an error (a 500).
"""

import pytest

from tests.portal.conftest import log_in


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "path",
    [
        "/delen/ab%00cd/",
        "/delen/ab%00cd/klaar/",
        "/toestemmingen/ab%00cd/",
        "/toestemmingen/ab%00cd/bewijs.json",
        "/toestemmingen/ab%01cd/bewijs.pdf",
        "/delen/%C3%A9%F0%9F%92%A5/",
    ],
)
def test_an_id_with_a_control_character_or_odd_letters_is_a_404_not_an_error(client, citizen_bsn, path):
    assert log_in(client, citizen_bsn).status_code == 302
    assert client.get(path).status_code == 404
    assert client.post(path).status_code in (403, 404, 405)
