"""Password rules for user logins (the password also unlocks the company file)."""

from __future__ import annotations

from erp_desktop.domain.errors import ValidationError

MIN_LENGTH = 10
_COMMON = {"password12", "1234567890", "qwertyuiop", "password123", "letmein123",
           "welcome123", "admin12345", "iloveyou12", "0987654321", "qwerty1234"}


def check_password(password: str, login_name: str = "") -> None:
    """Refuse a password that a colleague or a script would guess."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(f"The password must be at least {MIN_LENGTH} characters long.",
                              field="password")
    if password.strip() != password:
        raise ValidationError("The password must not start or end with a space.",
                              field="password")
    if len(set(password)) < 4:
        raise ValidationError("The password repeats too few characters; choose a longer mix.",
                              field="password")
    if login_name and login_name.casefold() in password.casefold():
        raise ValidationError("The password must not contain the login name.", field="password")
    if password.casefold() in _COMMON:
        raise ValidationError("That password is too common; choose another.", field="password")


def password_strength_hint(password: str) -> str:
    """A short hint for a strength meter ("weak", "fair", "strong")."""
    classes = sum(any(f(c) for c in password) for f in (str.islower, str.isupper, str.isdigit))
    classes += any(not c.isalnum() for c in password)
    score = len(password) // 4 + classes
    if len(password) < MIN_LENGTH or score < 5:
        return "weak"
    return "strong" if score >= 7 else "fair"
