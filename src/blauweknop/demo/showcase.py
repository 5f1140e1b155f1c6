"""The demo citizens the DigiD mock offers to log in as, each with their situation in a few words.

They come from the start of the demo world of the default seed (``make_citizens`` makes the first
citizens the same whatever the count), so the portal names them without asking a holder, and it
greets any citizen of that world by first name. A world seeded with another ``--seed`` has other
people: then log in by typing one of the BSNs seed_demo printed.

The one with the most data comes first: in the default world, someone who owes :data:`MANY_DEBTS` or
more organisations, whose situation says that the overview of all debts is worth seeing with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache

from django.utils.translation import gettext as _

from blauweknop.demo.citizens import DEFAULT_COUNT, DEFAULT_SEED, TODAY, Citizen, make_citizens

POOL = 12  # the smallest world the tests seed; every demo world starts with these citizens
SHOWN = 5
MANY_DEBTS = 6  # owing this many organisations makes the overview of all debts worth seeing


@dataclass(frozen=True)
class Example:
    """A demo citizen to pick at the DigiD mock; ``key`` goes in the form, the BSN never leaves the server."""

    key: str
    name: str
    first_name: str  # what the page header greets the citizen with
    age: int
    owed_to: int  # how many organisations the citizen still has to pay
    allowances: bool
    student_debt: bool
    bsn: str = field(repr=False)

    def situation(self) -> str:
        """The citizen's situation in short sentences, in the active language."""
        # Two messages rather than ngettext: Dutch and English say one and more the same way.
        parts = [_("%(age)s jaar.") % {"age": self.age}]
        if self.owed_to == 1:
            parts.append(_("Moet nog geld betalen aan 1 organisatie."))
        elif self.owed_to:
            parts.append(_("Moet nog geld betalen aan %(count)s organisaties.") % {"count": self.owed_to})
        if self.allowances:
            parts.append(_("Krijgt toeslag."))
        if self.student_debt:
            parts.append(_("Heeft een studieschuld."))
        if self.owed_to >= MANY_DEBTS:
            parts.append(_("Goed om het overzicht van alle schulden te bekijken."))
        if len(parts) == 1:
            parts.append(_("Heeft geen schulden en krijgt geen toeslag."))
        return " ".join(parts)


def _age(born: date) -> int:
    return TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))


@cache
def _world() -> tuple[Citizen, ...]:
    return tuple(make_citizens(DEFAULT_SEED, DEFAULT_COUNT))  # about 20 ms, once per process


def _first_name(citizen: Citizen) -> str:
    return next(iter(citizen.documents.values()))["naam"]["voornamen"].split()[0]


def first_name(bsn: str) -> str:
    """The first name of the demo citizen ``bsn``, or ``""`` for someone outside the default demo world."""
    return next((_first_name(citizen) for citizen in _world() if citizen.bsn == bsn), "")


def _example(key: str, citizen: Citizen) -> Example:
    types = [type_id for _holder, type_id in citizen.documents]
    person = next(iter(citizen.documents.values()))
    return Example(
        key=key,
        name=citizen.name,
        first_name=_first_name(citizen),
        age=_age(date.fromisoformat(person["geboorte"]["datum"])),
        owed_to=types.count("vorderingen"),
        allowances="toeslagen" in types,
        student_debt="studieschuld" in types,
        bsn=citizen.bsn,
    )


@cache
def examples() -> tuple[Example, ...]:
    """Up to :data:`SHOWN` citizens in different situations, the one with the most data first."""
    pool = [_example(str(n), citizen) for n, citizen in enumerate(_world()[:POOL], start=1)]
    chosen: dict[tuple[bool, ...], Example] = {}
    for example in sorted(pool, key=lambda e: -(e.owed_to + e.allowances + e.student_debt)):
        kind = (example.owed_to > 0, example.allowances, example.student_debt)
        chosen.setdefault(kind, example)
    return tuple(list(chosen.values())[:SHOWN])


def picked(key: str) -> Example | None:
    """The example picked as ``key``, or ``None`` for a key that is not on the list."""
    return next((example for example in examples() if example.key == key), None)
