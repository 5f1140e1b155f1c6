"""A holder whose status list cannot be fetched during a press is named unreachable, not untrusted.

The copy is fresh and genuine; only its status could not be checked now. Telling the citizen the
holder "sent data we could not check, contact them" sends them to the wrong desk: it is an outage,
to try again later (issue 6, item 14). Found by attacking the demo under load, where status lists
time out.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from .conftest import BELASTING, checkbox_paths
from .test_holder_failures import REFUSED, UNREACHABLE, UNTRUSTED, _move, _press, _warnings

pytestmark = pytest.mark.django_db(transaction=True)


class _StatusListDown(BaseHTTPRequestHandler):
    """Passes the holder API through to the real server, but its status lists answer 503."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {"Content-Type": self.headers["Content-Type"]}
        answer = httpx.post(self.server.upstream + self.path, content=body, headers=headers, timeout=30)
        self._send(answer.status_code, answer.headers["Content-Type"], answer.content)

    def do_GET(self):
        self._send(503, "text/plain", b"down")

    def _send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def status_list_down(demo_world):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StatusListDown)
    server.upstream = demo_world.url
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _move(BELASTING, f"http://127.0.0.1:{server.server_port}")
    yield server
    server.shutdown()
    server.server_close()


def test_it_names_a_holder_whose_status_list_is_down_unreachable(citizen, status_list_down, caplog):
    page = _press(citizen, BELASTING)
    assert f"Belastingkantoor Voorbeeldland {UNREACHABLE}" in page
    assert UNTRUSTED.format(name="Belastingkantoor Voorbeeldland") not in page and REFUSED not in page
    assert not checkbox_paths(page)
    logged = _warnings(caplog, BELASTING)
    assert logged and all("code status_unavailable" in line for line in logged)
