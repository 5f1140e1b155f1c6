"""DCQL (OpenID4VP 1.0 §6, §7) in our shape: what a requester asks, and what a portal accepts."""

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blauweknop.protocol import dcql
from blauweknop.protocol.dcql import ClaimQuery, CredentialQuery, Query
from blauweknop.protocol.encoding import json_loads
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.scheme import catalogue

from .hostile import VALUES, mutated, refused_or_accepted
from .plus_scheme import ARRAYS, PERSOON_VCT, VORDERINGEN_VCT


def _vorderingen(required=True, multiple=True):
    return CredentialQuery(
        "vorderingen",
        VORDERINGEN_VCT,
        (
            ClaimQuery("schuldeiser", "vorderingen.schuldeiser", True),
            ClaimQuery("kenmerk", "vorderingen.kenmerk", False),
            ClaimQuery("actief", "vorderingen.betalingsregeling.actief", True),
        ),
        multiple,
        required,
        ARRAYS,
    )


def _persoon(required=True):
    return CredentialQuery(
        "persoon", PERSOON_VCT, (ClaimQuery("achternaam", "naam.geslachtsnaam", True),), False, required
    )


QUERY = Query((_vorderingen(), _persoon(required=False)))


def test_a_query_goes_on_the_wire_as_dcql_with_claim_sets_and_credential_sets():
    assert QUERY.to_json() == {
        "credentials": [
            {
                "id": "vorderingen",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [VORDERINGEN_VCT]},
                "claims": [
                    {"id": "schuldeiser", "path": ["vorderingen", None, "schuldeiser"]},
                    {"id": "kenmerk", "path": ["vorderingen", None, "kenmerk"]},
                    {"id": "actief", "path": ["vorderingen", None, "betalingsregeling", "actief"]},
                ],
                "multiple": True,
                "claim_sets": [["schuldeiser", "kenmerk", "actief"], ["schuldeiser", "actief"]],
            },
            {
                "id": "persoon",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [PERSOON_VCT]},
                "claims": [{"id": "achternaam", "path": ["naam", "geslachtsnaam"]}],
            },
        ],
        "credential_sets": [
            {"options": [["vorderingen"]], "required": True},
            {"options": [["persoon"]], "required": False},
        ],
    }


def test_a_query_read_back_from_json_text_is_the_query_sent():
    parsed = dcql.parse(json.loads(json.dumps(QUERY.to_json())))
    assert parsed == QUERY
    vorderingen = parsed.credential("vorderingen")
    assert vorderingen.paths() == [
        "vorderingen.schuldeiser",
        "vorderingen.kenmerk",
        "vorderingen.betalingsregeling.actief",
    ]
    assert vorderingen.paths(required_only=True) == ["vorderingen.schuldeiser", "vorderingen.betalingsregeling.actief"]
    assert (vorderingen.multiple, vorderingen.required, parsed.credential("persoon").required) == (True, True, False)
    assert parsed.credential("nope") is None


def test_without_claim_sets_and_credential_sets_everything_is_required():
    value = Query((_persoon(),)).to_json()
    assert "credential_sets" not in value and "claim_sets" not in value["credentials"][0]
    parsed = dcql.parse(value)
    assert parsed.credentials[0].required and parsed.credentials[0].claims[0].required
    assert parsed.credentials[0].multiple is False


def test_list_paths_come_from_the_catalogue_schema():
    schema = catalogue.document_types()["vorderingen"].schema
    assert dcql.array_paths(schema) == {"vorderingen"}
    assert dcql.wire_path("vorderingen.betaalwijze.tenNameVan", dcql.array_paths(schema)) == [
        "vorderingen",
        None,
        "betaalwijze",
        "tenNameVan",
    ]
    assert dcql.catalogue_path(["vorderingen", None, "kenmerk"]) == "vorderingen.kenmerk"
    assert dcql.array_paths(
        {
            "type": "object",
            "properties": {
                "a": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"b": {"type": "array", "items": {"type": "string"}}}},
                }
            },
        }
    ) == {"a", "a.b"}


def test_only_list_paths_on_asked_fields_are_kept():
    query = CredentialQuery(
        "persoon", PERSOON_VCT, (ClaimQuery("achternaam", "naam.geslachtsnaam", True),), False, True, {"vorderingen"}
    )
    assert query.arrays == frozenset() and query == _persoon()


def _wire(**changes):
    value = copy.deepcopy(QUERY.to_json())
    first = value["credentials"][0]
    for name, change in changes.items():
        if name == "query":
            change(value)
        else:
            change(first) if callable(change) else first.__setitem__(name, change)
    return value


REFUSED = {
    "not-an-object": [],
    "no-credentials": {"credentials": []},
    "too-many-credentials": {"credentials": [_persoon().to_json() | {"id": f"c{i}"} for i in range(21)]},
    "unknown-member": {"credentials": [_persoon().to_json()], "x": 1},
    "duplicate-credential-id": {"credentials": [_persoon().to_json(), _persoon().to_json()]},
    "bad-credential-id": _wire(id="a b"),
    "credential-id-not-text": _wire(id=7),
    "mdoc": _wire(format="mso_mdoc"),
    "no-format": _wire(query=lambda v: v["credentials"][0].pop("format")),
    "no-meta": _wire(query=lambda v: v["credentials"][0].pop("meta")),
    "empty-vct-values": _wire(meta={"vct_values": []}),
    "vct-not-text": _wire(meta={"vct_values": [1]}),
    "two-vcts": _wire(meta={"vct_values": [VORDERINGEN_VCT, PERSOON_VCT]}),
    "multiple-not-bool": _wire(multiple="yes"),
    "no-holder-binding": _wire(require_cryptographic_holder_binding=False),
    "trusted-authorities": _wire(trusted_authorities=[{"type": "aki", "values": ["x"]}]),
    "unknown-credential-member": _wire(extra=1),
    "no-claims": _wire(query=lambda v: [v["credentials"][0].pop(k) for k in ("claims", "claim_sets")]),
    "empty-claims": _wire(claims=[]),
    "too-many-claims": _wire(
        claims=[{"id": f"c{i}", "path": ["naam", f"f{i}"]} for i in range(101)],
        query=lambda v: v["credentials"][0].pop("claim_sets"),
    ),
    "claim-without-id": _wire(query=lambda v: v["credentials"][0]["claims"][0].pop("id")),
    "claim-without-path": _wire(query=lambda v: v["credentials"][0]["claims"][0].pop("path")),
    "empty-path": _wire(query=lambda v: v["credentials"][0]["claims"][0].__setitem__("path", [])),
    "negative-index": _wire(query=lambda v: v["credentials"][0]["claims"][0].__setitem__("path", ["vorderingen", -1])),
    "index-unsupported": _wire(
        query=lambda v: v["credentials"][0]["claims"][0].__setitem__("path", ["vorderingen", 0, "kenmerk"])
    ),
    "bool-in-path": _wire(query=lambda v: v["credentials"][0]["claims"][0].__setitem__("path", ["vorderingen", True])),
    "leading-null": _wire(query=lambda v: v["credentials"][0]["claims"][0].__setitem__("path", [None, "kenmerk"])),
    "double-null": _wire(
        query=lambda v: v["credentials"][0]["claims"][0].__setitem__("path", ["vorderingen", None, None])
    ),
    "list-marked-in-one-path-only": _wire(
        query=lambda v: v["credentials"][0]["claims"][0].__setitem__("path", ["vorderingen", "schuldeiser"])
    ),
    "dot-in-name": _wire(query=lambda v: v["credentials"][0]["claims"][0].__setitem__("path", ["naam.geslachtsnaam"])),
    "values": _wire(query=lambda v: v["credentials"][0]["claims"][0].__setitem__("values", ["CJIB"])),
    "duplicate-claim-id": _wire(query=lambda v: v["credentials"][0]["claims"][1].__setitem__("id", "schuldeiser")),
    "duplicate-claim-path": _wire(
        query=lambda v: v["credentials"][0]["claims"][1].__setitem__("path", ["vorderingen", None, "schuldeiser"])
    ),
    "claim-set-unknown-id": _wire(claim_sets=[["schuldeiser", "kenmerk", "actief"], ["onbekend"]]),
    "claim-set-alternatives": _wire(claim_sets=[["schuldeiser", "kenmerk", "actief"], ["schuldeiser"], ["actief"]]),
    "claim-set-first-not-all": _wire(claim_sets=[["schuldeiser"], ["schuldeiser"]]),
    "claim-set-empty-option": _wire(claim_sets=[["schuldeiser", "kenmerk", "actief"], []]),
    "nothing-required-in-credential": _wire(
        claims=[{"id": "a", "path": ["naam", "geslachtsnaam"]}], claim_sets=[["a"], []]
    ),
    "credential-set-unknown-id": _wire(query=lambda v: v["credential_sets"][1].__setitem__("options", [["onbekend"]])),
    "credential-set-alternatives": _wire(
        query=lambda v: v["credential_sets"][0].__setitem__("options", [["vorderingen"], ["persoon"]])
    ),
    "credential-set-required-not-bool": _wire(query=lambda v: v["credential_sets"][1].__setitem__("required", "no")),
    "credential-not-in-a-set": _wire(query=lambda v: v["credential_sets"].pop(1)),
    "credential-in-two-sets": _wire(
        query=lambda v: v["credential_sets"][0].__setitem__("options", [["vorderingen", "persoon"]])
    ),
    "nothing-required": _wire(query=lambda v: v["credential_sets"][0].__setitem__("required", False)),
    "credential-sets-empty": _wire(query=lambda v: v.__setitem__("credential_sets", [])),
    "credential-set-garbage-id": _wire(query=lambda v: v["credential_sets"][1].__setitem__("options", [[{}]])),
}


@pytest.mark.parametrize("value", REFUSED.values(), ids=REFUSED.keys())
def test_a_portal_refuses_dcql_that_is_broken_or_not_supported(value):
    with pytest.raises(VerificationError) as caught:
        dcql.parse(value)
    assert caught.value.code == "invalid_request"


def test_unsupported_dcql_is_said_to_be_unsupported():
    with pytest.raises(VerificationError) as caught:
        dcql.parse(REFUSED["values"])
    assert "not supported" in caught.value.message
    with pytest.raises(VerificationError) as caught:
        dcql.parse(REFUSED["mdoc"])
    assert "dc+sd-jwt" in caught.value.message


@pytest.mark.parametrize(
    "make",
    [
        lambda: CredentialQuery("a b", PERSOON_VCT, (ClaimQuery("a", "naam.voornamen", True),), False, True),
        lambda: CredentialQuery("a", PERSOON_VCT, (), False, True),
        lambda: CredentialQuery("a", PERSOON_VCT, (ClaimQuery("a", "naam.voornamen", False),), False, True),
        lambda: CredentialQuery("a", PERSOON_VCT, (ClaimQuery("a", "naam..voornamen", True),), False, True),
        lambda: CredentialQuery("a", PERSOON_VCT, (ClaimQuery("a", "vorderingen.0.kenmerk", True),), False, True),
        lambda: CredentialQuery(
            "a",
            PERSOON_VCT,
            (ClaimQuery("a", "naam.voornamen", True), ClaimQuery("a", "naam.voorvoegsel", True)),
            False,
            True,
        ),
        lambda: Query(()),
        lambda: Query((_persoon(), _persoon())),
        lambda: Query((_persoon(required=False),)),
    ],
    ids=[
        "bad-id",
        "no-claims",
        "nothing-required",
        "empty-segment",
        "position",
        "duplicate-claim-id",
        "empty-query",
        "duplicate-id",
        "all-optional",
    ],
)
def test_a_requester_cannot_build_a_query_that_cannot_be_asked(make):
    with pytest.raises(InvalidInput):
        make()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_query_makes_the_parser_crash(data):
    value = QUERY.to_json()
    credential = value["credentials"][0]
    claims = st.lists(mutated(credential["claims"][0]), max_size=3).map(lambda items: "[" + ",".join(items) + "]")
    base = {
        "credentials": st.lists(mutated({**credential, "claims": claims}), max_size=3).map(
            lambda items: "[" + ",".join(items) + "]"
        ),
        "credential_sets": st.lists(mutated(value["credential_sets"][1]), max_size=3).map(
            lambda items: "[" + ",".join(items) + "]"
        ),
    }
    text = data.draw(st.one_of(mutated(base), VALUES))
    refused_or_accepted(lambda: dcql.parse(json_loads(text)))
