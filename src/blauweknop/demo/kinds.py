"""What kind of organisation each demo organisation is, for the public figures page (``/cijfers/``).

A participant says its kind in the scheme document (``info.soort``); the demo's register has no such
field yet, so the figures page falls back on this table.
"""

from __future__ import annotations

from blauweknop.demo.organisations import ORGANISATIONS

_BY_SLUG = {
    "gemeente-voorbeeldstad": "gemeente",
    "gemeente-rivierdorp": "gemeente",
    "belastingkantoor": "rijk",
    "studiefinanciering": "rijk",
    "boeteninning": "rijk",
    "toeslagendienst": "rijk",
    "uitkeringsdienst": "rijk",
    "kinderbijslagbank": "rijk",
    "zorgbijdragekantoor": "rijk",
    "rijksincasso-alimentatie": "rijk",
    "wegenbelastingdienst": "rijk",
    "waterschap-voorbeeldwater": "waterschap",
    "belastingsamenwerking": "waterschap",
    "woningcorporatie-thuisbasis": "woningcorporatie",
    "spaarbank-voorbeeld": "bank",
    "schuldhulp-voorbeeldstad": "schuldhulp",
}
DEMO_KINDS = {spec["oin"]: _BY_SLUG[spec["slug"]] for spec in ORGANISATIONS if spec["slug"] in _BY_SLUG}
