"""Variant Plus against a running demo, as a requester's back office and a citizen's browser would do it.

Only the standard library and ``cryptography`` (to sign the requester's client assertions, RFC 7523
``private_key_jwt``): nothing of the platform is imported, nothing but HTTP reaches it. Run it through
``scripts/plus-walkthrough.sh``.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
INCOME = ["belastingjaar", "toetsingsinkomenInCenten", "verzamelinkomenInCenten"]
ADDRESS = ["adres.straat", "adres.huisnummer", "adres.postcode", "adres.woonplaats"]


class Failed(Exception):
    """A step did not give what the flow needs."""


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class ClientKey:
    """The requester's private key (a P-256 JWK): signs a fresh client assertion for each call."""

    def __init__(self, path: str, client_id: str) -> None:
        with open(path, encoding="utf-8") as handle:
            jwk = json.load(handle)
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            raise Failed("This walkthrough signs with ES256 only: the requester's key is not a P-256 key.")
        number = int.from_bytes(base64.urlsafe_b64decode(jwk["d"] + "=" * (-len(jwk["d"]) % 4)), "big")
        self.key = ec.derive_private_key(number, ec.SECP256R1())
        self.kid = jwk["kid"]
        self.client_id = client_id

    def assertion(self, audience: str) -> str:
        now = int(time.time())
        header = {"alg": "ES256", "typ": "client-authentication+jwt", "kid": self.kid}
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": audience,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + 60,
        }
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class Answer:
    def __init__(self, status: int, url: str, body: bytes, content_type: str) -> None:
        self.status, self.url, self.body, self.content_type = status, url, body, content_type

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Client:
    """HTTP with cookies (the citizen's browser) or without (the back office)."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def send(self, method: str, url: str, *, data: bytes | None = None, headers: dict | None = None) -> Answer:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise Failed(f"Only http and https addresses: {url}")
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
        try:
            with self.opener.open(request, timeout=60) as response:
                return Answer(response.status, response.url, response.read(), response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as error:
            return Answer(error.code, url, error.read(), error.headers.get("Content-Type", ""))

    def form(self, url: str, fields: list[tuple[str, str]], referer: str) -> Answer:
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Referer": referer}
        return self.send("POST", url, data=body, headers=headers)


class Forms(HTMLParser):
    """The forms of a page: their action, and their inputs and buttons as (name, value, type, checked)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append({"action": found.get("action", ""), "method": found.get("method", "get"), "inputs": []})
        elif tag in ("input", "button") and self.forms and "name" in found:
            kind = found.get("type", "submit" if tag == "button" else "text")
            self.forms[-1]["inputs"].append((found["name"], found.get("value", ""), kind, "checked" in found))


def forms_of(page: Answer) -> list[dict[str, Any]]:
    parser = Forms()
    parser.feed(page.text)
    return parser.forms


def expect(answer: Answer, status: int, what: str) -> Answer:
    if answer.status != status:
        raise Failed(f"{what}: HTTP {answer.status} instead of {status}: {answer.text[:400]}")
    return answer


def flatten(data: Any, prefix: str = "") -> set[str]:
    """The dotted paths of the leaves of ``data``, list positions left out (as the catalogue names fields)."""
    if isinstance(data, dict):
        return set().union(*(flatten(v, f"{prefix}{k}.") for k, v in data.items())) if data else set()
    if isinstance(data, list):
        return set().union(*(flatten(v, prefix) for v in data)) if data else set()
    return {prefix.rstrip(".")}


def main(base: str, client_id: str, key_path: str) -> None:
    key, browser, office = ClientKey(key_path, client_id), Client(), Client()

    step(f"The scheme document at {base} says where the requester's API is")
    scheme = expect(office.send("GET", f"{base}/stelsel/api/v1/stelseldocument"), 200, "scheme document").text
    payload = scheme.split(".")[1]
    document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    me = next(o for o in document["organisations"] if o["oin"] == client_id)
    api = me["endpoints"]["requester"]
    print(f"    {me['name']}: {api}")

    step("The housing corporation asks for income (required) and an address (optional), standing access")
    until = (date.today() + timedelta(days=30)).isoformat()
    body = {
        "kenmerk": "walkthrough-" + secrets.token_hex(3),
        "doel": {
            "nl": "Wij kijken of uw inkomen past bij de woning die u wilt huren.",
            "en": "We check whether your income fits the home you want to rent.",
        },
        "grondslag": "toestemming",
        "bewaartermijnDagen": 90,
        "toegang": "doorlopend",
        "toegangTot": until,
        "gevraagd": [
            {"documentsoort": "inkomen", "verplicht": True, "velden": [{"pad": p, "verplicht": True} for p in INCOME]},
            {
                "documentsoort": "persoonsgegevens",
                "verplicht": False,
                "velden": [{"pad": p, "verplicht": True} for p in ADDRESS],
            },
        ],
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": key.assertion(f"{api}/verzoeken"),
    }
    made = expect(
        office.send(
            "POST", f"{api}/verzoeken", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        ),
        201,
        "making the request",
    ).json()
    code = made["code"]
    print(f"    short code {made['weergaveCode']}, link {made['link']}")

    step("The citizen logs in with the DigiD mock and opens the link")
    link_path = urllib.parse.urlsplit(made["link"])
    next_path = link_path.path + "?" + link_path.query
    login_url = f"{base}/inloggen/?" + urllib.parse.urlencode({"next": next_path})
    login = expect(browser.send("GET", login_url), 200, "the login page")
    form = next((f for f in forms_of(login) if any(n == "voorbeeldburger" for n, *_ in f["inputs"])), None)
    if form is None:
        raise Failed("The login page offers no demo citizen: is the DigiD mock on?")
    csrf = next(v for n, v, *_ in form["inputs"] if n == "csrfmiddlewaretoken")
    example = next(v for n, v, *_ in form["inputs"] if n == "voorbeeldburger")
    review = expect(
        browser.form(login_url, [("csrfmiddlewaretoken", csrf), ("voorbeeldburger", example)], login_url),
        200,
        "logging in and opening the request",
    )
    if "/delen/" not in review.url:
        raise Failed(f"After login the citizen is at {review.url}, not at the request.")
    print(f"    the review page: {review.url}")

    step("The citizen unticks the address and approves")
    decide = next(f for f in forms_of(review) if any(n == "besluit" for n, *_ in f["inputs"]))
    fields = [
        (name, value)
        for name, value, kind, checked in decide["inputs"]
        if kind in ("hidden", "date", "text") or (kind == "checkbox" and checked and name != "soort")
    ]
    kept_types = [v for n, v, kind, checked in decide["inputs"] if n == "soort" and checked]
    print(f"    optional document types ticked on the page: {kept_types}; unticked before approving")
    action = urllib.parse.urljoin(review.url, decide["action"] or review.url)
    done = expect(browser.form(action, [*fields, ("besluit", "ja")], review.url), 200, "approving")
    print(f"    the citizen sees: {done.url}")

    step("The housing corporation looks at what it received")
    state_url = f"{api}/verzoeken/{code}"
    stand = expect(
        office.send("GET", state_url, headers={"Authorization": f"Bearer {key.assertion(state_url)}"}),
        200,
        "reading the request",
    ).json()
    received = stand["ontvangen"]
    got = [(r["documentsoort"], sorted(flatten(r["gegevens"]))) for r in received]
    print(f"    status {stand['status']}; received {got}")
    if stand["status"] != "goedgekeurd" or got != [("inkomen", sorted(INCOME))]:
        raise Failed(f"The corporation should have exactly the income fields {INCOME}, and it has {got}.")

    step("Standing access: the corporation fetches fresh data without asking the citizen again")
    fetch_url = f"{api}/verzoeken/{code}/ophalen"

    def fetch() -> Answer:
        auth = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": key.assertion(fetch_url)}
        return office.send(
            "POST", fetch_url, data=json.dumps(auth).encode(), headers={"Content-Type": "application/json"}
        )

    fetched = expect(fetch(), 200, "the standing fetch").json()["ontvangen"]
    again = [(r["documentsoort"], sorted(flatten(r["gegevens"]))) for r in fetched]
    print(f"    fetched {again}")
    if again != [("inkomen", sorted(INCOME))]:
        raise Failed(f"A standing fetch should give the income fields only, and it gave {again}.")

    step("The citizen withdraws the consent at Mijn toestemmingen")
    consent_url = f"{base}/toestemmingen/{stand['toestemming']}/"
    page = expect(browser.send("GET", consent_url), 200, "the consent's page")
    withdraw = next(f for f in forms_of(page) if f["action"].rstrip("/").endswith("intrekken"))
    withdraw_url = urllib.parse.urljoin(consent_url, withdraw["action"])
    if withdraw["method"].lower() != "post":  # the portal asks "are you sure?" first
        page = expect(browser.send("GET", withdraw_url), 200, "the question before withdrawing")
        withdraw = next(f for f in forms_of(page) if f["method"].lower() == "post" and "intrekken" in f["action"])
        consent_url, withdraw_url = withdraw_url, urllib.parse.urljoin(withdraw_url, withdraw["action"])
    csrf = next(v for n, v, *_ in withdraw["inputs"] if n == "csrfmiddlewaretoken")
    withdrawn = browser.form(withdraw_url, [("csrfmiddlewaretoken", csrf)], consent_url)
    expect(withdrawn, 200, "withdrawing")
    print("    withdrawn")

    step("The corporation's next standing fetch is refused")
    refused = fetch()
    problem = refused.json() if "json" in refused.content_type else {}
    print(f"    HTTP {refused.status}, {refused.content_type}, code {problem.get('code')!r}")
    if refused.status != 403 or not refused.content_type.startswith("application/problem+json"):
        raise Failed("After withdrawal the fetch must be refused with 403 problem+json.")
    if not re.fullmatch(r"consent_withdrawn", str(problem.get("code"))):
        raise Failed(f"The refusal should say the consent was withdrawn, not {problem.get('code')!r}.")
    step("Done: exactly the approved fields arrived, and withdrawal stopped the next fetch")


if __name__ == "__main__":
    try:
        main(*sys.argv[1:4])
    except (Failed, StopIteration, KeyError, urllib.error.URLError) as error:
        print(f"FAILED: {error!r}", file=sys.stderr)
        sys.exit(1)
