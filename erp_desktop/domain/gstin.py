"""India's GST identification number (GSTIN): format, check character, state.

A GSTIN is 15 characters: the two-digit state code, the holder's PAN (five
letters, four digits, a letter), the registration number within the state
(1-9, A-Z), the letter Z (reserved), and a check character computed over the
first fourteen with the GSTN's base-36 Luhn variant. Validating it catches
almost every typing mistake before an invoice carries a wrong number.
"""

from __future__ import annotations

import re

from erp_desktop.domain.errors import ValidationError

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FORMAT = re.compile(r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z][A-Z][0-9A-Z]$")

# GST state and union-territory codes (first two characters of a GSTIN).
STATE_CODES: dict[str, str] = {
    "01": "Jammu and Kashmir", "02": "Himachal Pradesh", "03": "Punjab", "04": "Chandigarh",
    "05": "Uttarakhand", "06": "Haryana", "07": "Delhi", "08": "Rajasthan",
    "09": "Uttar Pradesh", "10": "Bihar", "11": "Sikkim", "12": "Arunachal Pradesh",
    "13": "Nagaland", "14": "Manipur", "15": "Mizoram", "16": "Tripura", "17": "Meghalaya",
    "18": "Assam", "19": "West Bengal", "20": "Jharkhand", "21": "Odisha",
    "22": "Chhattisgarh", "23": "Madhya Pradesh", "24": "Gujarat",
    "25": "Daman and Diu (before 2020)", "26": "Dadra and Nagar Haveli and Daman and Diu",
    "27": "Maharashtra", "28": "Andhra Pradesh (before 2018)", "29": "Karnataka", "30": "Goa",
    "31": "Lakshadweep", "32": "Kerala", "33": "Tamil Nadu", "34": "Puducherry",
    "35": "Andaman and Nicobar Islands", "36": "Telangana", "37": "Andhra Pradesh",
    "38": "Ladakh", "97": "Other Territory", "99": "Centre Jurisdiction",
}


def check_character(first14: str) -> str:
    """The 15th character of a GSTIN whose first fourteen are given."""
    total = 0
    for i, ch in enumerate(first14.upper()):
        value = _ALPHABET.index(ch)
        product = value * (2 if i % 2 else 1)
        total += product // 36 + product % 36
    return _ALPHABET[(36 - total % 36) % 36]


def normalise_gstin(value: str) -> str:
    return "".join((value or "").split()).upper()


def validate_gstin(value: str, field: str = "gstin") -> str:
    """The GSTIN in capitals, or a ValidationError saying what is wrong with it."""
    gstin = normalise_gstin(value)
    if len(gstin) != 15:
        raise ValidationError(f"A GSTIN has 15 characters; '{gstin}' has {len(gstin)}.",
                              field=field)
    if not _FORMAT.match(gstin):
        raise ValidationError(f"'{gstin}' is not a GSTIN: it should be a state code, a PAN "
                              "(like ABCDE1234F), a registration number, Z and a check "
                              "character.", field=field)
    if gstin[:2] not in STATE_CODES:
        raise ValidationError(f"'{gstin}' starts with {gstin[:2]}, which is not a GST state "
                              "code.", field=field)
    if check_character(gstin[:14]) != gstin[14]:
        raise ValidationError(f"'{gstin}' has a wrong check character; please check the "
                              "number for a typing mistake.", field=field)
    return gstin


def state_code_of(gstin: str) -> str:
    return normalise_gstin(gstin)[:2]


def state_name(code: str | None) -> str | None:
    return STATE_CODES.get((code or "").strip().zfill(2)) if code else None


def state_code_for_name(name: str | None) -> str | None:
    """The GST state code of a state written out ("Karnataka" -> "29")."""
    key = (name or "").strip().casefold()
    if not key:
        return None
    for code, state in STATE_CODES.items():
        if state.casefold() == key:
            return code
    return None
