"""What the verify page says when a copy is not valid: why, in plain words, and what to do next.

Each protocol error code (:data:`blauweknop.protocol.errors.MESSAGES`) falls into one of a few
kinds a receiver can act on. A code not named here is treated as a changed copy: the safe reading.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from blauweknop import old_copies


@dataclass(frozen=True)
class Verdict:
    """One kind of outcome: a heading, why, what to do next; ``tone`` styles it (bad, unsure, neutral)."""

    kind: str
    heading: Promise
    why: Promise
    next: Promise
    tone: str = "bad"


NOT_VALID = gettext_lazy("Niet geldig")
# An old copy may be the reader's own (a citizen checking an old PDF): then asking "the person" makes no sense.
OWN_COPY = gettext_lazy("Is dit uw eigen kopie? Haal een nieuwe op met de Blauwe Knop.")

CHANGED = Verdict(
    "changed",
    NOT_VALID,
    gettext_lazy(
        "Deze kopie is veranderd nadat de organisatie de kopie ondertekende. "
        "U kunt dus niet zien welke gegevens echt zijn."
    ),
    gettext_lazy(
        "Gebruik deze gegevens niet. Vraag de persoon om een nieuwe kopie uit de Blauwe Knop, "
        "en vraag om het bestand zelf, niet om een bewerkte versie."
    ),
)
NOT_PARTICIPATING = Verdict(
    "not_participating",
    NOT_VALID,
    gettext_lazy(
        "Deze kopie komt niet van een organisatie die meedoet aan de Blauwe Knop. We weten dus niet wie die maakte."
    ),
    gettext_lazy(
        "Vertrouw deze gegevens niet. Vraag de persoon om een kopie via de Blauwe Knop van de organisatie "
        "zelf. Twijfelt u? Bel de organisatie waar de gegevens vandaan zouden komen."
    ),
)
SUPERSEDED = Verdict(
    "superseded",
    old_copies.SUPERSEDED,
    format_lazy("{} {}", old_copies.SUPERSEDED_WHY, gettext_lazy("Daarom geldt deze kopie niet meer.")),
    format_lazy("{} {}", gettext_lazy("Vraag de persoon om een nieuwe kopie. Die heeft de gegevens van nu."), OWN_COPY),
)
SUSPENDED = Verdict(
    "suspended",
    NOT_VALID,
    gettext_lazy("Deze kopie is tijdelijk niet geldig. De organisatie kijkt de gegevens nog na."),
    gettext_lazy("Vraag de persoon om later een nieuwe kopie te maken."),
)
EXPIRED = Verdict(
    "expired",
    old_copies.EXPIRED,
    gettext_lazy(
        "Deze kopie is verlopen. Een kopie geldt maar korte tijd, omdat gegevens kunnen veranderen. "
        "De datum staat op de kopie bij 'Geldig tot'."
    ),
    format_lazy("{} {}", gettext_lazy("Vraag de persoon om een nieuwe kopie."), OWN_COPY),
)
ORGANISATION_WITHDRAWN = Verdict(
    "organisation_withdrawn",
    NOT_VALID,
    gettext_lazy(
        "De organisatie die deze kopie maakte, mag nu geen kopieën maken. Zij is geschorst of gestopt "
        "met de Blauwe Knop. Daarom geldt deze kopie niet."
    ),
    gettext_lazy(
        "Vraag de persoon om de gegevens op een andere manier. Twijfelt u? Bel de organisatie "
        "waar de gegevens vandaan komen."
    ),
)
KEY_REVOKED = Verdict(
    "key_revoked",
    NOT_VALID,
    gettext_lazy(
        "De sleutel waarmee de organisatie deze kopie ondertekende, is ingetrokken. "
        "Misschien was die sleutel niet meer veilig. Daarom geldt deze kopie niet meer."
    ),
    gettext_lazy(
        "Vraag de persoon om een nieuwe kopie. Twijfelt u? Bel de organisatie waar de gegevens vandaan komen."
    ),
)
UNREADABLE = Verdict(
    "unreadable",
    NOT_VALID,
    gettext_lazy("We kunnen dit bestand niet lezen. Het is beschadigd, of het is geen gewaarmerkte kopie."),
    gettext_lazy(
        "Vraag de persoon om het bestand opnieuw te sturen: de PDF of het .sdjwt-bestand, zoals de Blauwe Knop het gaf."
    ),
)
STATUS_UNAVAILABLE = Verdict(
    "status_unavailable",
    gettext_lazy("Nu niet te controleren"),
    gettext_lazy(
        "We konden nu niet nagaan of deze kopie nog geldt. De organisatie die de kopie maakte, antwoordt niet."
    ),
    gettext_lazy("Probeer het over een paar minuten opnieuw."),
    tone="unsure",
)
NO_SEAL = Verdict(
    "no_seal",
    gettext_lazy("Dit bestand heeft geen zegel"),
    gettext_lazy(
        "Dit is een JSON- of CSV-bestand: de gegevens om zelf te lezen of in een spreadsheet te zetten. "
        "Zo'n bestand heeft geen zegel. Niemand kan dus controleren of het klopt. Dat betekent niet dat het nep is."
    ),
    gettext_lazy(
        "Wilt u zeker weten dat de gegevens kloppen? Vraag de persoon om de PDF of het .sdjwt-bestand "
        "van dezelfde gegevens. Die kunt u hier controleren."
    ),
    tone="neutral",
)

_BY_CODE = {
    "revoked": SUPERSEDED,
    "suspended": SUSPENDED,
    "expired": EXPIRED,
    "status_unavailable": STATUS_UNAVAILABLE,
    "unknown_issuer": NOT_PARTICIPATING,
    "unknown_key": NOT_PARTICIPATING,
    "unknown_organisation": NOT_PARTICIPATING,
    "alg_not_allowed": NOT_PARTICIPATING,
    "not_certified": ORGANISATION_WITHDRAWN,
    "key_revoked": KEY_REVOKED,
    "malformed": UNREADABLE,
    "wrong_typ": UNREADABLE,
    "missing_claim": UNREADABLE,
    "unsupported_hash_alg": UNREADABLE,
}


def for_code(code: str) -> Verdict:
    """The verdict for a protocol error ``code``; a changed copy for any code not named above."""
    return _BY_CODE.get(code, CHANGED)
