"""Synthetic citizens with realistic Dutch data, the same every time for the same seed.

BSNs are drawn from the 999xxxxxx range that is reserved for testing and pass the 11-proef.
Names and addresses come from Faker's Dutch locale; incomes, debts, allowances and student debt
follow simple, plausible rules, so that the demo shows every kind of situation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from faker import Faker

from blauweknop.demo.organisations import ORGANISATIONS
from blauweknop.protocol.identifiers import is_valid_bsn

DEFAULT_SEED = 20261128
POSTCODE_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
DEFAULT_COUNT = 200
TODAY = date(2026, 11, 1)  # the demo's "today", so the data is the same whenever it is made
# Who is owed, and for what: each holder's kinds of debt, from the catalogue, whose words say them in either language.
CREDITORS = {
    "gemeente-voorbeeldstad": ["gemeentelijkeBelastingen"],
    "belastingkantoor": ["inkomstenbelasting"],
    "boeteninning": ["verkeersboete", "ovBoete"],
}


class Creditor(NamedTuple):
    """A holder added for the debt overview: its kinds of debt, how likely a citizen owes it, and at what ages."""

    kinds: list[str]
    chance: float
    ages: range = range(18, 200)


# The debts at the holders added later come from a generator of their own (see _more_debts), so that every
# citizen keeps the documents drawn before these holders were added. A citizen with problem debts owes most of them.
MORE_CREDITORS = {
    "toeslagendienst": Creditor(["terugvorderingToeslag"], 0.08),
    "studiefinanciering": Creditor(["terugvorderingStudiefinanciering"], 0.06, range(18, 46)),
    "waterschap-voorbeeldwater": Creditor(["waterschapsbelasting"], 0.15),
    "gemeente-rivierdorp": Creditor(["gemeentelijkeBelastingen", "terugvorderingBijstand"], 0.05),
    "uitkeringsdienst": Creditor(["terugvorderingUitkering"], 0.06, range(18, 67)),
    "kinderbijslagbank": Creditor(["terugvorderingKinderbijslag"], 0.05, range(25, 61)),
    "zorgbijdragekantoor": Creditor(["eigenBijdrageZorg", "bestuursrechtelijkePremie"], 0.08),
    "belastingsamenwerking": Creditor(["gemeentelijkeBelastingen", "waterschapsbelasting"], 0.1),
    "rijksincasso-alimentatie": Creditor(["alimentatie"], 0.03, range(25, 66)),
    "wegenbelastingdienst": Creditor(["motorrijtuigenbelasting"], 0.08),
}
PROBLEM_DEBTS = 0.12  # the share of citizens with problem debts
PROBLEM_DEBTS_CHANCE = 0.75  # how likely such a citizen owes each of the holders above something
# The range of a first amount, in euro, by kind.
AMOUNTS = {
    "gemeentelijkeBelastingen": (40, 2500),
    "inkomstenbelasting": (40, 2500),
    "verkeersboete": (40, 2500),
    "ovBoete": (40, 2500),
    "waterschapsbelasting": (150, 600),
    "motorrijtuigenbelasting": (80, 1200),
    "terugvorderingToeslag": (200, 6000),
    "terugvorderingUitkering": (200, 8000),
    "terugvorderingKinderbijslag": (80, 1500),
    "terugvorderingBijstand": (300, 9000),
    "terugvorderingStudiefinanciering": (300, 5000),
    "eigenBijdrageZorg": (20, 400),
    "bestuursrechtelijkePremie": (150, 2500),
    "alimentatie": (300, 12000),
}
# Where to object: an address, not a sentence, so that the catalogue's words say it in either language.
# A fine is appealed (beroep); anything else is objected to (bezwaar).
OBJECTION_PAGE = {"boeteninning": "beroep"}
NAMES = {spec["slug"]: spec["name"] for spec in ORGANISATIONS}
OINS = {spec["slug"]: spec["oin"] for spec in ORGANISATIONS}
BANK = "VBNK"  # a made-up bank code: no real bank has it, so no demo payment can reach anyone
PAYMENT_TERM = timedelta(days=30)  # a demand is sent this long before it is due
OBJECTION_TERM = timedelta(weeks=6)  # and can be objected to for this long after it was sent


@dataclass
class Citizen:
    """One synthetic person and the documents each demo holder has about them."""

    bsn: str
    name: str
    documents: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def __repr__(self) -> str:  # keep the BSN out of logs, even in the demo
        return f"Citizen({self.name!r})"


def _test_bsn(rng: random.Random, taken: set[str]) -> str:
    """A BSN in the test range that passes the 11-proef and is not in ``taken``."""
    while True:
        candidate = f"999{rng.randrange(10**6):06d}"
        if candidate not in taken and is_valid_bsn(candidate):
            return candidate


def _cents(rng: random.Random, low: int, high: int) -> int:
    return rng.randrange(low, high) * 100 + rng.choice((0, 0, 50, 95))


def _debts(rng: random.Random, holder: str, kinds: list[str], year: int) -> list[dict[str, Any]]:
    debts = []
    for n in range(rng.choice((1, 1, 1, 2, 3))):
        kind = rng.choice(kinds)
        original = _cents(rng, *AMOUNTS[kind])
        paid = rng.choice((0, 0, original // 4, original // 2))
        due = TODAY + timedelta(days=rng.randrange(-90, 120))
        debt: dict[str, Any] = {
            "schuldeiser": NAMES[holder],
            "kenmerk": f"{holder[:3].upper()}-{year}-{rng.randrange(10**7):07d}-{n}",
            "soort": kind,
            "oorspronkelijkBedragInCenten": original,
            "openstaandBedragInCenten": original - paid,
            "vervaldatum": due.isoformat(),
            "bezwaarTot": (due - PAYMENT_TERM + OBJECTION_TERM).isoformat(),
            "bezwaarVia": f"https://{holder}.example/{OBJECTION_PAGE.get(holder, 'bezwaar')}",
        }
        if rng.random() < 0.4:
            debt["betalingsregeling"] = {"actief": True, "bedragPerMaandInCenten": max(1000, original // 12)}
        debts.append(debt)
    return debts


def iban(bank: str, account: str) -> str:
    """The Dutch IBAN of ``account`` (10 digits) at ``bank`` (4 letters), with its mod-97 check digits."""
    digits = "".join(str(int(char, 36)) for char in f"{bank}{account}NL00")
    return f"NL{98 - int(digits) % 97:02d}{bank}{account}"


def _how_to_pay(rng: random.Random, holder: str) -> dict[str, str]:
    """Where to send the money: the holder's own account, and a payment reference of 16 digits for this debt."""
    return {
        "rekeningnummer": iban(BANK, OINS[holder][7:17]),  # an account per holder, made from its OIN
        "tenNameVan": NAMES[holder],
        "betalingskenmerk": f"{rng.randrange(10**16):016d}",
    }


def _more_debts(seed: int, citizen: Citizen, age: int, year: int) -> None:
    """How to pay each debt, and the debts at the holders added later, from a generator of the citizen's own.

    The main generator draws exactly what it drew before these were added, so every existing document stays
    the same; only its debts gain how to pay them.
    """
    rng = random.Random(f"{seed}:{citizen.bsn}")
    owes = False
    for holder in CREDITORS:
        for debt in citizen.documents.get((holder, "vorderingen"), {}).get("vorderingen", []):
            debt["betaalwijze"] = _how_to_pay(rng, holder)
            owes = True
    problem_debts = rng.random() < PROBLEM_DEBTS
    for holder, creditor in MORE_CREDITORS.items():
        # Debts come together: who owes the first holders nothing owes the others nothing, unless in problem debts.
        chance = PROBLEM_DEBTS_CHANCE if problem_debts else (creditor.chance if owes else 0.0)
        if age in creditor.ages and rng.random() < chance:
            debts = _debts(rng, holder, creditor.kinds, year)
            for debt in debts:
                debt["betaalwijze"] = _how_to_pay(rng, holder)
            citizen.documents[(holder, "vorderingen")] = {"vorderingen": debts}


def _birth_date(fake: Faker) -> date:
    """A birth date for an age of 18 to 90 on :data:`TODAY`.

    Faker's ``date_of_birth`` counts back from the machine's clock, so the demo changed from day to day. This makes
    the same single draw from Faker's generator, counted from ``TODAY``, so that the draws after it (names, places,
    streets) stay as they were.
    """
    earliest = datetime(TODAY.year - 91, TODAY.month, TODAY.day) + timedelta(days=1)
    latest = datetime(TODAY.year - 18, TODAY.month, TODAY.day)
    return (earliest + timedelta(seconds=fake.random.uniform(0, (latest - earliest).total_seconds()))).date()


def _person(fake: Faker, rng: random.Random, bsn: str) -> tuple[str, dict[str, Any]]:
    birth = _birth_date(fake)
    prefix = rng.choice(["", "", "", "van", "de", "van der", "van den"])
    surname = fake.last_name().split(" ")[-1]
    first = fake.first_name()
    data: dict[str, Any] = {
        "burgerservicenummer": bsn,
        "naam": {
            "voornamen": f"{first} {fake.first_name()}" if rng.random() < 0.5 else first,
            "geslachtsnaam": surname,
        },
        "geboorte": {"datum": birth.isoformat(), "plaats": fake.city()},
        "adres": {
            "straat": fake.street_name(),
            "huisnummer": str(rng.randrange(1, 250)) + rng.choice(["", "", "", "A", "B", "-2"]),
            "postcode": f"{rng.randrange(1000, 10000)} {''.join(rng.choices(POSTCODE_LETTERS, k=2))}",
            "woonplaats": "Voorbeeldstad",
        },
    }
    if prefix:
        data["naam"]["voorvoegsel"] = prefix
    name = " ".join(part for part in (first, prefix, surname) if part)
    return name, data


def make_citizens(seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT) -> list[Citizen]:
    """The demo's citizens: the same list for the same seed, and the first ``n`` the same for any count >= ``n``.

    Each citizen is made whole before the next, so that a smaller world is the start of a larger one:
    the portal's demo login can name the first few citizens without knowing how many were seeded.
    """
    rng = random.Random(seed)
    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    citizens: list[Citizen] = []
    taken: set[str] = set()
    for _ in range(count):
        bsn = _test_bsn(rng, taken)
        taken.add(bsn)
        name, person = _person(fake, rng, bsn)
        citizen = Citizen(bsn, name)
        citizen.documents[("gemeente-voorbeeldstad", "persoonsgegevens")] = person
        age = TODAY.year - int(person["geboorte"]["datum"][:4])
        income = _cents(rng, 9_000, 85_000) if age < 67 else _cents(rng, 14_000, 40_000)
        year = TODAY.year - 1
        citizen.documents[("belastingkantoor", "inkomen")] = {
            "belastingjaar": year,
            "verzamelinkomenInCenten": income,
            "toetsingsinkomenInCenten": income + _cents(rng, 0, 1_500),
            "vastgesteldOp": date(TODAY.year, rng.randrange(3, 10), rng.randrange(1, 28)).isoformat(),
        }
        for holder, kinds in CREDITORS.items():
            if rng.random() < 0.35:
                citizen.documents[(holder, "vorderingen")] = {"vorderingen": _debts(rng, holder, kinds, year)}
        allowances = []
        if income < 40_000_00:
            allowances.append(
                {
                    "soort": "zorgtoeslag",
                    "jaar": TODAY.year,
                    "status": "voorschot",
                    "bedragPerMaandInCenten": _cents(rng, 40, 131),
                }
            )
        if income < 30_000_00 and rng.random() < 0.6:
            allowances.append(
                {
                    "soort": "huurtoeslag",
                    "jaar": TODAY.year,
                    "status": "voorschot",
                    "bedragPerMaandInCenten": _cents(rng, 90, 420),
                }
            )
        if allowances:
            citizen.documents[("toeslagendienst", "toeslagen")] = {"toeslagen": allowances}
        if 18 <= age <= 45 and rng.random() < 0.45:
            debt = _cents(rng, 3_000, 60_000)
            phase = rng.choice(["studie", "aanloopfase", "aflossen", "aflossen"])
            citizen.documents[("studiefinanciering", "studieschuld")] = {
                "totaleSchuldInCenten": debt,
                "renteInBasispunten": rng.choice([0, 46, 256]),
                "aflossingPerMaandInCenten": 0 if phase == "studie" else max(2_500, debt // 420),
                "startAflossing": date(TODAY.year + rng.randrange(-8, 3), 1, 1).isoformat(),
                "fase": phase,
            }
        _more_debts(seed, citizen, age, year)
        # Every document names its subject, so that a receiver can match a copy to the person handing it in.
        subject = {
            "burgerservicenummer": bsn,
            "naam": person["naam"],
            "geboorte": {"datum": person["geboorte"]["datum"]},
        }
        citizen.documents = {key: {**subject, **document} for key, document in citizen.documents.items()}
        citizens.append(citizen)
    return citizens
