"""Every page of the citizen's portal, as a reviewer looks at it: in Dutch and in English, at 1280 and
320 CSS pixels, with JavaScript on and off.

Per page and per combination: axe-core finds no WCAG 2.2 AA violation, nothing scrolls sideways, no word is
broken over two lines (a box too narrow to read), the page is in the chosen language (``<html lang>`` and a
word of that language in its main content, and no Dutch left on an English page), no catalogue field name
(camelCase) is shown, no demo BSN is in an address the browser asked for, and a full-page screenshot is saved as
``var/screenshots/pages/<page>-<nl|en>-<1280|320>-<js|nojs>.png``.

One walk per language and JavaScript setting goes through the portal as a citizen does (log in, press the
Blauwe Knop, download, check the copies, look at the access page, the overview of every organisation, the
debts and the vault, log out; another citizen asks for a correction); each page it reaches is looked at in both
widths, and so are the staff pages of the requester, the scheme operator and a holder. The page list comes from the
portal's own URLs, so a new page cannot go unseen.

axe-core needs JavaScript, and a page without it never runs timers (axe waits on them), so the pages of a
walk without JavaScript are audited as served: their HTML (a browser without JavaScript builds no other DOM)
is replayed at the same address in a second browser that runs axe and nothing of the site's own scripts.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.urls import Resolver404, URLResolver, get_resolver, resolve
from django_otp.oath import TOTP

from blauweknop.cli import main
from blauweknop.demo import first_run
from blauweknop.demo.citizens import DEFAULT_SEED, make_citizens
from blauweknop.demo.management.commands.seed_demo import HOLDER_STAFF, staff_login
from blauweknop.demo.organisations import ORGANISATIONS
from blauweknop.portal import urls as portal_urls
from blauweknop.protocol import client_assertion
from blauweknop.protocol.encoding import b64url_decode, b64url_encode
from blauweknop.protocol.jwk import SigningKey, generate_jwk, public_jwk
from blauweknop.requester import urls as requester_urls
from tests.deployments import run_python
from tests.e2e.conftest import AXE, CITIZENS, SCREENSHOTS, DemoServer, Steps, server_env
from tests.scheme.test_apply_api import described
from tests.scheme.test_catalogue_versions import vorderingen_v4

pytestmark = pytest.mark.e2e

SHOTS = SCREENSHOTS / "pages"
LANGUAGES = ("nl", "en")
WIDTHS = (1280, 320)
SCRIPTING = {"js": True, "nojs": False}
HEIGHT = 800  # the viewport's height; screenshots are of the full page
HOLDER = "Belastingkantoor Voorbeeldland"
HOLDER_OIN = "00000001003214345000"  # the holder above: the walk asks it to correct a debt, and logs in as its staff
NO_DATA_HOLDER = "Toeslagendienst Voorbeeldland"  # the walk's citizen gets no allowance: it holds nothing of theirs
NOT_A_BSN = "123456789"  # nine digits that fail the eleven test
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_RUN = """async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200)}))}))"""
# The text a reader gets in the page's own language: not the language switch (each in its own language),
# code samples or scripts.
PAGE_STATE = """() => {
    const main = document.querySelector('main') || document.body;
    const own = document.documentElement.lang, text = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const box = node.parentElement;
        if (box.closest('script, style, template, pre, code, [translate=no]')) continue;
        if (box.closest('[lang]').lang !== own) continue;
        text.push(node.data);
    }
    return {url: location.href, lang: document.documentElement.lang, title: document.title,
            width: document.documentElement.scrollWidth, main: main.innerText, text: text.join(' ')};
}"""
# Words that the browser broke over two lines or more, as in a box too narrow for one word. Only whole words of
# letters count (an address or a code sample may wrap anywhere), and only text that is shown (not visually hidden).
BROKEN_WORDS = """() => {
    const shown = element => {
        for (let e = element; e && e !== document.body; e = e.parentElement) {
            const style = getComputedStyle(e);
            if (style.clipPath !== 'none' || !['auto', ''].includes(style.clip)) return false;
            if (['PRE', 'CODE'].includes(e.tagName)) return false;
        }
        return true;
    };
    const broken = [], range = document.createRange();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node && broken.length < 10; node = walker.nextNode()) {
        const box = node.parentElement;
        if (!node.data.trim() || !shown(box)) continue;
        for (const word of node.data.matchAll(/(?<=^|[\\s(])\\p{L}{2,}(?=$|[\\s).,:;!?])/gu)) {
            range.setStart(node, word.index);
            range.setEnd(node, word.index + word[0].length);
            const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
            if (lines.size > 1) {
                broken.push(`${word[0]} in <${box.tagName.toLowerCase()} class="${box.className}">`);
                break;
            }
        }
    }
    return broken;
}"""
# A field's name as the catalogue spells it (camelCase, as verzamelinkomenInCenten): people read labels.
RAW_NAME = re.compile(r"\b[a-z]+[A-Z][A-Za-z]*\b")
# Routes that only take a POST and answer with another page: they are actions, not pages.
ACTIONS = frozenset(
    {
        "uitloggen/",
        "controleren/met-code/",
        "organisaties/<str:oin>/blauwe-knop/",
        "organisaties/<str:oin>/downloaden/",
        "organisaties/<str:oin>/taal/",
        "overzicht/schulden/downloaden/",
        "kluis/bewaren/",
        "kluis/vernieuwen/",
        "kluis/downloaden/",
        "toestemmingen/<slug:record>/bewijs.json",  # downloads
        "toestemmingen/<slug:record>/bewijs.pdf",
    }
)
# The staff pages' actions: logging out, fetching under standing access, and the passkey API for scripts.
STAFF_ACTIONS = frozenset({"uitloggen/", "verzoeken/<int:pk>/ophalen/", "passkeys/"})
STAFF_PREFIX = "vragers/"
# The scheme operator's staff pages, and their actions: logging out and the passkey API for scripts.
OPERATOR_PREFIX = "stelsel/beheer/"
OPERATOR = "/" + OPERATOR_PREFIX
# Not pages: logging out, the passkey API, and a catalogue version as a file (tests/scheme/test_operator_pages.py).
OPERATOR_ACTIONS = ("uitloggen/", "passkeys/", "catalogus/<slug:type_id>/")
# The organisation the walk's operator looks at: it applies to join, and no step of the walk is ever confirmed,
# so the citizen walks that follow meet the same scheme.
APPLICANT = "00000009876543219000"
APPLICANT_KEY = {**generate_jwk(), "kid": "rivierenland-2026"}  # a kid as people choose one, not a thumbprint
# What the operator writes as a reason, in their own language: the page around it is in that language too.
REASONS = {"nl": "Alles gecontroleerd met de contactpersoon.", "en": "Checked everything with the contact person."}
# The holder's staff pages (correction requests), and their actions: logging out, the passkey API for scripts, an
# attachment's download, and taking a request up (a step of the request, not a page; the walk never takes it).
HOLDER_PREFIX = "gegevenshouder/beheer/"
HOLDER_STAFF_AT = "/" + HOLDER_PREFIX
HOLDER_ACTIONS = (
    "uitloggen/",
    "passkeys/",
    "verzoeken/<slug:reference>/bijlage/",
    "verzoeken/<slug:reference>/in-behandeling/",
)
# The field the walk's citizen says is wrong: the amount still to pay of their first debt at the holder.
CORRECTION = "correctie/?soort=vorderingen&veld=vorderingen.openstaandBedragInCenten&positie=0"
# What the citizen writes, in their own language: the staff's pages show it in the same language as the walk.
EXPLANATIONS = {"nl": "Ik heb dit al betaald op 3 maart.", "en": "I paid this in full on 3 March."}
# The organisation that asks the walk's citizen for data (its back office signs with its own key), and its staff.
REQUESTER = "00000003271247970000"
REQUESTER_API = "/vragers/woningcorporatie-thuisbasis/api/v1"
STAFF_PASSWORD = "walk-the-pages-7q2x-m9kd"  # made up, for the walk's own staff members
INCOME = {"belastingjaar": True, "verzamelinkomenInCenten": True, "toetsingsinkomenInCenten": False}
ADDRESS = ("adres.straat", "adres.huisnummer", "adres.postcode", "adres.woonplaats")
# Words that only a Dutch text has: one of them on an English page is a sentence left untranslated.
DUTCH = frozenset(
    {
        *("uw", "het", "een", "niet", "zijn", "wordt", "deze", "naar", "bij", "voor", "met", "ook", "nog", "wat"),
        *("hier", "geen", "gegevens", "kopie", "organisatie", "downloaden", "controleren", "inloggen"),
        *("uitloggen", "ingezien", "bestand", "waarom", "wanneer"),
    }
)


def help_pages() -> dict[str, str]:
    """The help pages the portal has (A adds them under hulp/), by page name: their paths."""
    routes = [str(pattern.pattern) for pattern in portal_urls.urlpatterns]
    found = [route for route in routes if route.startswith("hulp/") and "<" not in route]
    return {("help-" + route.removeprefix("hulp/").strip("/")).rstrip("-"): "/" + route for route in found}


HELP = help_pages()
# Each page, and a word its main content has in Dutch and in English (lower case).
WORDS: dict[str, tuple[str, str]] = {
    "home": ("organisatie", "organisation"),
    "login": ("inloggen", "log in"),
    "login-error": ("bestaat niet", "does not exist"),
    "organisation": ("blauwe knop", "blue button"),
    "data": ("gegevens", "your"),
    "verify": ("controleren", "check"),
    "verify-genuine": ("echt en geldig", "genuine and valid"),
    "verify-tampered": ("niet geldig", "not valid"),
    "verify-json": ("controleren", "check"),
    "verify-code": ("geldig", "valid"),
    "data-none": ("gegevens", "your"),
    "access": ("gegevens", "data"),
    "vault-empty": ("kluis", "vault"),
    "overview": ("organisaties", "organisations"),
    "debts": ("schulden", "debts"),
    "debts-print": ("schulden", "debts"),
    "vault": ("kluis", "vault"),
    "vault-delete": ("zeker", "sure"),
    "vault-copy": ("kluis", "vault"),
    "button": ("knop", "button"),
    "figures": ("cijfers", "figures"),
    **dict.fromkeys(HELP, ("blauwe knop", "blue button")),
    "share-start": ("code", "code"),
    "share-code-error": ("organisatie", "organisation"),
    "share-review": ("delen", "share"),
    "share-done": ("gedeeld", "shared"),
    "share-again": ("verzoek", "request"),
    "share-refused": ("niets gedeeld", "shared nothing"),
    "consents": ("toestemmingen", "consents"),
    "consent": ("intrekken", "withdraw"),
    "verify-receipt": ("bewijs van toestemming", "proof of consent"),
    "consent-withdraw": ("zeker", "sure"),
    "consent-withdrawn": ("ingetrokken", "withdrawn"),
    "not-found": ("bestaat niet", "does not exist"),
    "logged-out": ("uitgelogd", "logged out"),
    "outage": ("probeer", "try"),
    "staff-login": ("wachtwoord", "password"),
    "staff-login-error": ("opnieuw", "again"),
    "staff-setup": ("app", "app"),
    "staff-second-factor": ("code", "code"),
    "staff-requests": ("verzoeken", "requests"),
    "staff-new": ("verzoek", "request"),
    "staff-new-error": ("kies", "choose"),
    "staff-request-new": ("link", "link"),
    "staff-request": ("ontvangen", "received"),
    "staff-security": ("passkey", "passkey"),
    "operator-login": ("wachtwoord", "password"),
    "operator-login-error": ("opnieuw", "again"),
    "operator-setup": ("app", "app"),
    "operator-second-factor": ("code", "code"),
    "operator-home": ("aanmeldingen", "applications"),
    "operator-participants": ("deelnemers", "participants"),
    "operator-participant": ("sleutels", "keys"),
    "operator-application": ("aanmelding", "application"),
    "operator-step-error": ("reden", "reason"),
    "operator-step-confirm": ("zeker", "sure"),
    "operator-step-refused": ("niets veranderd", "nothing has changed"),
    "operator-audit": ("logboek", "audit trail"),
    "operator-keys": ("sleutels", "keys"),
    "operator-key-add-error": ("json", "json"),
    "operator-key-add-confirm": ("zeker", "sure"),
    "operator-key-revoke": ("intrekken", "revoke"),
    "operator-key-revoke-confirm": ("zeker", "sure"),
    "operator-catalogue": ("catalogus", "catalogue"),
    "operator-catalogue-new-error": ("json", "json"),
    "operator-catalogue-new-confirm": ("zeker", "sure"),
    "operator-monitoring": ("gegevensvrager", "data requester"),
    "operator-security": ("passkey", "passkey"),
    "corrections-none": ("correctieverzoeken", "correction requests"),
    "correction": ("klopt dit niet", "is this wrong"),
    "correction-error": ("niet verstuurd", "not been sent"),
    "correction-sent": ("kenmerk", "reference"),
    "corrections": ("ontvangen", "received"),
    "demo-inbox": ("e-mail", "e-mail"),
    "holder-login": ("wachtwoord", "password"),
    "holder-login-error": ("opnieuw", "again"),
    "holder-setup": ("app", "app"),
    "holder-second-factor": ("code", "code"),
    "holder-queue": ("verzoeken", "requests"),
    "holder-request": ("voorstel", "proposal"),
    "holder-accept": ("nieuwe waarde", "new value"),
    "holder-accept-error": ("vul", "fill"),
    "holder-accept-confirm": ("zeker", "sure"),
    "holder-reject": ("reden", "reason"),
    "holder-reject-error": ("reden", "reason"),
    "holder-reject-confirm": ("zeker", "sure"),
    "holder-extend": ("maand", "month"),
    "holder-extend-error": ("kies", "choose"),
    "holder-extend-confirm": ("zeker", "sure"),
    "holder-security": ("passkey", "passkey"),
}
PAGES = list(WORDS)


@dataclass
class Look:
    """What one page showed at one width."""

    url: str
    lang: str
    title: str
    scroll_width: int
    main: str
    text: str
    violations: list[dict[str, Any]]
    broken_words: list[str]
    screenshot: Path
    requested: list[str]


@dataclass
class Seen:
    """Everything the walks saw: looks by (page, language, width, scripting), and why a page was not reached."""

    looks: dict[tuple[str, str, int, str], Look] = field(default_factory=dict)
    unreached: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def look(self, page: str, language: str, width: int, scripting: str) -> Look:
        """The look of ``page``, or a failure that says why the walk did not get there."""
        reason = self.unreached.get((page, language, scripting))
        assert reason is None, f"the walk ({language}, {scripting}) did not reach the page {page}: {reason}"
        return self.looks[page, language, width, scripting]


class Asker:
    """The requester's back office: makes share requests through its API, signed with its own key from the
    server's data folder (client authentication, docs/plus.md section 6), as a real back office would."""

    def __init__(self, server: DemoServer) -> None:
        self.base_url = server.base_url
        self.key = SigningKey(json.loads((server.data_dir / "keys" / f"{REQUESTER}.jwk").read_text()))

    def ask(self, reference: str, *, standing: bool) -> dict[str, Any]:
        """A new request for income (one field optional) and an address (optional); its code and link."""
        url = self.base_url + REQUESTER_API + "/verzoeken"
        income = [{"pad": path, "verplicht": needed} for path, needed in INCOME.items()]
        body = {
            "kenmerk": reference,
            "doel": {
                "nl": "Wij kijken of uw inkomen past bij de woning die u wilt huren.",
                "en": "We check whether your income fits the home you want to rent.",
            },
            "grondslag": "toestemming",
            "bewaartermijnDagen": 90,
            "toegang": "doorlopend" if standing else "eenmalig",
            **({"toegangTot": time.strftime("%Y-%m-%d", time.gmtime(time.time() + 30 * 86400))} if standing else {}),
            "gevraagd": [
                {"documentsoort": "inkomen", "verplicht": True, "velden": income},
                {
                    "documentsoort": "persoonsgegevens",
                    "verplicht": False,
                    "velden": [{"pad": path, "verplicht": True} for path in ADDRESS],
                },
            ],
            "client_assertion_type": client_assertion.ASSERTION_TYPE,
            "client_assertion": client_assertion.sign(self.key, client_id=REQUESTER, audience=url),
        }
        answer = httpx.post(url, json=body, timeout=30)
        assert answer.status_code == 201, f"the requester could not ask: {answer.status_code} {answer.text[:500]}"
        return answer.json()


@dataclass
class StaffMember:
    """A staff member the walk logs in as, made with ``manage.py requester_staff`` or ``operator_staff``; with an
    authenticator app (its TOTP key) or without one yet (they set it up at their first login)."""

    username: str
    totp_key: bytes | None
    password: str = STAFF_PASSWORD
    last_step: int = -1

    def code(self) -> str:
        """A code the app shows now, never one used before (the server refuses a code used again)."""
        now = int(time.time()) // 30
        if self.last_step > now:  # the next window's code was used already: wait for the one after it
            time.sleep((self.last_step + 1) * 30 - time.time() + 0.5)
            now = int(time.time()) // 30
        step = max(now, self.last_step + 1)
        totp = TOTP(self.totp_key)
        totp.time = step * 30
        self.last_step = step
        return f"{totp.token():06d}"


def make_staff(
    server: DemoServer, username: str, *, app: bool, command: tuple[str, ...] = ("requester_staff", REQUESTER)
) -> StaffMember:
    """A staff member in the server's own database, as its operator makes one: by default of the requester."""
    env = server_env(server.data_dir, urlsplit(server.base_url).port or 0)
    args = ["manage.py", *command, username, "--password", STAFF_PASSWORD]
    printed = run_python(env, *args, *(["--totp"] if app else []))
    if not app:
        return StaffMember(username, None)
    found = re.search(r"TOTP secret \(base32\): ([A-Z2-7]+)", printed)
    assert found, f"{command[0]} printed no TOTP secret:\n{printed}"
    secret = found.group(1)
    return StaffMember(username, base64.b32decode(secret + "=" * (-len(secret) % 8)))


def holder_staff(server: DemoServer) -> StaffMember:
    """The holder's demo staff member as seed_demo prints it: password and TOTP key derived from the server's
    secret key."""
    secret_key = first_run.secret_path(server.data_dir, "DJANGO_SECRET_KEY").read_text().strip()
    password, totp_key = staff_login(secret_key, f"holder:{HOLDER_OIN}")
    return StaffMember(HOLDER_STAFF[HOLDER_OIN], bytes.fromhex(totp_key), password)


def correction_citizens(server: DemoServer) -> dict[str, str]:
    """A citizen for each walk (by ``<language>-<scripting>``) who owes the holder a debt and whom no other test
    logs in as (seed_demo prints only a few): each walk sends a correction request, and sees an empty list first."""
    slug = next(spec["slug"] for spec in ORGANISATIONS if spec["oin"] == HOLDER_OIN)
    owing = [
        person.bsn
        for person in make_citizens(DEFAULT_SEED, CITIZENS)
        if (slug, "vorderingen") in person.documents and person.bsn not in server.bsns
    ]
    walks = [f"{language}-{scripting}" for language in LANGUAGES for scripting in SCRIPTING]
    assert len(owing) >= len(walks), f"the demo has too few citizens with a debt at {HOLDER} for the walks"
    return dict(zip(walks, owing, strict=False))


@dataclass
class Plus:
    """What the walks need for variant Plus, corrections and the staff pages: the requester's back office and two of
    its staff, two of the scheme operator's staff, the holder's staff (the demo's, and one without an app yet), and
    the citizens who ask the holder for a correction."""

    asker: Asker
    staff: StaffMember
    newcomer: StaffMember  # has no authenticator app yet: the setup page
    operator: StaffMember
    operator_newcomer: StaffMember
    holder: StaffMember
    holder_newcomer: StaffMember
    correcting: dict[str, str]  # a BSN by walk


def apply(server: DemoServer, folder: Path) -> None:
    """The walk's applicant applies to join the scheme with the CLI, signed with its own key, as any organisation
    does: it waits for the operator, and is in no scheme document."""
    description = described(
        APPLICANT,
        name="Woonstichting Rivierenland Voorbeeld",
        slug="woonstichting-rivierenland-voorbeeld",
        base_url="https://rivierenland.example",
        jwks={"keys": [public_jwk(APPLICANT_KEY)]},
        description={"nl": "Een woonstichting die wil meedoen.", "en": "A housing association that wants to join."},
    )
    participant, key = folder / "aanvrager.json", folder / "aanvrager.jwk"
    participant.write_text(json.dumps(description))
    key.write_text(json.dumps(APPLICANT_KEY))
    scheme = f"{server.base_url}/stelsel"
    # In a thread of its own: the CLI's bounded client runs an event loop, and Playwright's has one running here.
    with ThreadPoolExecutor(1) as thread:
        assert (
            thread.submit(
                main, ["scheme", "apply", "--file", str(participant), "--key", str(key), "--scheme", scheme]
            ).result()
            == 0
        )


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page (axe is already in it, from the context's init script)."""
    return page.evaluate(AXE_RUN, AXE_TAGS)


class Replay:
    """A browser page with JavaScript that shows the HTML of a page served without it, at the same address,
    with the site's own scripts refused, so that axe audits what a browser without JavaScript shows."""

    def __init__(self, context: Any) -> None:
        self.html = ""
        self.page = context.new_page()
        self.page.route("**/*", self.serve)

    def serve(self, route: Any) -> None:
        kind = route.request.resource_type
        if kind == "document":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=self.html)
        elif kind == "script":
            route.abort()
        else:
            route.continue_()

    def violations(self, shown: Any, width: int) -> list[dict[str, Any]]:
        """axe's violations on the page ``shown`` (without JavaScript) at ``width`` pixels."""
        html = shown.content()
        if html != self.html or self.page.url != shown.url:
            self.html = html
            self.page.goto(shown.url)
        self.page.set_viewport_size({"width": width, "height": HEIGHT})
        return run_axe(self.page)


class Walk:
    """One citizen's way through the portal in one language, with or without JavaScript."""

    def __init__(
        self,
        context: Any,
        replay: Replay | None,
        server: DemoServer,
        outage_url: str,
        plus: Plus,
        language: str,
        scripting: str,
        folder: Path,
    ) -> None:
        self.server, self.outage_url, self.language, self.scripting = server, outage_url, language, scripting
        self.folder, self.plus = folder, plus
        self.reference = f"walk-{language}-{scripting}"  # the requester's own reference of the walk's request
        self.asked: dict[str, Any] = {}
        self.replay = replay
        self.requested: list[str] = []
        context.on("request", lambda request: self.requested.append(request.url))
        self.page = context.new_page()
        self.seen = Seen()
        self.files: dict[str, Path] = {}
        self.organisation = ""
        self.correction = ""  # the kenmerk of the walk's correction request
        self.application = ""  # the address of the applicant's application, once the operator's walk found it

    def visit(self, name: str, reach: Callable[[], None]) -> None:
        """Reach the page ``name`` with ``reach``, then look at it at every width; a failure is noted, not raised,
        so one broken page does not hide the others."""
        start = len(self.requested)
        try:
            reach()
            for width in WIDTHS:
                self.seen.looks[name, self.language, width, self.scripting] = self.look(name, width, start)
        except Exception as exc:  # reported by every test of this page
            self.seen.unreached[name, self.language, self.scripting] = f"{type(exc).__name__}: {exc}"

    def look(self, name: str, width: int, start: int) -> Look:
        page = self.page
        page.set_viewport_size({"width": width, "height": HEIGHT})
        state = page.evaluate(PAGE_STATE)
        violations = self.replay.violations(page, width) if self.replay else run_axe(page)
        screenshot = SHOTS / f"{name}-{self.language}-{width}-{self.scripting}.png"
        page.screenshot(path=screenshot, full_page=True)
        return Look(
            url=state["url"],
            lang=state["lang"],
            title=state["title"],
            scroll_width=state["width"],
            main=state["main"],
            text=state["text"],
            violations=violations,
            broken_words=page.evaluate(BROKEN_WORDS),
            screenshot=screenshot,
            requested=[*self.requested[start:], page.url],
        )

    def go(self, path: str) -> None:
        self.page.goto(self.server.base_url + path)

    def download(self, fmt: str) -> Path:
        """Download the first category on the data page as ``fmt``, with the boxes as they are."""
        with self.page.expect_download() as info:
            self.page.locator(f"button[name=download][value$=':{fmt}']").first.click()
        path = self.folder / f"{self.language}-{self.scripting}.{fmt}"
        info.value.save_as(path)
        return path

    def upload(self, copy: Path) -> None:
        """Check ``copy`` on the verify page, by its file."""
        self.go("/controleren/")
        self.page.locator("#id_bestand").set_input_files(copy)
        Steps.submit(self.page, self.page.locator("form:has(#id_bestand) button[type=submit]"))

    def walk(self) -> Seen:
        """Every page, in the order a citizen meets them."""
        self.visit("home", self.home)
        self.visit("login", lambda: self.go(self.organisation))
        self.visit("login-error", lambda: self.log_in_as(NOT_A_BSN))
        self.visit("organisation", self.log_in)
        self.visit("data", self.press)
        self.visit("verify", lambda: self.go("/controleren/"))
        self.visit("verify-genuine", lambda: self.upload(self.files["sdjwt"]))
        self.visit("verify-tampered", lambda: self.upload(self.tampered()))
        self.visit("verify-json", lambda: self.upload(self.files["json"]))
        self.visit("verify-code", lambda: self.go(f"/controleren/{printed_code(self.files['pdf'])}/"))
        self.visit("data-none", self.press_where_nothing_is)
        self.visit("access", lambda: self.go("/mijn-inzage/"))
        self.visit("vault-empty", lambda: self.go("/kluis/"))
        self.visit("overview", lambda: self.go("/overzicht/"))
        self.visit("debts", lambda: self.go("/overzicht/schulden/"))
        self.visit("debts-print", lambda: self.go("/overzicht/schulden/?weergave=afdrukken"))
        self.visit("vault", self.keep)
        self.visit("vault-delete", lambda: self.submit("form[action$='/kluis/verwijderen/']:has(input[name=alles])"))
        self.visit("vault-copy", lambda: (self.go("/kluis/"), self.submit("form[action$='/kluis/bekijken/']")))
        self.walk_plus()
        self.visit("button", lambda: self.go("/knop/"))
        self.visit("figures", lambda: self.go("/cijfers/"))
        for name, path in HELP.items():
            self.visit(name, lambda path=path: self.go(path))
        self.visit("not-found", lambda: self.go("/deze-pagina-is-er-niet/"))
        self.visit("logged-out", self.log_out)
        self.walk_corrections()
        self.visit("outage", lambda: self.page.goto(self.outage_url + "/"))
        self.walk_staff()
        self.walk_operator()
        self.walk_holder_staff()
        return self.seen

    def walk_corrections(self) -> None:
        """A citizen of the walk's own asks the holder to correct the amount of a debt: Mijn correctieverzoeken still
        empty, the form (after the Blauwe Knop), the form sent empty, the confirmation, the list with the request;
        then the demo's inbox. The request stays open: the holder's staff look at it, and never decide."""
        self.visit("corrections-none", self.log_in_to_correct)
        self.visit("correction", lambda: (self.press_blue_button(), self.go(self.organisation + CORRECTION)))
        self.visit("correction-error", lambda: self.submit("form.blauweknop-correction-form"))
        self.visit("correction-sent", self.ask_correction)
        self.visit("corrections", self.my_corrections)
        self.visit("demo-inbox", lambda: self.go("/demo/inbox/"))
        self.log_out()

    def log_in_to_correct(self) -> None:
        self.go(self.organisation)
        self.log_in_as(self.plus.correcting[f"{self.language}-{self.scripting}"])
        assert urlsplit(self.page.url).path == self.organisation, f"login led to {self.page.url}"
        self.go("/correctieverzoeken/")
        assert not self.page.locator("section[data-kenmerk]").count(), "a citizen who asked nothing has requests"

    def my_corrections(self) -> None:
        """Mijn correctieverzoeken with the request just sent, received and not yet decided."""
        self.go("/correctieverzoeken/")
        shown = self.page.locator(f"section[data-kenmerk='{self.correction}']")
        assert shown.get_attribute("data-status") == "ontvangen", "the walk's request is not shown as received"

    def press_blue_button(self) -> None:
        self.go(self.organisation)
        Steps.submit(self.page, self.page.locator("form[action$='/blauwe-knop/'] button[type=submit]"))
        assert self.page.url.endswith("/gegevens/"), f"the Blauwe Knop led to {self.page.url}"

    def ask_correction(self) -> None:
        """The amount should be nothing: paid already. The kenmerk the holder gave is the staff's to look at."""
        self.page.locator("#id_voorstel").fill("0")
        self.page.locator("#id_toelichting").fill(EXPLANATIONS[self.language])
        self.submit("form.blauweknop-correction-form")
        assert re.search(r"/correctie/[^/?]+/$", self.page.url), f"sending led to {self.page.url}"
        self.correction = self.page.locator("[data-kenmerk]").inner_text().strip()

    def walk_plus(self) -> None:
        """An organisation asks; the citizen opens it by its code, shares, opens the link again, says no to a
        second request, looks at their consents, downloads a receipt and withdraws (asked first if they are sure)."""
        self.visit("share-start", lambda: self.go("/delen/"))
        self.visit("share-code-error", self.code_without_organisation)
        self.visit("share-review", self.open_by_code)
        self.visit("share-done", lambda: self.decide("ja"))
        self.visit("share-again", lambda: self.page.goto(self.asked["link"]))
        self.visit("share-refused", self.refuse)
        self.visit("consents", lambda: self.go("/toestemmingen/"))
        self.visit("consent", self.open_consent)
        self.receipts()
        self.visit("verify-receipt", lambda: self.upload(self.folder / f"{self.language}-{self.scripting}-bewijs.pdf"))
        self.visit("consent-withdraw", self.ask_to_withdraw)
        self.visit("consent-withdrawn", lambda: self.submit("form[action$='/intrekken/'][method=post]"))

    def code_without_organisation(self) -> None:
        self.asked = self.plus.asker.ask(self.reference, standing=True)
        self.go("/delen/")
        self.page.locator("#id_code").fill(self.asked["weergaveCode"])
        self.submit("form[action$='/delen/openen/']")

    def open_by_code(self) -> None:
        self.page.locator("#id_organisatie").select_option(REQUESTER)
        self.page.locator("#id_code").fill(self.asked["weergaveCode"])
        self.submit("form[action$='/delen/openen/']")
        assert re.search(r"/delen/[^/]+/$", self.page.url), f"the code led to {self.page.url}"

    def decide(self, decision: str) -> None:
        Steps.submit(self.page, self.page.locator(f"button[name=besluit][value={decision}]"))
        assert self.page.url.endswith("/klaar/"), f"the decision led to {self.page.url}"

    def refuse(self) -> None:
        """A second, one-time request, opened by its link, and the citizen says no."""
        self.page.goto(self.plus.asker.ask(self.reference + "-nee", standing=False)["link"])
        self.decide("nee")

    def open_consent(self) -> None:
        self.go("/toestemmingen/")
        self.page.locator("[data-staat=gegeven] h3 a").first.click()
        self.page.wait_for_url(re.compile(r"/toestemmingen/[^/]+/$"))
        self.consent = self.page.url

    def ask_to_withdraw(self) -> None:
        """Back from the verify page to the consent, and its withdraw button: "Weet u het zeker?"."""
        self.page.goto(self.consent)
        self.submit("form[action$='/intrekken/'][method=get]")

    def receipts(self) -> None:
        """The consent's receipt as JSON and as PDF: downloads, and the page stays."""
        shown = self.page.url
        for extension, start in (("json", b"{"), ("pdf", b"%PDF")):
            with self.page.expect_download() as info:
                self.page.locator(f"a[href$='/bewijs.{extension}']").click()
            path = self.folder / f"{self.language}-{self.scripting}-bewijs.{extension}"
            info.value.save_as(path)
            assert path.read_bytes().startswith(start), f"the {extension} receipt is no {extension}"
        assert self.page.url == shown, "a receipt's download left the consent's page"

    def walk_staff(self) -> None:
        """The requester's staff: log in (password, then the app's code, or first set up the app), the list of
        requests, a new one, the walk's own request with the data the citizen shared, the security page."""
        staff, newcomer = self.plus.staff, self.plus.newcomer
        self.visit("staff-login", lambda: self.go("/vragers/inloggen/"))
        self.visit("staff-login-error", lambda: self.staff_log_in(staff.username, "not-" + STAFF_PASSWORD))
        self.visit("staff-setup", lambda: self.staff_log_in(newcomer.username, STAFF_PASSWORD))
        self.visit("staff-second-factor", lambda: (self.staff_log_out(), self.staff_log_in(staff.username)))
        self.visit("staff-requests", lambda: self.second_step(staff))
        self.visit("staff-new", lambda: self.go("/vragers/nieuw/"))
        self.visit("staff-new-error", lambda: self.submit("form:has(input[name=preset])"))
        self.visit("staff-request-new", self.new_request)
        self.visit("staff-request", self.shared_request)
        self.visit("staff-security", lambda: self.go("/vragers/beveiliging/"))
        self.staff_log_out()

    def walk_operator(self) -> None:
        """The scheme operator's staff: log in (or first set up the app), the applications waiting, the
        participants, the applicant's page, a step without a reason, its "Weet u het zeker?", a step its state
        refuses, the audit trail, the keys (a new one with a mistake, then right; revoking one), the catalogue (a
        new version with a mistake, then right), the monitoring and the security page. Nothing is confirmed."""
        staff, newcomer, at, reason = self.plus.operator, self.plus.operator_newcomer, OPERATOR, REASONS[self.language]
        self.visit("operator-login", lambda: self.go(at + "inloggen/"))
        self.visit("operator-login-error", lambda: self.staff_log_in(staff.username, "not-" + STAFF_PASSWORD, at=at))
        self.visit("operator-setup", lambda: self.staff_log_in(newcomer.username, at=at))
        self.visit("operator-second-factor", lambda: (self.staff_log_out(at), self.staff_log_in(staff.username, at=at)))
        self.visit("operator-home", lambda: self.second_step(staff, at=at))
        self.visit("operator-participants", lambda: self.go(at + "deelnemers/"))
        self.visit("operator-participant", lambda: self.go(f"{at}deelnemers/{HOLDER_OIN}/"))
        self.visit("operator-application", self.application_page)
        self.visit("operator-step-error", lambda: self.go_and_fill(f"{self.application}certificeren/", {}))
        self.visit("operator-step-confirm", lambda: self.fill_and_send({"#id_reason": reason}))
        self.visit("operator-step-refused", lambda: self.go(f"{at}deelnemers/{HOLDER_OIN}/herstellen/"))
        self.visit("operator-audit", lambda: self.go(at + "logboek/"))
        self.visit("operator-keys", lambda: self.go(at + "sleutels/"))
        wrong = {"#id_jwk": "kty=EC crv=P-256", "#id_reason": reason}
        self.visit("operator-key-add-error", lambda: self.go_and_fill(f"{at}sleutels/{HOLDER_OIN}/nieuw/", wrong))
        new_key = json.dumps(public_jwk(generate_jwk()))
        self.visit("operator-key-add-confirm", lambda: self.fill_and_send({"#id_jwk": new_key, "#id_reason": reason}))
        self.visit("operator-key-revoke", self.revoke_page)
        self.visit("operator-key-revoke-confirm", self.revoke_confirm)
        self.visit("operator-catalogue", lambda: self.go(at + "catalogus/"))
        self.visit(
            "operator-catalogue-new-error",
            lambda: self.go_and_fill(at + "catalogus/nieuwe-versie/", {"#id_definitie": "{"}),
        )
        version = json.dumps(vorderingen_v4(), ensure_ascii=False)
        self.visit("operator-catalogue-new-confirm", lambda: self.fill_and_send({"#id_definitie": version}))
        self.visit("operator-monitoring", lambda: self.go(at + "toezicht/"))
        self.visit("operator-security", lambda: self.go(at + "beveiliging/"))
        self.staff_log_out(at)

    def walk_holder_staff(self) -> None:
        """The holder's staff: log in (or first set up the app), the queue, the walk's correction request, and each
        decision's form, sent without what it needs and then with it, up to "Weet u het zeker?"; the security page.
        Nothing is decided, or taken up: the request stays as the citizen sent it."""
        staff, newcomer, at = self.plus.holder, self.plus.holder_newcomer, HOLDER_STAFF_AT
        request, reason = f"{at}verzoeken/{self.correction}/", REASONS[self.language]
        self.visit("holder-login", lambda: self.go(at + "inloggen/"))
        self.visit("holder-login-error", lambda: self.staff_log_in(staff.username, "not-" + staff.password, at=at))
        self.visit("holder-setup", lambda: self.staff_log_in(newcomer.username, at=at))
        self.visit(
            "holder-second-factor",
            lambda: (self.staff_log_out(at), self.staff_log_in(staff.username, staff.password, at=at)),
        )
        self.visit("holder-queue", lambda: self.second_step(staff, at=at))
        self.visit("holder-request", lambda: self.go(request))
        self.visit("holder-accept", lambda: self.go(request + "aanpassen/"))
        self.visit("holder-accept-error", lambda: self.send_undecided({"#id_value": ""}))
        self.visit("holder-accept-confirm", lambda: self.send_undecided({"#id_value": "0,00"}))
        self.visit("holder-reject", lambda: self.go(request + "afwijzen/"))
        self.visit("holder-reject-error", lambda: self.send_undecided({}))
        self.visit("holder-reject-confirm", lambda: self.send_undecided({"#id_reason": reason}))
        self.visit("holder-extend", lambda: self.go(request + "verlengen/"))
        self.visit("holder-extend-error", lambda: self.send_undecided({}))
        self.visit(
            "holder-extend-confirm",
            lambda: (self.page.locator("#maanden-1").check(), self.send_undecided({"#id_reason": reason})),
        )
        self.visit("holder-security", lambda: self.go(at + "beveiliging/"))
        self.staff_log_out(at)

    def send_undecided(self, fields: dict[str, str]) -> None:
        """Send a decision's form (its first step): never the "Weet u het zeker?" step, which would decide."""
        shown = self.page.url
        assert not self.page.locator("input[name=confirmed]").count(), f"{shown} is the step that decides"
        assert urlsplit(shown).path.endswith(("/aanpassen/", "/afwijzen/", "/verlengen/")), f"{shown} is no decision"
        self.fill_and_send(fields)

    def go_and_fill(self, path: str, fields: dict[str, str]) -> None:
        """Open the form at ``path``, fill in ``fields`` (none: send it empty) and send it."""
        self.go(path)
        self.fill_and_send(fields)

    def fill_and_send(self, fields: dict[str, str]) -> None:
        """Fill in ``fields`` (selectors: values) of the page's form and send it by its first button."""
        for selector, value in fields.items():
            self.page.locator(selector).fill(value)
        self.submit("main form[method=post]")

    def application_page(self) -> None:
        """From the home page to the applicant's application, by its link (an application has a number, no OIN)."""
        self.go(OPERATOR)
        self.page.get_by_role("link", name="Woonstichting Rivierenland Voorbeeld").click()
        self.page.wait_for_url(re.compile(r"/aanmeldingen/[0-9]+/$"))
        self.application = self.page.url.removeprefix(self.server.base_url)

    def revoke_page(self) -> None:
        """From the keys page to revoking a holder's key, by its link."""
        self.go(OPERATOR + "sleutels/")
        self.page.locator(f"a[href^='{OPERATOR}sleutels/{HOLDER_OIN}/'][href$='/intrekken/']").first.click()
        self.page.wait_for_url(re.compile(r"/intrekken/$"))

    def revoke_confirm(self) -> None:
        """A reason, and for a key in use the choice which key takes over: none (the holder has no next key)."""
        no_successor = self.page.locator("input[name=successor][value='']")
        if no_successor.count():
            no_successor.check()
        self.fill_and_send({"#id_reason": REASONS[self.language]})

    def staff_log_in(self, username: str, password: str = STAFF_PASSWORD, *, at: str = "/vragers/") -> None:
        self.page.locator("#id_username").fill(username)
        self.page.locator("#id_password").fill(password)
        self.submit(f"form[action='{at}inloggen/']")

    def staff_log_out(self, at: str = "/vragers/") -> None:
        self.submit(f"form[action='{at}uitloggen/']")

    def second_step(self, staff: StaffMember, *, at: str = "/vragers/") -> None:
        self.page.locator("#id_token").fill(staff.code())
        self.submit("form:has(#id_token)")
        assert urlsplit(self.page.url).path == at, f"the second step led to {self.page.url}"

    def new_request(self) -> None:
        self.page.locator("#preset-huur").check()
        self.page.locator("#id_reference").fill(self.reference + "-nieuw")
        self.submit("form:has(input[name=preset])")

    def shared_request(self) -> None:
        self.go("/vragers/")
        self.page.get_by_role("link", name=self.reference, exact=True).click()
        self.page.wait_for_url(re.compile(r"/vragers/verzoeken/\d+/$"))

    def home(self) -> None:
        self.go("/")
        self.organisation = self.page.get_by_role("link", name=HOLDER, exact=True).first.get_attribute("href")

    def log_in_as(self, bsn: str) -> None:
        self.page.locator("#id_bsn").fill(bsn)
        Steps.submit(self.page, self.page.locator("form:has(#id_bsn) button[type=submit]"))

    def log_in(self) -> None:
        self.log_in_as(self.server.bsns[0])
        assert urlsplit(self.page.url).path == self.organisation, f"login led to {self.page.url}"

    def press(self) -> None:
        Steps.submit(self.page, self.page.locator("form[action$='/blauwe-knop/'] button[type=submit]"))
        assert self.page.url.endswith("/gegevens/"), f"the Blauwe Knop led to {self.page.url}"
        data_page = self.page.url
        self.files = {fmt: self.download(fmt) for fmt in ("sdjwt", "pdf", "json")}
        assert self.page.url == data_page, "a download left the data page"

    def press_where_nothing_is(self) -> None:
        """Press the Blauwe Knop at an organisation that holds no data of this citizen."""
        self.go("/")
        self.page.get_by_role("link", name=NO_DATA_HOLDER, exact=True).first.click()
        self.page.wait_for_url(re.compile(r"/organisaties/[^/]+/$"))
        Steps.submit(self.page, self.page.locator("form[action$='/blauwe-knop/'] button[type=submit]"))

    def tampered(self) -> Path:
        """The downloaded .sdjwt with one shared value made larger, as someone who edits a copy would do."""
        issuer_signed, *disclosures = self.files["sdjwt"].read_text().strip().split("~")
        changed = False
        for i, disclosure in enumerate(disclosures):
            decoded = json.loads(b64url_decode(disclosure)) if disclosure else None
            if not changed and isinstance(decoded, list) and isinstance(decoded[-1], int):
                decoded[-1] += 100_000
                disclosures[i], changed = b64url_encode(json.dumps(decoded).encode()), True
        assert changed, "the copy shares no number to change"
        tampered = self.folder / f"{self.language}-{self.scripting}-tampered.sdjwt"
        tampered.write_text("~".join([issuer_signed, *disclosures]))
        return tampered

    def submit(self, form: str) -> None:
        """Send the first form on the page that matches ``form``, by its button."""
        Steps.submit(self.page, self.page.locator(f"{form} button[type=submit]").first)

    def keep(self) -> None:
        """Keep the first organisation's copies of the overview in the vault, then open the vault."""
        self.go("/overzicht/")
        self.submit("form[action$='/kluis/bewaren/']")
        self.go("/kluis/")

    def log_out(self) -> None:
        Steps.submit(self.page, self.page.locator("form[action='/uitloggen/'] button[type=submit]"))


def printed_code(copy: Path) -> str:
    """The check code printed on a PDF copy, from the address printed beside its QR code."""
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "poppler-utils must be installed (scripts/install-test-tools.sh)"
    text = subprocess.run([pdftotext, str(copy), "-"], capture_output=True, text=True, timeout=30, check=True).stdout
    found = re.search(r"/controleren/([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/", text)
    assert found, f"the PDF shows no address of the form /controleren/<code>/:\n{text[:2000]}"
    return found.group(1)


@pytest.fixture(scope="module")
def seen(
    open_context: Callable[..., Any],
    demo_server: DemoServer,
    outage_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Seen:
    """Every page, walked once per language and JavaScript setting, each looked at in every width."""
    assert AXE.exists(), f"{AXE} is missing: run npm ci"
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    folder = tmp_path_factory.mktemp("every-page")
    operator = ("operator_staff",)
    plus = Plus(
        Asker(demo_server),
        make_staff(demo_server, "walk-staff", app=True),
        make_staff(demo_server, "walk-newcomer", app=False),
        make_staff(demo_server, "walk-operator", app=True, command=operator),
        make_staff(demo_server, "walk-operator-newcomer", app=False, command=operator),
        holder_staff(demo_server),
        make_staff(demo_server, "walk-holder-newcomer", app=False, command=("holder_staff", "--holder", HOLDER_OIN)),
        correction_citizens(demo_server),
    )
    apply(demo_server, folder)
    everything = Seen()
    with open_context("every-page-replay", shoot_every_page=False) as replay_context:
        replay_context.add_init_script(path=str(AXE))
        replay = Replay(replay_context)
        for language in LANGUAGES:
            for scripting, javascript in SCRIPTING.items():
                options = {"locale": {"nl": "nl-NL", "en": "en-GB"}[language], "java_script_enabled": javascript}
                with open_context(f"every-page-{language}-{scripting}", shoot_every_page=False, **options) as context:
                    context.add_cookies([{"name": "django_language", "value": language, "url": demo_server.base_url}])
                    if javascript:
                        context.add_init_script(path=str(AXE))
                    replayed = None if javascript else replay
                    walk = Walk(context, replayed, demo_server, outage_url, plus, language, scripting, folder)
                    found = walk.walk()
                everything.looks.update(found.looks)
                everything.unreached.update(found.unreached)
    return everything


EVERY_LOOK = pytest.mark.parametrize(
    ("name", "language", "width", "scripting"),
    [
        pytest.param(name, language, width, scripting, id=f"{name}-{language}-{width}-{scripting}")
        for name in PAGES
        for language in LANGUAGES
        for width in WIDTHS
        for scripting in SCRIPTING
    ],
)


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    at {node['target']}: {node['html']}" for node in violation["nodes"])
    return "\n".join(lines)


@EVERY_LOOK
def test_it_has_no_accessibility_violations(seen, name, language, width, scripting):
    look = seen.look(name, language, width, scripting)
    assert not look.violations, f"axe: {len(look.violations)} WCAG violations on {look.url}:\n" + describe(
        look.violations
    )


@EVERY_LOOK
def test_it_refuses_to_scroll_sideways(seen, name, language, width, scripting):
    look = seen.look(name, language, width, scripting)
    assert look.scroll_width <= width, f"{look.url} is {look.scroll_width} px wide in a {width} px window"


@EVERY_LOOK
def test_it_keeps_words_whole(seen, name, language, width, scripting):
    look = seen.look(name, language, width, scripting)
    assert not look.broken_words, f"{look.url} breaks words over lines at {width} px: {look.broken_words}"


@EVERY_LOOK
def test_it_is_in_the_chosen_language(seen, name, language, width, scripting):
    look = seen.look(name, language, width, scripting)
    assert look.lang == language, f"{look.url} has <html lang={look.lang!r}>, not {language!r}"
    word = WORDS[name][LANGUAGES.index(language)]
    assert re.search(rf"\b{re.escape(word)}\b", look.main.lower()), f"{look.url} does not say {word!r}:\n{look.main}"
    if language == "en":
        words = re.findall(r"[a-zà-ÿ]+", f"{look.title} {look.text}".lower())
        left = sorted({w for w in words if w in DUTCH})
        assert not left, f"the English page {look.url} still has Dutch words {left}"


@EVERY_LOOK
def test_it_shows_no_raw_field_names(seen, name, language, width, scripting):
    look = seen.look(name, language, width, scripting)
    raw = sorted(set(RAW_NAME.findall(look.text)))
    assert not raw, f"{look.url} shows names meant for computers, not people: {raw}"


@EVERY_LOOK
def test_it_has_no_bsn_in_any_address(seen, demo_server, name, language, width, scripting):
    look = seen.look(name, language, width, scripting)
    correcting = correction_citizens(demo_server).values()
    leaked = [url for url in look.requested if demo_server.bsn_leaks(url) or any(bsn in url for bsn in correcting)]
    assert not leaked, f"a demo BSN is in an address asked for on the way to {name}: {leaked}"


@EVERY_LOOK
def test_it_saves_a_full_page_screenshot(seen, name, language, width, scripting):
    look = seen.look(name, language, width, scripting)
    assert look.screenshot.stat().st_size > 0, f"{look.screenshot} is empty"
    assert look.screenshot.read_bytes().startswith(b"\x89PNG"), f"{look.screenshot} is not a PNG"


def test_it_walks_every_page_of_the_portal(seen):
    """Every page the portal's URLs name is walked (actions that only answer a POST aside): a new page fails here
    until it is added above."""
    routes = {str(pattern.pattern) for pattern in portal_urls.urlpatterns}
    missing = sorted(routes - ACTIONS - walked_routes(seen))
    assert not missing, f"pages of the portal no walk reached: {missing}"


def test_it_walks_every_staff_page_of_the_requester(seen):
    """Every page of the requester's staff (/vragers/) is walked, its actions aside: a new one fails here."""
    routes = {STAFF_PREFIX + str(pattern.pattern) for pattern in requester_urls.urlpatterns}
    missing = sorted(routes - {STAFF_PREFIX + action for action in STAFF_ACTIONS} - walked_routes(seen))
    assert not missing, f"staff pages no walk reached: {missing}"


def test_it_walks_every_page_of_the_operator(seen):
    """Every page of the scheme operator's staff (/stelsel/beheer/, its key, catalogue and monitoring pages too)
    is walked, its actions aside (logging out, the passkey API, a catalogue file): a new one fails here."""
    routes = {route for route in every_route(get_resolver().url_patterns) if route.startswith(OPERATOR_PREFIX)}
    actions = {route for route in routes if route.removeprefix(OPERATOR_PREFIX).startswith(OPERATOR_ACTIONS)}
    missing = sorted(routes - actions - walked_routes(seen))
    assert not missing, f"operator pages no walk reached: {missing}"


def test_it_walks_every_page_of_the_holders_staff(seen):
    """Every page of a holder's staff (/gegevenshouder/beheer/: the queue, a correction request, its decisions'
    forms) is walked, its actions aside (logging out, the passkey API, an attachment, taking a request up)."""
    routes = {route for route in every_route(get_resolver().url_patterns) if route.startswith(HOLDER_PREFIX)}
    actions = {route for route in routes if route.removeprefix(HOLDER_PREFIX).startswith(HOLDER_ACTIONS)}
    missing = sorted(routes - actions - walked_routes(seen))
    assert not missing, f"holder staff pages no walk reached: {missing}"


def walked_routes(seen: Seen) -> set[str]:
    """The URL routes of every page the walks looked at (the not-found page has none)."""
    walked = set()
    for look in seen.looks.values():
        with contextlib.suppress(Resolver404):
            walked.add(resolve(urlsplit(look.url).path).route)
    return walked


def every_route(patterns: list[Any], prefix: str = "") -> list[str]:
    """Every route of ``patterns``, the ones of included URL lists spelled out with the include's prefix."""
    routes = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            routes += every_route(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            routes.append(prefix + str(pattern.pattern))
    return routes
