"""Exact money: parsing, minor units, rounding, allocation."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import (
    Money,
    Rounding,
    format_money,
    from_minor,
    minor_exponent,
    parse_decimal,
    round_amount,
    to_minor,
)

CURRENCIES = ["INR", "EUR", "USD", "GBP", "JPY", "BHD"]


def test_minor_units_follow_the_currency():
    assert minor_exponent("INR") == 2
    assert minor_exponent("jpy") == 0
    assert minor_exponent("BHD") == 3
    assert minor_exponent("CHF") == 2  # from babel


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(CURRENCIES))
def test_minor_units_round_trip_exactly(minor, currency):
    amount = from_minor(minor, currency)
    assert to_minor(amount, currency) == minor
    assert Money.from_minor(minor, currency).minor == minor


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False,
                   allow_infinity=False))
def test_two_place_decimals_survive_minor_units(amount):
    assert from_minor(to_minor(amount, "INR"), "INR") == amount


def test_amount_finer_than_the_currency_is_refused_not_rounded():
    with pytest.raises(ValidationError, match="more decimal places than INR"):
        to_minor(Decimal("1.005"), "INR")
    with pytest.raises(ValidationError, match="more decimal places than INR"):
        to_minor(Decimal("-0.001"), "INR")
    with pytest.raises(ValidationError, match="more decimal places than JPY"):
        to_minor(Decimal("10.5"), "JPY")
    for bad in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ValidationError, match="not an amount"):
            to_minor(Decimal(bad), "INR")
    # trailing zeros and exponents are the same amount
    assert to_minor(Decimal("1.500000"), "INR") == 150
    assert to_minor(Decimal("1E+2"), "INR") == 10_000
    assert to_minor(Decimal("-2.5"), "BHD") == -2_500
    with pytest.raises(ValidationError):
        Money(Decimal("1.5"), "JPY")


def test_floats_are_refused():
    with pytest.raises(ValidationError, match="not as a float"):
        parse_decimal(0.1)
    with pytest.raises(ValidationError, match="not as a float"):
        Money.of(0.1, "INR")


def test_bad_text_gets_a_plain_message():
    with pytest.raises(ValidationError, match="'12,3x' is not a number"):
        parse_decimal("12,3x")
    with pytest.raises(ValidationError, match="not a currency code"):
        Money.of("1", "RUPEES")


def test_rounding_modes():
    assert round_amount(Decimal("2.345"), "INR") == Decimal("2.35")
    assert round_amount(Decimal("2.345"), "INR", Rounding.HALF_EVEN) == Decimal("2.34")
    assert round_amount(Decimal("-2.345"), "INR") == Decimal("-2.35")
    assert Money.of("10.005", "INR").amount == Decimal("10.01")


def test_currencies_do_not_mix():
    with pytest.raises(ValidationError, match="Cannot combine INR and EUR"):
        Money.of(1, "INR") + Money.of(1, "EUR")


@given(st.integers(min_value=0, max_value=10**9),
       st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=12))
def test_allocation_adds_up_exactly(minor, ratios):
    total = Money.from_minor(minor, "INR")
    parts = total.allocate([Decimal(r) for r in ratios])
    assert sum((p.minor for p in parts), 0) == minor
    assert all(p.minor >= 0 for p in parts)


def test_times_rounds_to_minor_unit():
    assert Money.of("99.99", "INR").times(Decimal("0.18")).amount == Decimal("18.00")
    assert Money.of("10", "EUR").times(Decimal("0.075")).amount == Decimal("0.75")


def test_formatting_follows_locale():
    assert format_money(Money.of("123456.5", "INR"), "en_IN") == "₹1,23,456.50"
    assert format_money(Money.of("1234.5", "EUR"), "de_DE") == "1.234,50\xa0€"
