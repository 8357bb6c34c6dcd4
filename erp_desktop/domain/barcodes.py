"""Product barcodes: EAN-13, EAN-8, UPC-A (and GTIN-14) with their check digits.

A scanner reads whatever is printed; a typo in a typed barcode is caught by the
GS1 check digit (weights 3 and 1 from the right), so a mistyped code never
silently points at another product.
"""

from __future__ import annotations

from erp_desktop.domain.errors import ValidationError

BARCODE_LENGTHS = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}


def gs1_check_digit(digits: str) -> int:
    """The check digit for `digits` (the code without its last digit)."""
    if not digits.isdigit():
        raise ValueError("a GS1 code is made of digits")
    total = 0
    for i, ch in enumerate(reversed(digits)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def with_check_digit(digits: str) -> str:
    """`digits` followed by its check digit (to make EAN-13 from 12 digits)."""
    return digits + str(gs1_check_digit(digits))


def normalise_barcode(value: str | None, field: str = "barcode") -> str | None:
    """A validated barcode (spaces and dashes removed), or None when empty.

    Accepts EAN-8, UPC-A (12), EAN-13 and GTIN-14; refuses other lengths,
    non-digits and a wrong check digit with a message naming the problem.
    """
    if value is None:
        return None
    text = str(value).strip().replace(" ", "").replace("-", "")
    if not text:
        return None
    if not text.isdigit():
        raise ValidationError(f"Barcode '{value}' must contain digits only.", field=field)
    kind = BARCODE_LENGTHS.get(len(text))
    if kind is None:
        raise ValidationError(
            f"Barcode '{value}' has {len(text)} digits; an EAN-13 has 13, a UPC-A 12, "
            "an EAN-8 8.", field=field)
    expected = gs1_check_digit(text[:-1])
    if int(text[-1]) != expected:
        raise ValidationError(
            f"Barcode '{value}' is not a valid {kind}: its check digit should be {expected}. "
            "Check for a typing mistake.", field=field)
    return text
