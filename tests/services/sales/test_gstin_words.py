"""GSTIN check characters and amounts in words (Indian and English grouping)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.gstin import check_character, state_code_for_name, validate_gstin
from erp_desktop.domain.words import amount_in_words, indian_words


@pytest.mark.parametrize("gstin", ["27AAPFU0939F1ZV", "29AAKCS4821M1ZS", " 27aapfu0939f1zv "])
def test_valid_gstins(gstin):
    assert validate_gstin(gstin) == gstin.strip().upper()


def test_check_character_is_the_gstn_algorithm():
    assert check_character("27AAPFU0939F1Z") == "V"
    # a single changed character changes the check character
    assert check_character("27AAPFU0939F2Z") != "V"


@pytest.mark.parametrize("gstin, fragment", [
    ("27AAPFU0939F1Z", "15 characters"),
    ("27AAPFU0939F1ZW", "check character"),  # one typo in the last character
    ("27AAPFU0939F1YV", "check character"),  # 14th is a letter (Z today); check differs
    ("2XAAPFU0939F1ZV", "not a GSTIN"),
    ("27AAPF10939F1ZV", "not a GSTIN"),
    ("28AAPFU0939F1ZV", "check character"),  # another state, same PAN: check differs
    ("40AAPFU0939F1ZV", "not a GST state code"),
])
def test_invalid_gstins(gstin, fragment):
    with pytest.raises(ValidationError, match=fragment) as err:
        validate_gstin(gstin)
    assert err.value.field == "gstin"


def test_state_names():
    assert state_code_for_name("karnataka") == "29"
    assert state_code_for_name("Atlantis") is None


@pytest.mark.parametrize("amount, currency, words", [
    ("123456.50", "INR", "Rupees One Lakh Twenty-Three Thousand Four Hundred and Fifty-Six "
                         "and Fifty Paise Only"),
    ("1.01", "INR", "Rupee One and One Paisa Only"),
    ("0.50", "INR", "Fifty Paise Only"),
    ("10000000.00", "INR", "Rupees One Crore Only"),
    ("12345678901.00", "INR", "Rupees One Thousand Two Hundred and Thirty-Four Crore "
                              "Fifty-Six Lakh Seventy-Eight Thousand Nine Hundred and One Only"),
    ("1234.50", "EUR", "One Thousand Two Hundred and Thirty-Four Euros and Fifty Cents Only"),
    ("123456.00", "USD", "One Hundred and Twenty-Three Thousand Four Hundred and Fifty-Six "
                         "Dollars Only"),
    ("2.01", "GBP", "Two Pounds and One Penny Only"),
    ("-5.00", "EUR", "Minus Five Euros Only"),
    ("7.25", "CHF", "CHF Seven and 25/100 Only"),
])
def test_amount_in_words(amount, currency, words):
    assert amount_in_words(D(amount), currency) == words


def test_indian_grouping_beyond_num2words_limit():
    assert indian_words(10**12) == "one lakh crore"
