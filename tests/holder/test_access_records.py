"""POST /<holder>/api/v1/inzage: a citizen (through the portal) sees every read the holder recorded."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from blauweknop import keystore
from blauweknop.audit.models import AccessRecord
from blauweknop.demo.organisations import PORTAL_OIN
from blauweknop.holder.models import SourceRecord, Tenant
from blauweknop.protocol import session_assertion
from blauweknop.protocol.identifiers import is_valid_bsn
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.pseudonyms import pseudonym

pytestmark = pytest.mark.django_db(transaction=True)
BELASTING = "00000001003214345000"


def _assertion(bsn):
    return session_assertion.sign(
        keystore.signing_key(PORTAL_OIN),
        app_manager_oin=PORTAL_OIN,
        holder_oin=BELASTING,
        bsn=bsn,
        assurance_level="midden",
        wallet_jwk=SigningKey(generate_jwk()).public_jwk,
    )


def _post(server, path, body):
    return httpx.post(f"{server.url}/belastingkantoor/api/v1/{path}", json=body, timeout=30)


def test_a_citizen_sees_their_own_reads_and_nobody_elses(demo_world):
    alice, bob = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list(
        "bsn", flat=True
    )[:2]
    _post(demo_world, "verklaringen", {"appbeheerderverklaring": _assertion(alice), "documentsoort": "inkomen"})
    own = _post(demo_world, "inzage", {"appbeheerderverklaring": _assertion(alice)}).json()["inzages"]
    assert [(r["documentsoort"], r["gevraagdDoor"], r["activiteit"]) for r in own] == [
        ("inkomen", PORTAL_OIN, "basis-ophalen")
    ]
    assert own[0]["doel"] and own[0]["grondslag"] == "verzoek-betrokkene"
    assert _post(demo_world, "inzage", {"appbeheerderverklaring": _assertion(bob)}).json() == {"inzages": []}


def test_a_look_up_that_found_nothing_is_recorded_too(demo_world):
    known = set(SourceRecord.objects.values_list("bsn", flat=True))
    bsn = next(b for n in range(100_000_000, 999_999_999, 7919) if is_valid_bsn(b := str(n)) and b not in known)
    body = {"appbeheerderverklaring": _assertion(bsn), "documentsoort": "inkomen"}
    refused = _post(demo_world, "verklaringen", body)
    assert (refused.status_code, refused.json()["code"]) == (404, "no_data")
    own = _post(demo_world, "inzage", {"appbeheerderverklaring": _assertion(bsn)}).json()["inzages"]
    assert [(r["documentsoort"], r["activiteit"], r["gevraagdDoor"]) for r in own] == [
        ("inkomen", "basis-zoeken", PORTAL_OIN)
    ]


def test_asking_needs_a_fresh_assertion(demo_world):
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING).values_list("bsn", flat=True).first()
    body = {"appbeheerderverklaring": _assertion(bsn)}
    assert _post(demo_world, "inzage", body).status_code == 200
    again = _post(demo_world, "inzage", body)
    assert (again.status_code, again.json()["code"]) == (401, "assertion_replayed")
    assert _post(demo_world, "inzage", {"appbeheerderverklaring": "x" * 30}).status_code == 400


def _records_at_one_moment(bsn, count):
    tenant = Tenant.objects.get(pk=BELASTING)
    moment = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    AccessRecord.objects.bulk_create(
        AccessRecord(
            at=moment if n % 3 else moment - timedelta(seconds=n),
            subject=pseudonym(bsn),
            holder=tenant,
            actor_oin=PORTAL_OIN,
            activity="basis-ophalen",
            purpose="p",
            legal_basis="verzoek-betrokkene",
            document_type=f"t{n:02d}",
        )
        for n in range(count)
    )


def test_it_pages_by_place_ties_broken_by_kenmerk_without_gaps_or_doubles(demo_world):
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING).values_list("bsn", flat=True).first()
    _post(demo_world, "inzage", {"appbeheerderverklaring": _assertion(bsn)})  # the tenant exists from here on
    _records_at_one_moment(bsn, 23)
    pages, body = [], {"aantal": 4}
    while True:
        page = _post(demo_world, "inzage", {"appbeheerderverklaring": _assertion(bsn), **body}).json()["inzages"]
        if not page:
            break
        pages.append(page)
        body = {"aantal": 4, "voor": {"tijdstip": page[-1]["tijdstip"], "kenmerk": page[-1]["kenmerk"]}}
    seen = [r["documentsoort"] for page in pages for r in page]
    assert sorted(seen) == [f"t{n:02d}" for n in range(23)] and len(pages) == 6
    places = [(r["tijdstip"], r["kenmerk"]) for page in pages for r in page]
    assert places == sorted(places, reverse=True)  # newest first, also across pages
    # The page before a place: the nearest newer records, still newest first.
    last = pages[2][0]
    body = {"aantal": 4, "na": {"tijdstip": last["tijdstip"], "kenmerk": last["kenmerk"]}}
    newer = _post(demo_world, "inzage", {"appbeheerderverklaring": _assertion(bsn), **body}).json()["inzages"]
    assert newer == pages[1]


@pytest.mark.parametrize(
    "paging",
    [
        {"aantal": 51},
        {"aantal": 0},
        {"voor": {"tijdstip": "2026-11-01T10:00:00+00:00"}, "na": {"tijdstip": "2026-11-01T10:00:00+00:00"}},
        {"voor": {"tijdstip": "2026-11-01T10:00:00"}},  # no time zone: which moment is it?
        {"voor": {"tijdstip": "2026-11-01T10:00:00Z", "kenmerk": "' OR 1=1 --"}},
        {"voor": {"tijdstip": "9999-12-31T23:59:59-14:00"}},  # in UTC: beyond the calendar
        {"na": {"tijdstip": "0001-01-01T00:00:00+14:00"}},
        {"voor": {"tijdstip": "2101-01-01T00:00:00Z"}},
        {"na": {"tijdstip": "1999-12-31T23:59:59Z"}},
    ],
)
def test_it_refuses_a_page_it_cannot_answer_in_bounds(demo_world, paging):
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING).values_list("bsn", flat=True).first()
    response = _post(demo_world, "inzage", {"appbeheerderverklaring": _assertion(bsn), **paging})
    assert (response.status_code, response.headers["Content-Type"]) == (400, "application/problem+json")
