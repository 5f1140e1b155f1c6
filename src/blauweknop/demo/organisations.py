"""The fictional organisations of the demo: made-up names, OINs and addresses, phone numbers of the form
0800 000 00xx that reach nobody. The demo's pages say once that everything is made up (the demo notice),
so names and numbers need no "(voorbeeld)". Each holder declares only the document types it holds."""

from __future__ import annotations

from typing import Any

ORGANISATIONS: list[dict[str, Any]] = [
    {
        "oin": "00000001823288444000",
        "name": "Gemeente Voorbeeldstad",
        "slug": "gemeente-voorbeeldstad",
        "description": {
            "nl": "De gemeente waar u woont. De gemeente houdt uw adres bij en haalt de gemeentelijke belastingen op.",
            "en": "The municipality where you live. It keeps your address and collects local taxes.",
        },
        "contact": {"telefoon": "0800 000 0001", "website": "https://gemeente-voorbeeldstad.example/hulp"},
        "is_holder": True,
        "document_types": ["persoonsgegevens", "vorderingen"],
    },
    {
        "oin": "00000001003214345000",
        "name": "Belastingkantoor Voorbeeldland",
        "slug": "belastingkantoor",
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
        "description": {
            "nl": "Geeft studiefinanciering en regelt het terugbetalen van de studieschuld.",
            "en": "Provides student finance and arranges the repayment of student debt.",
        },
        "contact": {"telefoon": "0800 000 0003", "website": "https://studiefinanciering.example/hulp"},
        "is_holder": True,
        "document_types": ["studieschuld"],
    },
    {
        "oin": "00000001002564440000",
        "name": "Boeteninning Voorbeeldland",
        "slug": "boeteninning",
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
        "description": {
            "nl": "Betaalt huurtoeslag, zorgtoeslag en andere toeslagen.",
            "en": "Pays rent allowance, health care allowance and other allowances.",
        },
        "contact": {"telefoon": "0800 000 0005", "website": "https://toeslagendienst.example/hulp"},
        "is_holder": True,
        "document_types": ["toeslagen"],
    },
    {
        "oin": "00000003271247970000",
        "name": "Woningcorporatie Thuisbasis",
        "slug": "woningcorporatie-thuisbasis",
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
PORTAL_OIN = "00000001234567890000"


def demo_holder_oins() -> list[str]:
    """The OINs of the demo's holders: what a demo holder deployment issues for unless told otherwise."""
    return [spec["oin"] for spec in ORGANISATIONS if spec.get("is_holder")]
