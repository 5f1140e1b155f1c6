"""Variant Plus in the browser, against the real demo server: staff of the housing corporation and citizens,
each in their own browser context.

Staff log in with the demo's staff login as seed_demo prints it (password and TOTP, derived from the secret
key in the server's data folder). The housing preset on the "Nieuw verzoek" page is one-time only, so the
standing request is made through the requester API (the corporation's own key, a client assertion) with the preset's
fields, and staff then find it on their pages. A citizen opens the link, unticks the address and approves;
staff see exactly the income; the citizen withdraws on Mijn toestemmingen; "Haal nu op" is refused. A second
run: one citizen types the short code at /delen/, another opens a link, and the two requests do not mix.
Every page new in Plus is checked with axe-core.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from django_otp.oath import totp

from blauweknop.demo import first_run
from blauweknop.demo.management.commands.seed_demo import staff_login
from blauweknop.protocol import client_assertion
from blauweknop.protocol.jwk import SigningKey
from blauweknop.requester import presets
from tests.e2e.test_accessibility import describe, snapshot

pytestmark = pytest.mark.e2e

HOUSING = "00000003271247970000"
HOUSING_NAME = "Woningcorporatie Thuisbasis"
HOUSING_SLUG = "woningcorporatie-thuisbasis"
INCOME = [path for path, _ in presets.current().get("huur").asked[0].fields]
ADDRESS = [path for path, _ in presets.current().get("huur").asked[1].fields]
INCOME_LABELS = {"Voornamen", "Tussenvoegsel", "Achternaam", "Jaar", "Toetsingsinkomen"}
ADDRESS_LABELS = {"Straat", "Huisnummer", "Postcode", "Woonplaats"}
WITHDRAWN = "De inwoner heeft de toestemming ingetrokken"


def accessible(page: Any) -> None:
    """axe-core finds no WCAG 2.2 AA violation on the page shown."""
    violations = snapshot(page)["violations"]
    assert not violations, f"axe: {len(violations)} WCAG violations on {page.url}:\n" + describe(violations)


def submit(page: Any, button: Any) -> None:
    with page.expect_navigation():
        button.click()


class Corporation:
    """The housing corporation's back office: the requester API, signed with its own key (private_key_jwt)."""

    def __init__(self, server: Any) -> None:
        self.key = SigningKey(json.loads((server.data_dir / "keys" / f"{HOUSING}.jwk").read_text()))
        self.api = f"{server.base_url}/vragers/{HOUSING_SLUG}/api/v1"

    def assertion(self, path: str) -> str:
        return client_assertion.sign(self.key, client_id=HOUSING, audience=self.api + path)

    def ask(self, reference: str, *, standing: bool) -> dict[str, Any]:
        """A request with the housing preset's fields and words: income required, the address optional."""
        preset = presets.current().get("huur")
        body = {
            "kenmerk": reference,
            "doel": preset.purpose,
            "grondslag": "toestemming",
            "bewaartermijnDagen": preset.retention_days,
            "toegang": "doorlopend" if standing else "eenmalig",
            "toegangTot": (date.today() + timedelta(days=60)).isoformat() if standing else None,
            "gevraagd": [
                {
                    "documentsoort": asked.type_id,
                    "verplicht": asked.required,
                    "velden": [{"pad": path, "verplicht": required} for path, required in asked.fields],
                }
                for asked in preset.asked
            ],
            "client_assertion_type": client_assertion.ASSERTION_TYPE,
            "client_assertion": self.assertion("/verzoeken"),
        }
        answer = httpx.post(self.api + "/verzoeken", json=body, timeout=30)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def state(self, code: str) -> dict[str, Any]:
        path = f"/verzoeken/{code}"
        answer = httpx.get(self.api + path, headers={"Authorization": f"Bearer {self.assertion(path)}"}, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()


def leaves(data: Any, prefix: str = "") -> set[str]:
    """The dotted paths of the values in ``data``, list positions left out (as the catalogue names fields)."""
    if isinstance(data, dict):
        return set().union(set(), *(leaves(value, f"{prefix}{name}.") for name, value in data.items()))
    if isinstance(data, list):
        return set().union(set(), *(leaves(value, prefix) for value in data))
    return {prefix.rstrip(".")}


def received(corporation: Corporation, code: str) -> dict[str, dict[str, Any]]:
    """What the corporation received for the request ``code``, by document type."""
    return {copy["documentsoort"]: copy["gegevens"] for copy in corporation.state(code)["ontvangen"]}


@pytest.fixture(scope="module")
def corporation(demo_server) -> Corporation:
    return Corporation(demo_server)


@pytest.fixture(scope="module")
def staff(open_context, demo_server) -> Any:
    """A browser of the corporation's staff, logged in with password and TOTP (once: a code is used once)."""
    secret_key = first_run.secret_path(demo_server.data_dir, "DJANGO_SECRET_KEY").read_text().strip()
    password, totp_key = staff_login(secret_key, HOUSING)
    with open_context("plus-staff") as context:
        page = context.new_page()
        page.goto(demo_server.base_url + "/vragers/inloggen/")
        accessible(page)
        log_in_staff(page, demo_server.base_url, "/vragers/", HOUSING_SLUG, password, totp_key)
        yield page


def log_in_staff(page: Any, server: str, home: str, username: str, password: str, totp_key: str) -> None:
    """On a staff login page: the password step, then the app's code; the staff's ``home`` page opens."""
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    submit(page, page.locator(f"form[action='{home}inloggen/'] button[type=submit]"))
    assert f"{home}inloggen/tweede-stap/" in page.url, page.url
    accessible(page)
    page.locator("#id_token").fill(f"{totp(bytes.fromhex(totp_key)):06d}")
    submit(page, page.get_by_role("button", name="Inloggen", exact=True))
    assert page.url == server + home, f"the second step led to {page.url}"
    accessible(page)


def open_request(staff: Any, reference: str) -> None:
    """From the staff's list of requests: open the one with ``reference``."""
    staff.goto(staff.url.split("/vragers/")[0] + "/vragers/")
    staff.get_by_role("link", name=reference, exact=True).click()
    staff.wait_for_url(re.compile(r"/vragers/verzoeken/\d+/$"))


def log_in_citizen(page: Any, bsn: str) -> None:
    """At the DigiD mock the portal sent us to: log in, and land where we were going."""
    page.wait_for_url(re.compile(r"/inloggen/\?next="))
    page.locator("#id_bsn").fill(bsn)
    submit(page, page.locator("form[action^='/inloggen/'] button[type=submit]"))


def approve(page: Any, *, share_address: bool) -> None:
    """On the review page: keep or untick the address, say yes, wait for the done page."""
    address = page.locator("input[name=soort]")
    assert address.count() == 1, "the optional address has no box to untick"
    address.set_checked(share_address)
    submit(page, page.get_by_role("button", name="Ja, deel deze gegevens"))
    page.wait_for_selector("[data-uitkomst]", timeout=30_000)  # the 'even geduld' page refreshes itself
    outcome = page.locator("[data-uitkomst]").get_attribute("data-uitkomst")
    assert outcome == "gedeeld", f"the done page says {outcome}: {page.locator('main').inner_text()[:400]}"


def shown_received(staff: Any) -> dict[str, dict[str, str]]:
    """The received copies on the staff's request page: per heading, each field's label and value as shown."""
    copies = {}
    for section in staff.locator("section[aria-labelledby^=kopie-]").all():
        labels = [label.strip() for label in section.locator("dt").all_inner_texts()]
        values = [value.strip() for value in section.locator("dd").all_inner_texts()]
        copies[section.locator("h3").inner_text()] = dict(zip(labels, values, strict=True))
    return copies


def test_staff_ask_the_citizen_shares_only_the_income_then_withdraws_and_the_next_fetch_is_refused(
    demo_server, staff, corporation, new_context
):
    reference = "huur-" + secrets.token_hex(3)
    made = corporation.ask(reference, standing=True)

    # (a) Staff find the request on their pages, with its link and short code.
    open_request(staff, reference)
    accessible(staff)
    asked = staff.locator("main").inner_text()
    assert "Doorlopend, tot en met" in asked and "(mag de inwoner weglaten)" in asked
    link, code = staff.locator("#link").get_attribute("href"), staff.locator("#code").inner_text()
    assert link == made["link"] and code == made["weergaveCode"]
    assert staff.locator("#stand").inner_text() == "Wacht op de inwoner"

    # (b) The citizen opens the link, logs in, reads the request, unticks the address and approves.
    citizen = new_context().new_page()
    citizen.goto(link)
    log_in_citizen(citizen, demo_server.bsns[0])
    assert re.search(r"/delen/[^/]+/$", citizen.url), f"after login the citizen is at {citizen.url}"
    accessible(citizen)
    assert HOUSING_NAME in citizen.locator("[data-vrager]").inner_text()
    assert citizen.locator("[data-doel]").inner_text() == presets.current().get("huur").purpose["nl"]
    assert citizen.locator("[data-grondslag]").inner_text().strip(), "the review page names no legal basis"
    assert "90 dagen" in citizen.locator("[data-bewaren]").inner_text()
    assert citizen.locator("[data-toegang=doorlopend]").count() == 1, "standing access is not said"
    fields = {
        item.get_attribute("data-path"): item.get_attribute("data-nodig")
        for item in citizen.locator("[data-soort] li[data-path]").all()
    }
    shown = ["naam.voorvoegsel", "belastingjaar", "toetsingsinkomenInCenten", *ADDRESS]
    assert {path: fields.get(path) for path in shown} == {
        "naam.voorvoegsel": "nee",
        "belastingjaar": "ja",
        "toetsingsinkomenInCenten": "ja",
        **dict.fromkeys(ADDRESS),  # the address may be left out as a whole: one tick box, its fields named under it
    }
    part = citizen.locator("[data-deel-velden]").inner_text().lower()
    assert all(label.lower() in part for label in ADDRESS_LABELS), part
    approve(citizen, share_address=False)
    accessible(citizen)
    shared = citizen.locator("main h2").all_inner_texts()
    assert "Inkomen" in shared and "Persoonsgegevens" not in shared, shared

    # (c) Staff see exactly the income fields, and the API gives exactly those.
    staff.reload()
    assert staff.locator("#stand").inner_text() == "Gegevens ontvangen"
    copies = shown_received(staff)
    assert len(copies) == 1 and next(iter(copies)).startswith("Inkomen, van "), copies
    labels = set(next(iter(copies.values())))
    assert {"Jaar", "Toetsingsinkomen", "Voornamen", "Achternaam"} <= labels <= INCOME_LABELS, labels
    assert not labels & ADDRESS_LABELS
    accessible(staff)
    got = received(corporation, made["code"])
    assert set(got) == {"inkomen"} and leaves(got["inkomen"]) <= set(INCOME), got
    assert {"belastingjaar", "toetsingsinkomenInCenten"} <= leaves(got["inkomen"])

    # (d) The citizen withdraws on Mijn toestemmingen, after 'Weet u het zeker?'.
    citizen.goto(demo_server.base_url + "/toestemmingen/")
    accessible(citizen)
    citizen.locator(f"[data-toestemming='{corporation.state(made['code'])['toestemming']}'] h3 a").click()
    citizen.wait_for_url(re.compile(r"/toestemmingen/[^/]+/$"))
    accessible(citizen)
    submit(citizen, citizen.get_by_role("button", name="Trek toestemming in"))
    citizen.wait_for_url(re.compile(r"/toestemmingen/[^/]+/intrekken/\??$"))
    accessible(citizen)
    submit(citizen, citizen.get_by_role("button", name="Ja, trek in"))
    assert citizen.locator("#ingetrokken").count() == 1, "the consent page does not say it was withdrawn"
    accessible(citizen)

    # (e) Staff press "Haal nu op" and are told the citizen withdrew.
    submit(staff, staff.get_by_role("button", name="Haal nu op"))
    assert WITHDRAWN in staff.locator("main").inner_text()
    accessible(staff)
    assert received(corporation, made["code"]) == got, "a refused fetch changed what the corporation holds"
    assert not demo_server.bsn_leaks(link + staff.url + citizen.url)


def test_a_short_code_typed_at_delen_and_a_link_opened_side_by_side_do_not_mix(
    demo_server, staff, corporation, new_context
):
    by_code = corporation.ask("code-" + secrets.token_hex(3), standing=False)
    by_link = corporation.ask("link-" + secrets.token_hex(3), standing=False)

    # One citizen types the short code (lower case, without the dash) after choosing the organisation.
    typist = new_context().new_page()
    typist.goto(demo_server.base_url + "/delen/")
    log_in_citizen(typist, demo_server.bsns[1])
    assert typist.url.endswith("/delen/"), typist.url
    accessible(typist)
    typist.locator("#id_organisatie").select_option(label=HOUSING_NAME)
    typist.locator("#id_code").fill(by_code["weergaveCode"].replace("-", "").lower())
    submit(typist, typist.get_by_role("button", name="Verzoek bekijken"))
    assert re.search(r"/delen/[^/]+/$", typist.url), f"the code did not open the request: {typist.url}"
    # The other opens the link meanwhile: both review pages stand open side by side.
    opener = new_context().new_page()
    opener.goto(by_link["link"])
    log_in_citizen(opener, demo_server.bsns[2])
    assert HOUSING_NAME in opener.locator("[data-vrager]").inner_text()

    approve(typist, share_address=True)
    approve(opener, share_address=False)

    code_copy, link_copy = received(corporation, by_code["code"]), received(corporation, by_link["code"])
    assert set(code_copy) == {"inkomen", "persoonsgegevens"} and set(link_copy) == {"inkomen"}
    assert code_copy["inkomen"]["naam"] != link_copy["inkomen"]["naam"], "two citizens' answers got mixed"
    assert leaves(code_copy["persoonsgegevens"]) == set(ADDRESS)

    # On the staff's pages too, each request shows its own citizen's data and only what they shared.
    for made, copy in ((by_code, code_copy), (by_link, link_copy)):
        open_request(staff, corporation.state(made["code"])["kenmerk"])
        shown = shown_received(staff)
        assert sorted(heading.split(",")[0] for heading in shown) == sorted(
            {"inkomen": "Inkomen", "persoonsgegevens": "Persoonsgegevens"}[kind] for kind in copy
        ), shown
        income = next(fields for heading, fields in shown.items() if heading.startswith("Inkomen"))
        assert income["Voornamen"] == copy["inkomen"]["naam"]["voornamen"], "the page shows another citizen's name"


def test_staff_make_a_request_for_one_person_and_someone_else_who_opens_it_is_told_whom_to_call(
    demo_server, staff, new_context
):
    reference = "een-persoon-" + secrets.token_hex(3)
    the_one, someone_else = demo_server.bsns[0], demo_server.bsns[1]

    # Staff name the person on "Nieuw verzoek"; the number is not shown again, only that there is one.
    staff.goto(demo_server.base_url + "/vragers/nieuw/")
    staff.locator("#preset-huur").check()
    staff.locator("#id_reference").fill(reference)
    staff.locator("#id_burgerservicenummer").fill(the_one)
    accessible(staff)
    submit(staff, staff.get_by_role("button", name="Verzoek maken"))
    staff.wait_for_url(re.compile(r"/vragers/verzoeken/\d+/$"))
    assert staff.locator("#voor-wie").inner_text() == "Alleen voor de persoon met het BSN dat u opgaf"
    assert the_one not in staff.content()
    accessible(staff)
    link = staff.locator("#link").get_attribute("href")

    # Someone else opens the link: the review page says why a BSN is asked; sharing tells them it is not theirs.
    citizen = new_context().new_page()
    citizen.goto(link)
    log_in_citizen(citizen, someone_else)
    why = citizen.locator("[data-een-persoon]").inner_text()
    assert why.startswith(f"{HOUSING_NAME} maakte dit verzoek voor één persoon. Daarom deelt u ook uw BSN."), why
    accessible(citizen)
    citizen.locator("input[name=soort]").set_checked(False)
    submit(citizen, citizen.get_by_role("button", name="Ja, deel deze gegevens"))
    citizen.wait_for_selector("[data-uitkomst]", timeout=30_000)
    assert citizen.locator("[data-uitkomst]").get_attribute("data-uitkomst") == "ander_persoon"
    said = citizen.locator("main").inner_text()
    assert "Dit verzoek is voor iemand anders." in said
    assert f"Heeft u deze code of link van {HOUSING_NAME} gekregen? Bel hen." in said
    accessible(citizen)
    staff.reload()
    assert staff.locator("#stand").inner_text() == "Wacht op de inwoner"
    assert not demo_server.bsn_leaks(link + staff.url + citizen.url)


def one_line(page: Any, selector: str) -> bool:
    """Whether the inline element ``selector`` is laid out on one line (a wrapped one has more than one box)."""
    return page.locator(selector).evaluate("element => element.getClientRects().length") == 1


def test_staff_see_what_a_preset_asks_and_where_the_code_is_typed_at_1280_and_320(demo_server, staff):
    reference = "breed-smal-" + secrets.token_hex(3)
    staff.goto(demo_server.base_url + "/vragers/nieuw/")
    for width in (1280, 320):
        staff.set_viewport_size({"width": width, "height": 900})
        staff.reload()
        accessible(staff)
        assert staff.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"sideways at {width}"
        said = staff.locator("#preset-huur-uitleg").inner_text()
        assert "Persoonsgegevens (mag de inwoner weglaten): straat, huisnummer, postcode, woonplaats" in said, said
        assert "Bewaren: 90 dagen. Eenmalig: de inwoner deelt één keer." in said, said
        assert "Laat het leeg voor 90 dagen." in staff.locator("main").inner_text()
    staff.locator("#preset-huur").check()
    staff.locator("#id_reference").fill(reference)
    submit(staff, staff.get_by_role("button", name="Verzoek maken"))
    staff.wait_for_url(re.compile(r"/vragers/verzoeken/\d+/$"))
    for width in (1280, 320):
        staff.set_viewport_size({"width": width, "height": 900})
        staff.reload()  # saved as a screenshot at this width
        accessible(staff)
        assert one_line(staff, "#code"), f"the code {staff.locator('#code').inner_text()} breaks at {width} px"
        assert "kiest daar uw organisatie en vult bij" in staff.locator("main").inner_text()
        assert staff.get_by_role("link", name=demo_server.base_url + "/delen/", exact=True).count() == 1
    staff.set_viewport_size({"width": 1280, "height": 900})
