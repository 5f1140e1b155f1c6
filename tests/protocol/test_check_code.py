"""The printed copy's check code: random, forgiving to read, and a seal the database alone cannot open."""

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blauweknop.protocol import check_code

KEY = b"k" * 32


def test_a_new_code_has_sixty_random_bits_in_crockford_base32():
    codes = {check_code.new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(re.fullmatch(check_code.PATTERN, code) for code in codes)
    assert check_code.LENGTH * math.log2(len(check_code.ALPHABET)) >= 60


@given(st.text(alphabet=check_code.ALPHABET, min_size=check_code.LENGTH, max_size=check_code.LENGTH))
def test_a_code_reads_back_as_printed_and_as_people_type_it(code):
    shown = check_code.formatted(code)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", shown)
    assert check_code.normalise(shown) == code
    sloppy = " ".join(shown.lower()).replace("0", "o").replace("1", "l")
    assert check_code.normalise(sloppy) == code


@pytest.mark.parametrize(
    "typed",
    ["", "ABCD-EFGH-JKM", "ABCD-EFGH-JKMNP", "ABCD-EFGH-JKMU", "ÄBCD-EFGH-JKMN", "A" * 10_000, "ABCD\x00EFGH-JKMN"],
    ids=["empty", "short", "long", "letter-u", "unicode", "huge", "nul"],
)
def test_it_refuses_what_cannot_be_a_code(typed):
    assert check_code.normalise(typed) is None


def test_the_lookup_needs_the_servers_key():
    code = check_code.new_code()
    assert check_code.lookup(code, KEY) == check_code.lookup(code, KEY)
    assert check_code.lookup(code, KEY) != check_code.lookup(code, b"x" * 32)
    assert len(check_code.lookup(code, KEY)) == 64


def test_only_the_right_code_and_context_open_a_seal():
    code = check_code.new_code()
    sealed = check_code.seal("eyJ.copy~", code, b"holder|inkomen|citizen")
    assert b"copy" not in sealed
    assert check_code.unseal(sealed, code, b"holder|inkomen|citizen") == "eyJ.copy~"
    for wrong_code, context in ((check_code.new_code(), b"holder|inkomen|citizen"), (code, b"holder|inkomen|other")):
        with pytest.raises(check_code.WrongCode):
            check_code.unseal(sealed, wrong_code, context)


@pytest.mark.parametrize("sealed", [b"", b"\x01", b"\x02" + b"\x00" * 60, b"\x01" + b"\x00" * 60])
def test_it_refuses_a_damaged_seal(sealed):
    with pytest.raises(check_code.WrongCode):
        check_code.unseal(sealed, check_code.new_code(), b"")
