"""Exact money: `Decimal` amounts in a currency, stored as integer minor units.

Every amount is a `Decimal` quantised to the currency's minor unit (paise,
cents; none for JPY, three places for BHD). The database keeps the integer
number of minor units beside the currency code, so nothing is ever a float.
Rounding is explicit: `ROUND_HALF_UP` by default, `ROUND_HALF_EVEN` where a
company chooses banker's rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache

from erp_desktop.domain.errors import ValidationError

# The few currencies whose minor unit differs from two places and which a small
# business is likely to meet; babel covers the rest (ISO 4217).
_KNOWN_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3,
                    "OMR": 3, "JOD": 3, "TND": 3, "INR": 2, "EUR": 2, "USD": 2, "GBP": 2}


class Rounding(StrEnum):
    HALF_UP = "half_up"
    HALF_EVEN = "half_even"

    @property
    def decimal_mode(self) -> str:
        return ROUND_HALF_UP if self is Rounding.HALF_UP else ROUND_HALF_EVEN


@lru_cache(maxsize=256)
def minor_exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (2 for INR, 0 for JPY)."""
    code = normalise_currency(currency)
    if code in _KNOWN_EXPONENTS:
        return _KNOWN_EXPONENTS[code]
    from babel.numbers import get_currency_precision  # imported late: babel is slow to load

    return int(get_currency_precision(code))


def normalise_currency(currency: str) -> str:
    code = (currency or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValidationError(f"'{currency}' is not a currency code (use three letters, e.g. INR).",
                              field="currency")
    return code


@lru_cache(maxsize=256)
def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_exponent(currency))


def parse_decimal(value: object, field: str = "amount") -> Decimal:
    """Read a user's or a file's number as an exact Decimal; floats are refused."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or isinstance(value, float):
        raise ValidationError(f"{field.capitalize()} must be given exactly, not as a float.",
                              field=field)
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValidationError(f"'{value}' is not a number.", field=field) from None
    else:
        raise ValidationError(f"{field.capitalize()} must be a number.", field=field)
    if not result.is_finite():
        raise ValidationError(f"{field.capitalize()} must be a finite number.", field=field)
    return result


def round_amount(amount: Decimal, currency: str, rounding: Rounding = Rounding.HALF_UP) -> Decimal:
    return amount.quantize(quantum(currency), rounding=rounding.decimal_mode)


def to_minor(amount: Decimal, currency: str) -> int:
    """Exact conversion to minor units; an amount finer than the minor unit is refused.

    (On the posting paths a dozen times per invoice line: one shift of the exponent
    and an exact comparison, no rounding.)"""
    scaled = amount.scaleb(minor_exponent(currency))
    try:
        whole = int(scaled)
    except (ValueError, OverflowError):  # NaN, infinity
        raise ValidationError(f"{amount} is not an amount of money.") from None
    if whole != scaled:
        raise ValidationError(
            f"{amount} has more decimal places than {normalise_currency(currency)} allows.")
    return whole


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(int(minor)).scaleb(-minor_exponent(currency)).quantize(quantum(currency))


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of one currency. Arithmetic across currencies is refused."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        code = normalise_currency(self.currency)
        amount = parse_decimal(self.amount)
        q = quantum(code)
        if amount != amount.quantize(q):
            raise ValidationError(f"{amount} has more decimal places than {code} allows.")
        object.__setattr__(self, "currency", code)
        object.__setattr__(self, "amount", amount.quantize(q))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def of(cls, value: object, currency: str,
           rounding: Rounding = Rounding.HALF_UP) -> Money:
        """Parse and round to the minor unit (for user input and computed results)."""
        return cls(round_amount(parse_decimal(value), currency, rounding), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(from_minor(minor, currency), currency)

    @property
    def minor(self) -> int:
        return to_minor(self.amount, self.currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValidationError(f"Cannot combine {self.currency} and {other.currency} amounts.")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        return self.amount != 0

    def times(self, factor: Decimal, rounding: Rounding = Rounding.HALF_UP) -> Money:
        """Multiply by an exact factor and round to the minor unit."""
        return Money(round_amount(self.amount * parse_decimal(factor, "factor"), self.currency,
                                  rounding), self.currency)

    def allocate(self, ratios: list[Decimal]) -> list[Money]:
        """Split into parts proportional to `ratios` that add up exactly (largest remainder)."""
        total = sum(ratios, Decimal(0))
        if total <= 0:
            raise ValidationError("Cannot split an amount by ratios that add up to zero.")
        minor = self.minor
        raw = [Decimal(minor) * r / total for r in ratios]
        parts = [int(x.to_integral_value(rounding="ROUND_FLOOR")) for x in raw]
        leftover = minor - sum(parts)
        order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
        for i in order[: abs(leftover)]:
            parts[i] += 1 if leftover > 0 else -1
        return [Money.from_minor(p, self.currency) for p in parts]

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:,.{minor_exponent(self.currency)}f}"


def format_money(money: Money, locale: str = "en_IN") -> str:
    """Money as people read it in the company's locale (₹1,23,456.50, 1.234,50 €)."""
    from babel.numbers import format_currency

    return format_currency(money.amount, money.currency, locale=locale)
