"""A small scheme for the Plus protocol tests: requesters, holders, an app manager, two document types."""

from __future__ import annotations

from dataclasses import dataclass

from blauweknop.protocol import scheme_document
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk, jwks
from blauweknop.protocol.scheme_document import APP_MANAGER, HOLDER, REQUESTER, SchemeDocument, participant_entry

from .conftest import NOW

VRAGER, ANDERE_VRAGER, GESCHORSTE_VRAGER = "00000001003214345000", "00000001003214346000", "00000001003214347000"
GEMEENTE, CJIB, PORTAAL = "00000001001234567000", "00000001007654321000", "00000001009876543000"
VRAGER_API = "https://woningcorporatie.example/vragers/woco/api/v1"
GEMEENTE_ISS = "https://gemeente.example/gemeente"
CJIB_ISS = "https://cjib.example/cjib"
VORDERINGEN_VCT = "https://stelsel.blauweknop.example/vct/vorderingen/3"
PERSOON_VCT = "https://stelsel.blauweknop.example/vct/persoonsgegevens/1"
KEY_NAMES = ("operator", "vrager", "andere_vrager", "geschorst", "gemeente", "cjib", "portaal", "indringer")

_NAAM = {"type": "object", "properties": {"voornamen": {"type": "string"}, "geslachtsnaam": {"type": "string"}}}
DOCUMENT_TYPES = [
    {
        "id": "vorderingen",
        "vct": VORDERINGEN_VCT,
        "schema": {
            "type": "object",
            "properties": {
                "naam": _NAAM,
                "vorderingen": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "schuldeiser": {"type": "string"},
                            "kenmerk": {"type": "string"},
                            "openstaandBedragInCenten": {"type": "integer"},
                            "betalingsregeling": {"type": "object", "properties": {"actief": {"type": "boolean"}}},
                        },
                    },
                },
            },
        },
        "fields": [
            {"path": "naam.geslachtsnaam"},
            {"path": "vorderingen.schuldeiser"},
            {"path": "vorderingen.kenmerk"},
            {"path": "vorderingen.openstaandBedragInCenten"},
            {"path": "vorderingen.betalingsregeling.actief"},
        ],
    },
    {
        "id": "persoonsgegevens",
        "vct": PERSOON_VCT,
        "schema": {
            "type": "object",
            "properties": {
                "naam": _NAAM,
                "adres": {"type": "object", "properties": {"woonplaats": {"type": "string"}}},
            },
        },
        "fields": [{"path": "naam.voornamen"}, {"path": "naam.geslachtsnaam"}, {"path": "adres.woonplaats"}],
    },
]
LEGAL_BASES = [{"id": "toestemming", "kind": "consent"}, {"id": "participatiewet-art-64", "kind": "law"}]
# Which catalogue paths hold a list: what the schemas above say, for the DCQL mapping.
ARRAYS = frozenset({"vorderingen"})


@dataclass(frozen=True)
class World:
    keys: dict[str, SigningKey]
    scheme: SchemeDocument


def keys() -> dict[str, SigningKey]:
    return {name: SigningKey(generate_jwk()) for name in KEY_NAMES}


def scheme(
    keys: dict[str, SigningKey], *, vrager: str = "certified", document_types: list[dict] = DOCUMENT_TYPES
) -> SchemeDocument:
    """The verified scheme document; ``vrager`` is the certification of the main requester."""

    def entry(oin, name, key, roles, certification="certified", **kwargs):
        return participant_entry(
            oin=oin, name=name, roles=roles, jwks=jwks([keys[key].public_jwk]), certification=certification, **kwargs
        )

    payload = scheme_document.build(
        iss="https://stelsel.example",
        version=1,
        organisations=[
            entry(VRAGER, "Woningcorporatie", "vrager", [REQUESTER], vrager, endpoints={"requester": VRAGER_API}),
            entry(
                ANDERE_VRAGER,
                "Andere vrager",
                "andere_vrager",
                [REQUESTER],
                endpoints={"requester": "https://ander.example/vragers/ander/api/v1"},
            ),
            entry(GESCHORSTE_VRAGER, "Geschorst", "geschorst", [REQUESTER], "suspended"),
            entry(
                GEMEENTE,
                "Gemeente",
                "gemeente",
                [HOLDER],
                endpoints={"issuer": GEMEENTE_ISS},
                document_types=["vorderingen", "persoonsgegevens"],
            ),
            entry(CJIB, "CJIB", "cjib", [HOLDER], endpoints={"issuer": CJIB_ISS}, document_types=["vorderingen"]),
        ],
        app_managers=[entry(PORTAAL, "Portaal", "portaal", [APP_MANAGER])],
        document_types=document_types,
        legal_bases=LEGAL_BASES,
        now=NOW,
    )
    token = scheme_document.sign(payload, keys["operator"])
    return scheme_document.verify(token, KeySet([keys["operator"].public_jwk]), now=NOW)
