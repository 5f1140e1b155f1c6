"""The timeline's paging, against sources kept in memory: every entry exactly once, in order, both ways."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from blauweknop.paging import Bound
from blauweknop.portal.timeline import (
    PORTAL,
    Entry,
    Place,
    bound_at,
    from_link,
    merge,
    moment,
    place_from,
    portal_key,
    to_link,
)

SOURCES = ("00000001003214345000", "00000001823288444000", PORTAL)
START = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def _beyond(entry: Entry, bound: Bound | None) -> bool:
    """What a source's database query selects: the oracle for ``paging.page``."""
    if bound is None:
        return True
    at, key = entry.place.at, entry.place.key
    if bound.older:
        return at < bound.at or (bound.key is not None and at == bound.at and key < bound.key)
    return at > bound.at or (bound.key is not None and at == bound.at and key > bound.key)


def _part(entries: list[Entry], bound: Bound | None, limit: int) -> list[Entry]:
    found = sorted(
        (e for e in entries if _beyond(e, bound)), key=lambda e: e.place, reverse=bound is None or bound.older
    )
    return sorted(found[:limit], key=lambda e: e.place, reverse=True)


def _page(sources: dict[str, list[Entry]], place: Place | None, older: bool, size: int):
    parts = [
        _part(entries, bound_at(place, source, older) if place else None, size + 1)
        for source, entries in sources.items()
    ]
    return merge(parts, place, older, size)


@st.composite
def timelines(draw):
    sources = {}
    for source in SOURCES:
        moments = draw(st.lists(st.integers(0, 3), max_size=12))  # few moments: many ties
        sources[source] = [
            Entry(
                Place(START + timedelta(microseconds=m), source, portal_key(n) if source == PORTAL else f"{n:016x}"),
                source,
                "t",
                "",
                "x",
            )
            for n, m in enumerate(moments)
        ]
    return sources, draw(st.integers(1, 6))


@settings(max_examples=200, deadline=None)
@given(timelines())
def test_paging_gives_every_entry_once_in_order_older_and_newer(timeline):
    sources, size = timeline
    everything = sorted((e.place for entries in sources.values() for e in entries), reverse=True)
    pages, place = [], None
    while True:
        page = _page(sources, place, True, size)
        pages.append([e.place for e in page.entries])
        if not page.more:
            break
        place = page.entries[-1].place
    assert [p for page in pages for p in page] == everything
    # Back again from the oldest page: newer pages, each next to the one before.
    back, place = [], pages[-1][0] if pages[-1] else None
    while place is not None:
        page = _page(sources, place, False, size)
        back = [e.place for e in page.entries] + back
        place = page.entries[0].place if page.more else None
    assert back + pages[-1] == everything


def test_a_place_survives_its_link():
    place = Place(START + timedelta(microseconds=7), SOURCES[0], "0123456789abcdef")
    assert place_from(place.token()) == place


def test_a_sealed_place_opens_only_with_its_key_and_context_and_says_nothing():
    place, key = Place(START, SOURCES[0], "0123456789abcdef"), bytes(32)
    link = to_link(place, key, b"citizen-a")
    assert from_link(link, key, b"citizen-a") == place
    assert "0123456789abcdef" not in link and SOURCES[0] not in link and "~" not in link
    assert from_link(link, key, b"citizen-b") is None and from_link(link, bytes([1]) * 32, b"citizen-a") is None
    for broken in ("", "x", "é" * 20, link[:10], link + "A", "=" * 5, "A" * 1000):
        assert from_link(broken, key, b"citizen-a") is None


def test_it_refuses_a_moment_outside_the_years_any_record_can_have():
    assert moment("2026-11-01T10:00:00-14:00") == datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    for text in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2100-01-01T00:00:00Z", "2026-11-01T10:00"):
        assert moment(text) is None
