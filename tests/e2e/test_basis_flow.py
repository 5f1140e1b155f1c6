"""The Basis flow in a real browser, with and without JavaScript: log in, press the Blauwe Knop,
choose fields, download a certified copy and a signed PDF, and have both verified by the site, the
command line and the reference SD-JWT verifier. No demo BSN may appear in a URL or in the server's log.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from jwcrypto.jwk import JWK
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sd_jwt.verifier import SDJWTVerifier

from blauweknop import pdf
from blauweknop.protocol import sdjwt_vc

pytestmark = pytest.mark.e2e

HOLDER = "Belastingkantoor Voorbeeldland"
HOLDER_SLUG = "belastingkantoor"
CATEGORY = "inkomen"
KEEP = ("belastingjaar", "verzamelinkomenInCenten")  # the two inkomen fields the citizen shares


def leaves(value: Any, path: tuple[str, ...] = ()) -> dict[str, Any]:
    """Claims as dotted leaf paths (array elements numbered from 0), the way the portal names fields."""
    if isinstance(value, dict):
        return {k: v for key, sub in value.items() for k, v in leaves(sub, (*path, key)).items()}
    if isinstance(value, list):
        return {k: v for i, sub in enumerate(value) for k, v in leaves(sub, (*path, str(i))).items()}
    return {".".join(path): value}


def choose_fields(page: Any) -> dict[str, str]:
    """Untick every inkomen field but KEEP; return the kept fields as the data page shows them."""
    form = page.locator(f"details[data-documentsoort={CATEGORY}]")
    assert form.count() == 1, f"the data page has no {CATEGORY} category for this citizen"
    boxes = form.locator(f"input[type=checkbox][name=veld-{CATEGORY}]")
    paths = [boxes.nth(i).get_attribute("value") for i in range(boxes.count())]
    assert set(KEEP) < set(paths), f"expected more fields than {KEEP} in {CATEGORY}, found {paths}"
    unticked = [p for i, p in enumerate(paths) if not boxes.nth(i).is_checked()]
    assert unticked in ([], ["burgerservicenummer"]), "every field but the BSN must start ticked"
    shown = {}
    for i, path in enumerate(paths):
        box = boxes.nth(i)
        if path in KEEP:
            shown[path] = page.locator(f"label[for='{box.get_attribute('id')}'] strong").inner_text().strip()
        else:
            box.uncheck()
    assert [p for i, p in enumerate(paths) if boxes.nth(i).is_checked()] == [p for p in paths if p in KEEP]
    return shown


def verify_with_cli(server: Any, copy: Path) -> dict[str, Any]:
    cli = Path(sys.executable).with_name("blauweknop")
    assert cli.exists(), f"the blauweknop command is missing next to {sys.executable}"
    scheme = server.base_url + "/stelsel/api/v1/stelseldocument"
    done = subprocess.run(
        [str(cli), "verify", str(copy), "--scheme-document", scheme, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"blauweknop verify said ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    report = json.loads(done.stdout)
    assert report["valid"] is True
    assert report["issuer"]["name"] == HOLDER
    assert report["status"] == "valid", "the copy has a status list, so its status must have been checked"
    return report


def verify_with_reference(server: Any, copy: Path) -> dict[str, Any]:
    """The reference sd-jwt verifier, with the issuer key from the holder's issuer metadata."""
    metadata = httpx.get(f"{server.base_url}/.well-known/jwt-vc-issuer/{HOLDER_SLUG}", timeout=10).json()
    keys = {key["kid"]: key for key in metadata["jwks"]["keys"]}

    def issuer_key(issuer: str, header: dict[str, Any]) -> JWK:
        assert issuer == metadata["issuer"]
        assert header["typ"] == sdjwt_vc.TYP
        return JWK(**keys[header["kid"]])

    text = pdf.embedded_credential(copy.read_bytes()) if copy.suffix == ".pdf" else copy.read_text().strip()
    payload = SDJWTVerifier(text, issuer_key).get_verified_payload()
    assert payload["iss"] == metadata["issuer"]
    return {k: v for k, v in payload.items() if k not in sdjwt_vc.PLAIN_CLAIMS}


def assert_pdf_signature_holds(copy: Path) -> None:
    """pyHanko and poppler both find the holder's PAdES signature intact over the whole file."""
    signature = PdfFileReader(io.BytesIO(copy.read_bytes())).embedded_signatures[0]
    context = ValidationContext(trust_roots=[signature.signer_cert])
    # pyHanko runs its own event loop; Playwright's sync API already runs one in this thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        status = pool.submit(validate_pdf_signature, signature, context).result()
    assert status.intact and status.valid and status.coverage.name == "ENTIRE_FILE"
    assert signature.signer_cert.subject.native["common_name"] == HOLDER
    pdfsig = shutil.which("pdfsig")
    assert pdfsig, "poppler-utils must be installed (scripts/install-test-tools.sh)"
    out = subprocess.run([pdfsig, str(copy)], capture_output=True, text=True, timeout=60, check=False).stdout
    assert "Signature is Valid." in out and "Total document signed" in out


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_basis_flow(javascript, demo_server, new_context, steps, tmp_path):
    context = new_context(java_script_enabled=javascript)
    page = context.new_page()
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    bsn = demo_server.bsns[0]

    # Home, the organisation, the DigiD mock (the organisation page needs a login), back.
    page.goto(demo_server.base_url + "/")
    page.get_by_role("link", name=HOLDER, exact=True).click()
    page.wait_for_url(re.compile(r"/inloggen/\?next="))
    assert page.locator("h1").inner_text().startswith("Inloggen met DigiD")
    page.get_by_label("Burgerservicenummer (BSN)").fill(bsn)
    steps.submit(page, page.get_by_role("button", name="Inloggen", exact=True))
    assert page.locator("h1").inner_text() == f"Uw pagina bij {HOLDER}"

    # The Blauwe Knop, the data page, two fields chosen, the certified copy downloaded.
    steps.submit(page, page.get_by_role("button", name="Blauwe Knop: mijn gegevens"))
    assert page.url.endswith("/gegevens/")
    chosen = choose_fields(page)
    data_page = page.url
    copies = [steps.download(page, tmp_path, kind, CATEGORY) for kind in ("sdjwt", "pdf")]
    assert all(copy.name.startswith(f"{HOLDER_SLUG}-{CATEGORY}-") for copy in copies)
    assert_pdf_signature_holds(copies[1])

    for copy in copies:
        # The footer leads to the site's own verify page; it shows exactly the chosen fields, with the same values.
        page.get_by_role("link", name="Een gewaarmerkte kopie controleren").click()
        page.wait_for_url("**/controleren/")
        verdict, fields = steps.verify(page, copy)
        assert "Echt en geldig" in verdict and HOLDER in verdict, verdict
        assert fields == chosen, copy.name

        # The command line and the reference implementation agree: exactly the chosen claims.
        report = verify_with_cli(demo_server, copy)
        assert set(leaves(report["claims"])) == set(KEEP)
        assert sorted(report["disclosed"]) == sorted(KEEP)
        assert verify_with_reference(demo_server, copy) == report["claims"]
        page.goto(data_page)

    assert urls, "no requests were recorded"
    leaked = [url for url in urls if any(b in url for b in demo_server.bsns)]
    assert not leaked, f"demo BSNs appear in request URLs: {leaked}"


def test_no_demo_bsn_in_any_browser_url_or_in_the_server_log(demo_server, new_context, steps, requested_urls):
    # Runs after the flows when the whole file runs; on its own it logs in and presses the button itself.
    page = new_context().new_page()
    steps.log_in(page, demo_server.bsns[1])
    steps.press_blue_button(page)
    leaked = [url for url in requested_urls if demo_server.bsn_leaks(url)]
    assert not leaked, f"demo BSNs appear in request URLs: {leaked}"
    log = demo_server.log_text()
    assert "/blauwe-knop/" in log, "the server log has no access lines: is it captured?"
    assert not demo_server.bsn_leaks(log), f"demo BSNs {demo_server.bsn_leaks(log)} appear in {demo_server.log}"
