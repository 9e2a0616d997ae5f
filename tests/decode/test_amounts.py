"""Amounts are exact: integers of the smallest unit to decimal text and back, never through a float."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walletsync.decode.amounts import BadAmount, format_amount, parse_amount
from walletsync.decode.words import utc


@pytest.mark.parametrize(
    ("amount", "decimals", "text"),
    [
        (0, 18, "0"),
        (1, 18, "0.000000000000000001"),
        (10**17, 18, "0.1"),
        (1_500_000, 6, "1.5"),
        (500_000_000, 6, "500"),
        (2**256 - 1, 18, "115792089237316195423570985008687907853269984665640564039457.584007913129639935"),
        (42, 0, "42"),
    ],
)
def test_format_and_parse_are_exact_inverses(amount, decimals, text):
    assert format_amount(amount, decimals) == text
    assert parse_amount(text, decimals) == amount


def test_what_people_type_is_read_exactly():
    assert parse_amount("0.1", 18) == 100_000_000_000_000_000
    assert parse_amount(" 500 ", 6) == 500_000_000
    assert parse_amount(".5", 6) == 500_000
    assert parse_amount("1.", 6) == 1_000_000
    assert parse_amount("1.500000", 6) == 1_500_000, "trailing zeros are not extra decimals"


@pytest.mark.parametrize(
    ("text", "decimals", "words"),
    [
        ("0.0000001", 6, "more decimals than the token's 6 (the smallest amount is 0.000001)"),
        ("1.5", 0, "more decimals than the token's 0 (the smallest amount is 1)"),
        ("1e3", 18, "not an amount"),
        ("-1", 18, "not an amount"),
        ("1,000", 6, "not an amount"),
        ("NaN", 6, "not an amount"),
        ("Infinity", 6, "not an amount"),
        ("", 6, "not an amount"),
        ("٣", 6, "not an amount"),
        ("1" * 100, 6, "not an amount"),
    ],
)
def test_what_cannot_be_read_exactly_is_refused(text, decimals, words):
    with pytest.raises(BadAmount, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_amount(text, decimals)


@given(amount=st.integers(0, 2**256 - 1), decimals=st.integers(0, 36))
def test_every_amount_round_trips(amount, decimals):
    assert parse_amount(format_amount(amount, decimals), decimals) == amount


@given(seconds=st.integers(0, 253_402_300_799))
def test_utc_dates_are_the_calendars(seconds):
    expected = datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert utc(seconds) == expected
