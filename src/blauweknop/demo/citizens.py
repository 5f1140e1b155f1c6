"""Synthetic citizens with realistic Dutch data, the same every time for the same seed.

BSNs are drawn from the 999xxxxxx range that is reserved for testing and pass the 11-proef.
Names and addresses come from Faker's Dutch locale; incomes, debts, allowances and student debt
follow simple, plausible rules, so that the demo shows every kind of situation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from faker import Faker

from blauweknop.protocol.identifiers import is_valid_bsn

DEFAULT_SEED = 20261128
POSTCODE_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
DEFAULT_COUNT = 200
TODAY = date(2026, 11, 1)  # the demo's "today", so the data is the same whenever it is made
# Who is owed, and for what: a kind from the catalogue, whose words it gives in Dutch and English.
CREDITORS = {
    "gemeente-voorbeeldstad": [("Gemeente Voorbeeldstad", "gemeentelijkeBelastingen")],
    "belastingkantoor": [("Belastingkantoor Voorbeeldland", "inkomstenbelasting")],
    "boeteninning": [("Boeteninning Voorbeeldland", "verkeersboete"), ("Boeteninning Voorbeeldland", "ovBoete")],
}
# Where to object: an address, not a sentence, so that the catalogue's words say it in either language.
OBJECTION = {
    "gemeente-voorbeeldstad": "https://gemeente-voorbeeldstad.example/bezwaar",
    "belastingkantoor": "https://belastingkantoor.example/bezwaar",
    "boeteninning": "https://boeteninning.example/beroep",
}
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


def _debts(rng: random.Random, holder: str, year: int) -> list[dict[str, Any]]:
    debts = []
    for n in range(rng.choice((1, 1, 1, 2, 3))):
        creditor, kind = rng.choice(CREDITORS[holder])
        original = _cents(rng, 40, 2500)
        paid = rng.choice((0, 0, original // 4, original // 2))
        due = TODAY + timedelta(days=rng.randrange(-90, 120))
        debt: dict[str, Any] = {
            "schuldeiser": creditor,
            "kenmerk": f"{holder[:3].upper()}-{year}-{rng.randrange(10**7):07d}-{n}",
            "soort": kind,
            "oorspronkelijkBedragInCenten": original,
            "openstaandBedragInCenten": original - paid,
            "vervaldatum": due.isoformat(),
            "bezwaarTot": (due - PAYMENT_TERM + OBJECTION_TERM).isoformat(),
            "bezwaarVia": OBJECTION[holder],
        }
        if rng.random() < 0.4:
            debt["betalingsregeling"] = {"actief": True, "bedragPerMaandInCenten": max(1000, original // 12)}
        debts.append(debt)
    return debts


def _person(fake: Faker, rng: random.Random, bsn: str) -> tuple[str, dict[str, Any]]:
    birth = fake.date_of_birth(minimum_age=18, maximum_age=90)
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
        for holder in CREDITORS:
            if rng.random() < 0.35:
                citizen.documents[(holder, "vorderingen")] = {"vorderingen": _debts(rng, holder, year)}
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
        # Every document names its subject, so that a receiver can match a copy to the person handing it in.
        subject = {
            "burgerservicenummer": bsn,
            "naam": person["naam"],
            "geboorte": {"datum": person["geboorte"]["datum"]},
        }
        citizen.documents = {key: {**subject, **document} for key, document in citizen.documents.items()}
        citizens.append(citizen)
    return citizens
