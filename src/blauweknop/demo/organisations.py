"""The fictional organisations of the demo: made-up names, OINs and addresses, phone numbers of the form
0800 000 00xx that reach nobody. The demo's pages say once that everything is made up (the demo notice),
so names and numbers need no "(voorbeeld)". Each holder declares only the document types it holds.

Four organisations ask for data (requesters): a housing corporation, a bank and a debt counsellor ask the
citizen's consent; Gemeente Voorbeeldstad also fetches income under the Participatiewet (the legal basis
``participatiewet-art-64`` in the scheme's register names it), so the legal-basis lane has a user."""

from __future__ import annotations

from typing import Any

ORGANISATIONS: list[dict[str, Any]] = [
    {
        "oin": "00000001823288444000",
        "name": "Gemeente Voorbeeldstad",
        "slug": "gemeente-voorbeeldstad",
        "kind": "gemeente",
        "description": {
            "nl": "De gemeente waar u woont. De gemeente houdt uw adres bij en haalt de gemeentelijke belastingen op.",
            "en": "The municipality where you live. It keeps your address and collects local taxes.",
        },
        "contact": {"telefoon": "0800 000 0001", "website": "https://gemeente-voorbeeldstad.example/hulp"},
        "is_holder": True,
        "is_requester": True,
        "document_types": ["persoonsgegevens", "vorderingen"],
    },
    {
        "oin": "00000001003214345000",
        "name": "Belastingkantoor Voorbeeldland",
        "slug": "belastingkantoor",
        "kind": "rijk",
        "description": {
            "nl": "Stelt uw inkomen vast en haalt de belastingen van het Rijk op.",
            "en": "Sets your income and collects national taxes.",
        },
        "contact": {"telefoon": "0800 000 0002", "website": "https://belastingkantoor.example/hulp"},
        "is_holder": True,
        "document_types": ["inkomen", "vorderingen"],
    },
    {
        "oin": "00000001005165486000",
        "name": "Studiefinanciering Voorbeeldland",
        "slug": "studiefinanciering",
        "kind": "rijk",
        "description": {
            "nl": "Geeft studiefinanciering en regelt het terugbetalen van de studieschuld. "
            "Vraagt te veel betaalde studiefinanciering terug.",
            "en": "Provides student finance and arranges the repayment of student debt. "
            "Asks back student finance paid too much.",
        },
        "contact": {"telefoon": "0800 000 0003", "website": "https://studiefinanciering.example/hulp"},
        "is_holder": True,
        "document_types": ["studieschuld", "vorderingen"],
    },
    {
        "oin": "00000001002564440000",
        "name": "Boeteninning Voorbeeldland",
        "slug": "boeteninning",
        "kind": "rijk",
        "description": {
            "nl": "Haalt verkeersboetes en andere boetes van de overheid op.",
            "en": "Collects traffic fines and other government fines.",
        },
        "contact": {"telefoon": "0800 000 0004", "website": "https://boeteninning.example/hulp"},
        "is_holder": True,
        "document_types": ["vorderingen"],
    },
    {
        "oin": "00000001001806418000",
        "name": "Toeslagendienst Voorbeeldland",
        "slug": "toeslagendienst",
        "kind": "rijk",
        "description": {
            "nl": "Betaalt huurtoeslag, zorgtoeslag en andere toeslagen. Vraagt te veel betaalde toeslag terug.",
            "en": "Pays rent allowance, health care allowance and other allowances. Asks back allowance paid too much.",
        },
        "contact": {"telefoon": "0800 000 0005", "website": "https://toeslagendienst.example/hulp"},
        "is_holder": True,
        "document_types": ["toeslagen", "vorderingen"],
    },
    {
        "oin": "00000003271247970000",
        "name": "Woningcorporatie Thuisbasis",
        "slug": "woningcorporatie-thuisbasis",
        "kind": "woningcorporatie",
        "description": {
            "nl": "Verhuurt sociale huurwoningen en vraagt daarvoor uw inkomen.",
            "en": "Rents out social housing and asks for your income to do so.",
        },
        "contact": {"telefoon": "0800 000 0006", "website": "https://thuisbasis.example/hulp"},
        "is_requester": True,
    },
    {
        "oin": "00000003334469140000",
        "name": "Spaarbank Voorbeeld",
        "slug": "spaarbank-voorbeeld",
        "kind": "bank",
        "description": {
            "nl": "Een bank die uw inkomen en schulden vraagt voor een lening of hypotheek.",
            "en": "A bank that asks for your income and debts for a loan or mortgage.",
        },
        "contact": {"telefoon": "0800 000 0007", "website": "https://spaarbank.example/hulp"},
        "is_requester": True,
    },
    {
        "oin": "00000001234567890000",
        # The name its own pages show in their header: the access page names it as who fetched the data.
        "name": "De Blauwe Knop",
        "slug": "burgerportaal",
        "description": {
            "nl": "De website waar u inlogt met DigiD en uw gegevens ophaalt.",
            "en": "The website where you log in with DigiD and fetch your data.",
        },
        "contact": {"telefoon": "0800 000 0008", "website": "https://burgerportaal.example/hulp"},
        "is_app_manager": True,
    },
]
# The holders added for the debt overview (issue 9): together with the ones above, a dozen organisations that
# can say what a citizen still owes them, and two municipalities that issue the same document type.
DEBT_HOLDERS: list[dict[str, Any]] = [
    {
        "oin": "00000001148755562000",
        "name": "Waterschap Voorbeeldwater",
        "slug": "waterschap-voorbeeldwater",
        "kind": "waterschap",
        "description": {
            "nl": "Zorgt voor droge voeten en schoon water. Haalt daarvoor de waterschapsbelasting op.",
            "en": "Keeps the land dry and the water clean. Collects the water authority tax for this.",
        },
    },
    {
        "oin": "00000001181907112000",
        "name": "Gemeente Rivierdorp",
        "slug": "gemeente-rivierdorp",
        "kind": "gemeente",
        "description": {
            "nl": "Een gemeente in de buurt. Woonde u hier eerder? Dan kan de gemeente nog geld van u krijgen.",
            "en": "A nearby municipality. Did you live here before? Then you may still owe it money.",
        },
    },
    {
        "oin": "00000001778533013000",
        "name": "Uitkeringsdienst Voorbeeldland",
        "slug": "uitkeringsdienst",
        "kind": "rijk",
        "description": {
            "nl": "Betaalt uitkeringen als u werkloos of ziek bent. Vraagt te veel betaalde uitkering terug.",
            "en": "Pays benefits when you are out of work or ill. Asks back benefit paid too much.",
        },
    },
    {
        "oin": "00000001180848161000",
        "name": "Kinderbijslagbank Voorbeeldland",
        "slug": "kinderbijslagbank",
        "kind": "rijk",
        "description": {
            "nl": "Betaalt kinderbijslag en AOW. Vraagt te veel betaalde kinderbijslag terug.",
            "en": "Pays child benefit and state pension. Asks back child benefit paid too much.",
        },
    },
    {
        "oin": "00000001543602254000",
        "name": "Zorgbijdragekantoor Voorbeeldland",
        "slug": "zorgbijdragekantoor",
        "kind": "rijk",
        "description": {
            "nl": "Haalt de eigen bijdrage voor zorg op. En de premie van de zorgverzekering die lang niet is betaald.",
            "en": "Collects the own contribution for care. And health insurance premium that went unpaid for long.",
        },
    },
    {
        "oin": "00000001801113635000",
        "name": "Belastingsamenwerking Regio Voorbeeld",
        "slug": "belastingsamenwerking",
        "kind": "waterschap",
        "description": {
            "nl": "Haalt belastingen op voor gemeenten en het waterschap in de regio.",
            "en": "Collects taxes for the municipalities and the water authority in the region.",
        },
    },
    {
        "oin": "00000001005660336000",
        "name": "Rijksincasso Alimentatie",
        "slug": "rijksincasso-alimentatie",
        "kind": "rijk",
        "description": {
            "nl": "Haalt alimentatie op als de ouder of ex-partner die moet betalen dat niet doet.",
            "en": "Collects maintenance payments when the parent or ex-partner who must pay does not.",
        },
    },
    {
        "oin": "00000001579573023000",
        "name": "Wegenbelastingdienst Voorbeeldland",
        "slug": "wegenbelastingdienst",
        "kind": "rijk",
        "description": {
            "nl": "Haalt de belasting op voor auto's, motoren en andere voertuigen op de weg.",
            "en": "Collects the tax on cars, motorbikes and other vehicles on the road.",
        },
    },
]
FIRST_DEBT_HOLDER_LINE = 9  # the phone numbers of the added holders follow those of the organisations above
ORGANISATIONS += [
    {
        **spec,
        "contact": {
            "telefoon": f"0800 000 {line:04d}",
            "website": f"https://{spec['slug']}.example/hulp",
        },
        "is_holder": True,
        "document_types": ["vorderingen"],
    }
    for line, spec in enumerate(DEBT_HOLDERS, start=FIRST_DEBT_HOLDER_LINE)
]
ORGANISATIONS.append(
    {
        "oin": "00000003512873460000",
        "name": "Schuldhulp Voorbeeldstad",
        "slug": "schuldhulp-voorbeeldstad",
        "kind": "schuldhulp",
        "description": {
            "nl": "Helpt u gratis als u schulden heeft. Vraagt daarvoor een overzicht van uw schulden.",
            "en": "Helps you for free when you have debts. Asks for an overview of your debts to do so.",
        },
        "contact": {
            "telefoon": f"0800 000 {FIRST_DEBT_HOLDER_LINE + len(DEBT_HOLDERS):04d}",
            "website": "https://schuldhulp-voorbeeldstad.example/hulp",
        },
        "is_requester": True,
    }
)
PORTAL_OIN = "00000001234567890000"


def demo_requester_oins() -> list[str]:
    """The OINs of the demo's requesters: what a demo requester deployment asks data for unless told otherwise."""
    return [spec["oin"] for spec in ORGANISATIONS if spec.get("is_requester")]


def demo_holder_oins() -> list[str]:
    """The OINs of the demo's holders: what a demo holder deployment issues for unless told otherwise."""
    return [spec["oin"] for spec in ORGANISATIONS if spec.get("is_holder")]
