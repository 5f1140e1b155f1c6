import pytest

from blauweknop.protocol.errors import InvalidInput
from blauweknop.protocol.identifiers import is_valid_bsn, is_valid_oin, validate_bsn, validate_oin


@pytest.mark.parametrize("bsn", ["999993653", "111222333", "123456782", "999990019"])
def test_it_accepts_bsns_that_pass_the_11_proef(bsn):
    assert is_valid_bsn(bsn)
    assert validate_bsn(bsn) == bsn


@pytest.mark.parametrize(
    "bsn",
    ["999993654", "123456789", "000000000", "12345678", "1234567890", "12345678a", "١٢٣٤٥٦٧٨٢", None, 999993653],
)
def test_it_refuses_anything_else_as_a_bsn(bsn):
    assert not is_valid_bsn(bsn)


def test_the_bsn_error_never_repeats_the_number():
    with pytest.raises(InvalidInput) as caught:
        validate_bsn("999993654")
    assert caught.value.code == "bad_bsn"
    assert "999993654" not in str(caught.value)


def test_an_oin_is_exactly_twenty_digits():
    assert is_valid_oin("00000001003214345000")
    assert validate_oin("00000001003214345000") == "00000001003214345000"
    for bad in ("0000000100321434500", "000000010032143450001", "0000000100321434500x", None):
        assert not is_valid_oin(bad)
    with pytest.raises(InvalidInput) as caught:
        validate_oin("123")
    assert caught.value.code == "bad_oin"
