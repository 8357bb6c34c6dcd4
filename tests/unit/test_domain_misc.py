"""Quantities, UUIDv7 ids, fiscal years and number formats, password rules."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.ids import id_time_ms, new_id
from erp_desktop.domain.numbering import (
    SeriesFormat,
    fiscal_year_end,
    fiscal_year_start,
    fiscal_year_token,
)
from erp_desktop.domain.passwords import check_password, password_strength_hint
from erp_desktop.domain.quantity import check_places, parse_quantity, qty_from_int, qty_to_int


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False,
                   allow_infinity=False))
def test_quantities_round_trip_through_integers(q):
    assert qty_from_int(qty_to_int(q)) == q


def test_quantity_rules():
    with pytest.raises(ValidationError, match="more than 3 decimal places"):
        parse_quantity("1.0005")
    with pytest.raises(ValidationError, match="whole number"):
        check_places(Decimal("2.5"), 0, "pcs")
    with pytest.raises(ValidationError, match="at most 2 decimal places"):
        check_places(Decimal("2.125"), 2, "m")
    assert check_places(Decimal("2.125"), 3, "kg") == Decimal("2.125")


def test_uuid7_ids_are_version_7_and_time_ordered():
    ids = [new_id() for _ in range(5000)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert abs(id_time_ms(ids[0]) - id_time_ms(ids[-1])) < 60_000
    # built without UUID's own checks, each is still a UUID like any other
    for made in ids[:3] + ids[-3:]:
        parsed = uuid.UUID(str(made))
        assert parsed == made and hash(parsed) == hash(made) and parsed.bytes == made.bytes
    # the random bits come from a pool refilled as it runs out: no two ids share them
    assert len({i.int & 0x3FFFFFFFFFFFFFFF for i in ids}) == len(ids)


@pytest.mark.parametrize(("day", "month", "token", "start", "end"), [
    (date(2026, 3, 31), 4, "2025-26", date(2025, 4, 1), date(2026, 3, 31)),
    (date(2026, 4, 1), 4, "2026-27", date(2026, 4, 1), date(2027, 3, 31)),
    (date(2026, 12, 31), 1, "2026", date(2026, 1, 1), date(2026, 12, 31)),
    (date(2026, 6, 30), 7, "2025-26", date(2025, 7, 1), date(2026, 6, 30)),
    (date(2099, 5, 1), 4, "2099-00", date(2099, 4, 1), date(2100, 3, 31)),
])
def test_fiscal_years(day, month, token, start, end):
    assert fiscal_year_token(day, month) == token
    assert fiscal_year_start(day, month) == start
    assert fiscal_year_end(day, month) == end


def test_series_format():
    assert SeriesFormat("INV", "A").format("2026-27", 42) == "INV/2026-27/A/000042"
    with pytest.raises(ValidationError):
        SeriesFormat("INV", "TOOLONG")
    with pytest.raises(ValidationError):
        SeriesFormat("INV", "A").format("2026-27", 0)


@pytest.mark.parametrize(("password", "message"), [
    ("short", "at least 10"),
    (" leading-space-pw", "start or end with a space"),
    ("aaaaaaaaaaaa", "repeats too few"),
    ("ravi-secret-99", "must not contain the login name"),
    ("password123", "too common"),
])
def test_password_rules(password, message):
    with pytest.raises(ValidationError, match=message) as err:
        check_password(password, "ravi")
    assert err.value.field == "password"


def test_good_password_and_hint():
    check_password("Tea-kettle-42", "ravi")
    assert password_strength_hint("abc") == "weak"
    assert password_strength_hint("Tea-kettle-42-Mango!") == "strong"
