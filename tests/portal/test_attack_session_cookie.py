"""A forged session cookie is a stranger's, never a 500: on PostgreSQL a NUL in it broke every page.

Browsers send cookie values quoted, and Django unquotes ``"\\000..."`` to a NUL, which PostgreSQL
refuses in a query. Session keys are Django's own 32 lowercase letters and digits, so anything else
is no session at all. Found by attacking the demo on PostgreSQL (issue 6, item 9).
"""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("path", ["/", "/inloggen/", "/mijn-inzage/", "/controleren/"])
@pytest.mark.parametrize("forged", ["\x00aaaaaaaaaaaaaaaa", "aaaaaaaa\x00", "ééééééééé", "a" * 5000])
def test_it_treats_a_forged_session_cookie_as_no_session(demo_world, client, path, forged):
    client.cookies[settings.SESSION_COOKIE_NAME] = forged
    response = client.get(path)
    assert response.status_code in (200, 302)
