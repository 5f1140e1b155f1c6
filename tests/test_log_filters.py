"""Check codes never reach a log line: not uvicorn's access log, not Django's "Not Found" warning (issue 8)."""

import io
import logging
import subprocess
import sys
import textwrap

import pytest
from django.test import Client

from blauweknop.log_filters import MASK, hide_check_codes
from blauweknop.protocol import check_code
from tests.deployments import REPO, clean_environment

CODE = "7KQ2-M9XD-4TRB"


@pytest.fixture
def console(monkeypatch) -> io.StringIO:
    """What the handler configured in settings.LOGGING writes."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    written = io.StringIO()
    monkeypatch.setattr(handler, "stream", written)
    return written


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_log_the_code_of_a_path_that_was_not_found(console):
    code = check_code.formatted(check_code.new_code())
    assert Client().get(f"/controleren/{code}/?taal=en").status_code == 404
    assert Client().get(f"/controleren/{code}").status_code in (301, 404)
    logged = console.getvalue()
    assert f"Not Found: /controleren/{MASK}/" in logged
    assert code not in logged and code.replace("-", "") not in logged


def test_it_refuses_to_log_a_code_in_uvicorns_access_log(tmp_path):
    # uvicorn configures its loggers, then loads the app (and with it Django's LOGGING); then it
    # logs a request as its h11 and httptools protocols do.
    script = textwrap.dedent(f"""
        import logging, uvicorn
        config = uvicorn.Config("blauweknop.asgi:application", lifespan="off")
        config.load()
        access = logging.getLogger("uvicorn.access")
        access.info('%s - "%s %s HTTP/%s" %d', "192.0.2.1:5000", "GET", "/controleren/{CODE}/?x=1", "1.1", 404)
        access.info('%s - "%s %s HTTP/%s" %d', "192.0.2.1:5000", "POST", "/controleren/met-code/", "1.1", 200)
        logging.getLogger("django.request").warning("Not Found: %s", "/controleren/{CODE}/")
    """)
    env = clean_environment() | {"BLAUWEKNOP_DEMO": "True", "BLAUWEKNOP_DATA_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "blauweknop.demo.first_run"], cwd=REPO, env=env, timeout=60, check=True)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    logged = done.stdout + done.stderr
    assert f'"GET /controleren/{MASK}/?x=1 HTTP/1.1" 404' in logged
    assert '"POST /controleren/met-code/ HTTP/1.1" 200' in logged
    assert CODE not in logged


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("GET /controleren/7KQ2M9XD4TRB/ 404", f"GET /controleren/{MASK}/ 404"),
        ("/controleren/7kq2 m9xd 4trb", f"/controleren/{MASK} m9xd 4trb"),
        ("/nl/controleren/abc?taal=en", f"/nl/controleren/{MASK}?taal=en"),
        ("/controleren/met-code/", "/controleren/met-code/"),
        ("/controleren/met-codeABCD/", f"/controleren/{MASK}/"),
        ("/controleren/", "/controleren/"),
    ],
)
def test_it_masks_what_follows_controleren_in_a_path(line, masked):
    assert hide_check_codes(line) == masked
