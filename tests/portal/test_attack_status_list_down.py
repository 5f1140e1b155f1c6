"""A holder whose status list cannot be fetched during a press is named unreachable, not untrusted.

The copy is fresh and genuine; only its status could not be checked now. Telling the citizen the
holder "sent data we could not check, contact them" sends them to the wrong desk: it is an outage,
to try again later (issue 6, item 14). Found by attacking the demo under load, where status lists
time out.
"""

import httpx
import pytest

from .conftest import BELASTING, checkbox_paths
from .stand_in import Answering, serving
from .test_holder_failures import REFUSED, UNREACHABLE, UNTRUSTED, _move, _press, _warnings

pytestmark = pytest.mark.django_db(transaction=True)


class _StatusListDown(Answering):
    """Passes the holder API through to the real server, but its status lists answer 503."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {"Content-Type": self.headers["Content-Type"]}
        answer = httpx.post(self.server.upstream + self.path, content=body, headers=headers, timeout=30)
        self.answer(answer.status_code, answer.headers["Content-Type"], answer.content)

    def do_GET(self):
        self.answer(503, "text/plain", b"down")


@pytest.fixture
def status_list_down(demo_world):
    with serving(_StatusListDown) as server:
        server.upstream = demo_world.url
        _move(BELASTING, f"http://127.0.0.1:{server.server_port}")
        yield server


def test_it_names_a_holder_whose_status_list_is_down_unreachable(citizen, status_list_down, caplog):
    page = _press(citizen, BELASTING)
    assert f"Belastingkantoor Voorbeeldland {UNREACHABLE}" in page
    assert UNTRUSTED.format(name="Belastingkantoor Voorbeeldland") not in page and REFUSED not in page
    assert not checkbox_paths(page)
    logged = _warnings(caplog, BELASTING)
    assert logged and all("reason status_unavailable" in line for line in logged)
