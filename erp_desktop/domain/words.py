"""Amounts in words, as printed on invoices and cheques.

INR uses the Indian grouping (lakh, crore): "Rupees One Lakh Twenty-Three
Thousand Four Hundred and Fifty-Six and Fifty Paise Only". Other currencies
read as in English: "One Thousand Two Hundred and Thirty-Four Euros and Fifty
Cents Only". num2words does the counting; this module does the grouping past
its limits, the currency names and the capitalisation.
"""

from __future__ import annotations

from decimal import Decimal

from num2words import num2words

from erp_desktop.domain.money import minor_exponent, normalise_currency

CRORE = 10_000_000

# (major singular, major plural, minor singular, minor plural)
_NAMES: dict[str, tuple[str, str, str, str]] = {
    "INR": ("Rupee", "Rupees", "Paisa", "Paise"),
    "EUR": ("Euro", "Euros", "Cent", "Cents"),
    "USD": ("Dollar", "Dollars", "Cent", "Cents"),
    "GBP": ("Pound", "Pounds", "Penny", "Pence"),
    "AUD": ("Australian Dollar", "Australian Dollars", "Cent", "Cents"),
    "CAD": ("Canadian Dollar", "Canadian Dollars", "Cent", "Cents"),
    "SGD": ("Singapore Dollar", "Singapore Dollars", "Cent", "Cents"),
    "AED": ("Dirham", "Dirhams", "Fils", "Fils"),
}


def _title(words: str) -> str:
    """'one lakh, twenty-three thousand and six' -> 'One Lakh Twenty-Three Thousand and Six'."""
    out = []
    for word in words.replace(",", "").split():
        if word == "and":
            out.append(word)
        else:
            out.append("-".join(p.capitalize() for p in word.split("-")))
    return " ".join(out)


def indian_words(n: int) -> str:
    """A whole number in words with lakh and crore, any size (lower case)."""
    if n < 0:
        return "minus " + indian_words(-n)
    if n < CRORE:
        return str(num2words(n, lang="en_IN"))
    crores, rest = divmod(n, CRORE)
    head = f"{indian_words(crores)} crore"
    return f"{head} {indian_words(rest)}" if rest else head


def english_words(n: int) -> str:
    return str(num2words(n, lang="en"))


def amount_in_words(amount: Decimal, currency: str) -> str:
    """The amount as words for the invoice footer (see module docstring)."""
    code = normalise_currency(currency)
    places = minor_exponent(code)
    amount = Decimal(amount)
    negative = amount < 0
    amount = abs(amount)
    major = int(amount)
    minor = int(((amount - major) * (10 ** places)).to_integral_value())
    say = indian_words if code == "INR" else english_words
    names = _NAMES.get(code)
    if code == "INR":
        # Indian style: the currency first ("Rupees ... and ... Paise Only").
        parts = []
        if major or not minor:
            parts.append(f"{'Rupee' if major == 1 else 'Rupees'} {_title(say(major))}")
        if minor:
            parts.append(f"{_title(say(minor))} {'Paisa' if minor == 1 else 'Paise'}")
        text = " and ".join(parts) + " Only"
    elif names:
        one, many, minor_one, minor_many = names
        parts = []
        if major or not minor:
            parts.append(f"{_title(say(major))} {one if major == 1 else many}")
        if minor:
            parts.append(f"{_title(say(minor))} {minor_one if minor == 1 else minor_many}")
        text = " and ".join(parts) + " Only"
    else:
        text = f"{code} {_title(say(major))}"
        if places:
            text += f" and {minor:0{places}d}/{10 ** places}"
        text += " Only"
    return ("Minus " + text) if negative else text
