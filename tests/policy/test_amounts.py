"""Amounts people type, read exactly in a currency's smallest unit (never floats)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walletsync.policy.amounts import MAX_UINT256, AmountError, floor_amount, format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "decimals", "units"),
    [("0.1", 18, 10**17), ("500", 6, 500 * 10**6), ("0.000001", 6, 1), (".5", 1, 5), ("1.50", 1, 15), ("7", 0, 7)],
)
def test_amounts_are_read_exactly(text, decimals, units):
    assert parse_amount(text, decimals) == units


@pytest.mark.parametrize("text", ["", "-1", "1e18", "0x10", "1,000", "1.2.3", "nan", "inf", " . ", "1" * 101])
def test_anything_but_a_plain_decimal_is_refused(text):
    with pytest.raises(AmountError):
        parse_amount(text, 18)


def test_more_decimals_than_the_currency_has_is_an_error_not_a_rounding():
    with pytest.raises(AmountError, match="more decimals than the currency's 6"):
        parse_amount("0.0000001", 6)
    assert floor_amount("0.0000019", 6) == 1  # a cap read with fewer decimals only gets stricter


def test_more_than_a_uint256_is_refused():
    assert parse_amount(str(MAX_UINT256), 0) == MAX_UINT256
    with pytest.raises(AmountError):
        parse_amount(str(MAX_UINT256 + 1), 0)


@given(st.integers(min_value=0, max_value=MAX_UINT256), st.integers(min_value=0, max_value=30))
def test_formatting_and_reading_round_trip(units, decimals):
    text = format_amount(units, decimals)
    if len(text) <= 100:
        assert parse_amount(text, decimals) == units
