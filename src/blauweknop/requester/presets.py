"""Ready-made requests: what the demo's requesters typically ask, so staff choose one instead of building a query.

Each preset names the document types and fields (catalogue paths), why, how long the data is kept and
whether the access is one-time or standing by default. Staff may change the purpose words, reference, retention,
one-time or standing and the term on the "Nieuw verzoek" page; what is asked stays as the preset says.
Each requester sees the presets that fit it (:data:`FOR_REQUESTER`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from blauweknop.protocol import dcql, openid4vp
from blauweknop.requester.asking import Asked

NAME = (("naam.voornamen", True), ("naam.voorvoegsel", False), ("naam.geslachtsnaam", True))
ADDRESS = (("adres.straat", True), ("adres.huisnummer", True), ("adres.postcode", True), ("adres.woonplaats", True))
DEBTS = (
    ("vorderingen.schuldeiser", True),
    ("vorderingen.kenmerk", True),
    ("vorderingen.soort", False),
    ("vorderingen.omschrijving", False),
    ("vorderingen.oorspronkelijkBedragInCenten", True),
    ("vorderingen.openstaandBedragInCenten", True),
    ("vorderingen.vervaldatum", True),
    ("vorderingen.betalingsregeling.actief", False),
    ("vorderingen.betalingsregeling.bedragPerMaandInCenten", False),
    ("vorderingen.betaalwijze.rekeningnummer", False),
    ("vorderingen.betaalwijze.tenNameVan", False),
    ("vorderingen.betaalwijze.betalingskenmerk", False),
    ("vorderingen.bezwaarTot", False),
    ("vorderingen.bezwaarVia", False),
)


@dataclass(frozen=True)
class Preset:
    """One kind of request: what is asked, why, for how long."""

    id: str
    name: Promise  # what staff choose, in plain words
    purpose: dict[str, str]  # the default purpose, as the citizen reads it
    asked: tuple[Asked, ...]
    retention_days: int
    access: str = openid4vp.ONCE  # the default; staff may choose the other
    standing_months: int = 6  # standing access: this many months from today, unless staff choose a date

    @property
    def standing(self) -> bool:
        return self.access == openid4vp.STANDING


PRESETS: tuple[Preset, ...] = (
    Preset(
        id="huur",
        name=gettext_lazy("Woningcorporatie: inkomen voor een huurwoning"),
        purpose={
            "nl": "Wij kijken of uw inkomen past bij de sociale huurwoning die u wilt huren.",
            "en": "We check whether your income fits the social rented home you want to rent.",
        },
        asked=(
            Asked(
                "inkomen",
                required=True,
                multiple=False,
                fields=(*NAME, ("belastingjaar", True), ("toetsingsinkomenInCenten", True)),
            ),
            Asked("persoonsgegevens", required=False, multiple=False, fields=ADDRESS),
        ),
        retention_days=90,
    ),
    Preset(
        id="lening",
        name=gettext_lazy("Bank: inkomen en schulden voor een leningcheck"),
        purpose={
            "nl": "Wij kijken of u een lening kunt betalen. Daarvoor hebben we uw inkomen en uw schulden nodig.",
            "en": "We check whether you can afford a loan. For this we need your income and your debts.",
        },
        asked=(
            Asked(
                "inkomen",
                required=True,
                multiple=False,
                fields=(*NAME, ("belastingjaar", True), ("verzamelinkomenInCenten", True)),
            ),
            Asked(
                "vorderingen",
                required=True,
                multiple=True,
                fields=(
                    ("vorderingen.schuldeiser", True),
                    ("vorderingen.soort", False),
                    ("vorderingen.openstaandBedragInCenten", True),
                    ("vorderingen.betalingsregeling.actief", False),
                    ("vorderingen.betalingsregeling.bedragPerMaandInCenten", False),
                ),
            ),
        ),
        retention_days=30,
    ),
    Preset(
        id="schuldhulp",
        name=gettext_lazy("Schuldhulp: het hele schuldenoverzicht"),
        purpose={
            "nl": "Wij helpen u met uw schulden. Daarvoor halen we steeds het nieuwste overzicht van uw schulden op.",
            "en": "We help you with your debts. For that we fetch the latest overview of your debts each time.",
        },
        asked=(Asked("vorderingen", required=True, multiple=True, fields=(*NAME, *DEBTS)),),
        retention_days=365,
        access=openid4vp.STANDING,
        standing_months=6,
    ),
)


# The presets each demo requester (demo/organisations.py) sees; a requester not named here sees them all.
# The municipality asks on a legal basis (the legal-basis lane), so none of these requests fit it.
FOR_REQUESTER: dict[str, tuple[str, ...]] = {
    "00000003271247970000": ("huur",),  # Woningcorporatie Thuisbasis
    "00000003334469140000": ("lening",),  # Spaarbank Voorbeeld
    "00000003512873460000": ("schuldhulp",),  # Schuldhulp Voorbeeldstad
    "00000001823288444000": (),  # Gemeente Voorbeeldstad
}


def get(preset_id: str, oin: str | None = None) -> Preset | None:
    """The preset ``preset_id`` (one the requester ``oin`` may use, when given), or ``None``."""
    choices = PRESETS if oin is None else for_requester(oin)
    return next((preset for preset in choices if preset.id == preset_id), None)


def for_requester(oin: str) -> tuple[Preset, ...]:
    """The presets the requester ``oin`` chooses from."""
    ids = FOR_REQUESTER.get(oin)
    return PRESETS if ids is None else tuple(preset for preset in PRESETS if preset.id in ids)


def matching(query: dcql.Query) -> Preset | None:
    """The preset that asks exactly what ``query`` asks (the same types and fields), or ``None``."""
    asked = [(item.id, tuple(claim.path for claim in item.claims)) for item in query.credentials]
    for preset in PRESETS:
        if asked == [(item.type_id, tuple(path for path, _ in item.fields)) for item in preset.asked]:
            return preset
    return None
