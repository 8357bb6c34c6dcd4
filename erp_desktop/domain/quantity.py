"""Exact quantities: Decimals with a fixed number of places, stored as integers.

Quantities keep `QTY_PLACES` decimal places in storage (grams of a kilogram,
millilitres of a litre). A unit of measure may allow fewer places for entry
(pieces allow none); that check is `check_places`.
"""

from __future__ import annotations

from decimal import Decimal

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import parse_decimal

QTY_PLACES = 3
_QTY_QUANTUM = Decimal(1).scaleb(-QTY_PLACES)


def parse_quantity(value: object, field: str = "quantity") -> Decimal:
    qty = parse_decimal(value, field)
    if qty != qty.quantize(_QTY_QUANTUM):
        raise ValidationError(
            f"Quantity {value} has more than {QTY_PLACES} decimal places.", field=field)
    return qty.quantize(_QTY_QUANTUM)


def check_places(qty: Decimal, places: int, unit: str, field: str = "quantity") -> Decimal:
    """Refuse a quantity finer than its unit allows (2.5 pcs)."""
    if qty != qty.quantize(Decimal(1).scaleb(-places)):
        if places == 0:
            raise ValidationError(f"Quantity in {unit} must be a whole number.", field=field)
        raise ValidationError(f"Quantity in {unit} allows at most {places} decimal places.",
                              field=field)
    return qty


def qty_to_int(qty: Decimal) -> int:
    return int(parse_quantity(qty).scaleb(QTY_PLACES))


def qty_from_int(value: int) -> Decimal:
    return Decimal(int(value)).scaleb(-QTY_PLACES).quantize(_QTY_QUANTUM)
