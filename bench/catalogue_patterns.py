"""How long one ``pattern`` check of a catalogue schema can take, for the patterns the profile refuses and takes.

Every holder validates each new copy against the newest version's JSON Schema inside a request, and
``jsonschema`` checks ``pattern`` with Python's backtracking ``re`` (review F4). Two parts:

1. The attack patterns of review F4, which the profile took before: each is timed through ``jsonschema``
   on a growing text of ``a`` with a ``#`` at the end (no match, so every way is tried), until one check
   takes over ``--cap`` seconds. Each line also says whether ``_safe_pattern`` takes it now.
2. Patterns the profile takes, made by hypothesis from the pieces the profile allows (characters, classes
   and class escapes that all match ``a``, so every repeat competes for the same characters, with ``?``
   and ``{m,n}`` counts up to the profile's limits), each validated through the holder's own path
   (``document_types.from_entry(...).validate``) on its worst texts: ``a`` repeated to just past the
   longest text it matches, with and without a ``#`` after, a text of 100 000 characters, and a length
   hypothesis picks, steering towards the slowest (``hypothesis.target``); a few hand-made patterns just
   inside the limit come first. Best of three per text; the worst must stay under ``--bound`` ms.

    python bench/catalogue_patterns.py [--examples 300] [--bound 2] [--cap 2]

Last line: ``patterns: worst allowed <ms> ms over <n> patterns (bound <bound> ms): PASS|FAIL``. A report: it exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import jsonschema
from hypothesis import example, given, settings, target
from hypothesis import strategies as st

from blauweknop.document_types import MAX_STEPS, _safe_pattern, from_entry
from blauweknop.protocol.errors import InvalidInput

ATTACKS = {
    r'"^" + "[\w -]{0,99}" * 12 + "$"': "^" + r"[\w -]{0,99}" * 12 + "$",
    r'"^" + "[\w -]{0,99}" * 5 + "$"': "^" + r"[\w -]{0,99}" * 5 + "$",
    '"a?" * 24 + "a" * 24': "a?" * 24 + "a" * 24,
    r'"\w{0,999}" * 6 + "!$"': r"\w{0,999}" * 6 + "!$",
}
ATOMS = ["a", ".", r"\w", r"\S", "[a-z]", r"[\w -]", "[^ ]", "[a-z0-9-]", r"[\w']"]
COUNTS = ["", "?", "{0,1}", "{0,9}", "{1,9}", "{0,30}", "{0,99}", "{1,200}", "{3}", "{300}", "{0,999}"]


def _timed(check, text: str, repeats: int = 3) -> float:
    """The best of ``repeats`` runs of ``check(text)``, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        check(text)
        best = min(best, time.perf_counter() - start)
    return best


def attacks(cap: float) -> None:
    """Time each attack pattern through jsonschema on a growing text, up to ``cap`` seconds."""
    for name, pattern in ATTACKS.items():
        check = jsonschema.Draft202012Validator({"type": "string", "pattern": pattern}).validate
        shown = []
        for length in (8, 12, 16, 18, 20, 22, 24, 26, 28, 30, 40, 60, 100, 150):
            took = _timed(lambda text, check=check: _refused(check, text), "a" * length + "#", repeats=1)
            shown.append(f"{length}: {took * 1000:.1f} ms")
            if took > cap:
                break
        print(f"attack {name} (taken now: {_safe_pattern(pattern)}): " + ", ".join(shown))


def _checker(pattern: str):
    """The holder's own check of one string field with ``pattern``: the type as a scheme document lists it."""
    entry = {
        "id": "proef",
        "vct": "urn:bench:proef",
        "version": 1,
        "name": {"nl": "Proef", "en": "Test"},
        "schema": {"type": "object", "properties": {"x": {"type": "string", "pattern": pattern}}},
        "fields": [],
    }
    document_type = from_entry(entry)
    assert document_type is not None, pattern

    return lambda text: _refused(document_type.validate, {"x": text})


def _refused(check, value) -> None:
    """``check(value)``, whether it takes the value or not: only the time counts."""
    with contextlib.suppress(InvalidInput, jsonschema.ValidationError):
        check(value)


def allowed(examples: int) -> list[tuple[float, str, int]]:
    """Time hypothesis-made patterns the profile takes on their worst texts: (seconds, pattern, text length)."""
    found: list[tuple[float, str, int]] = []
    piece = st.tuples(st.sampled_from(ATOMS), st.sampled_from(COUNTS)).map("".join)

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True)
    @example([r"\w{0,9}"] * 3 + [r"\w{72}"], "$", 0)  # 1 000 ways, each reading up to 99 characters
    @example([r"[\w -]{1,200}", r"\w{280}"], "!", 0)
    @example(["a?"] * 9 + ["a{90}"], "$", 0)
    @given(st.lists(piece, min_size=1, max_size=8), st.sampled_from(["", "$", "!$", "!"]), st.integers(0, 2_000))
    def run(pieces: list[str], end: str, picked: int) -> None:
        pattern = "^" + "".join(pieces) + end
        if not _safe_pattern(pattern):
            return
        check = _checker(pattern)
        longest = sum(max(int(n), 1) for n in _highest(pieces))
        texts = ("a" * (longest + 1), "a" * longest + "#", "a" * 100_000 + "#", "a" * picked + "#")
        timed = [(_timed(check, text), pattern, len(text)) for text in texts]
        found.extend(timed)
        target(max(timed)[0] * 1e6, label="slowest check in microseconds")  # hypothesis searches towards it

    run()
    return found


def _highest(pieces: list[str]) -> list[str]:
    """The highest count of each piece: 1 without a count, 1 for ``?``, n for ``{m,n}`` or ``{n}``."""
    counts = []
    for p in pieces:
        count = p[p.index("{") + 1 : -1].split(",")[-1] if p.endswith("}") else "1"
        counts.append(count)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="patterns hypothesis makes")
    parser.add_argument("--bound", type=float, default=2.0, help="ms one check of an allowed pattern may take")
    parser.add_argument("--cap", type=float, default=2.0, help="s after which an attack stops growing its text")
    args = parser.parse_args()
    attacks(args.cap)
    timings = allowed(args.examples)
    patterns = {pattern for _, pattern, _ in timings}
    worst = sorted(timings, reverse=True)[:5]
    for took, pattern, length in worst:
        print(f"allowed {pattern} on {length} characters: {took * 1000:.3f} ms")
    top = worst[0][0] * 1000 if worst else 0.0
    verdict = "PASS" if top < args.bound else "FAIL"
    print(
        f"patterns: worst allowed {top:.3f} ms over {len(patterns)} patterns (bound {args.bound} ms, "
        f"MAX_STEPS {MAX_STEPS}): {verdict}"
    )


if __name__ == "__main__":
    main()
