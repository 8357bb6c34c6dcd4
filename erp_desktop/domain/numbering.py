"""Legal document numbers: prefix, fiscal-year token, device code, counter.

`INV/2026-27/A/000042`: each device that can post offline has its own series
(`A`, `B`), so two offline desktops never issue the same number. The counter
itself is kept in the database and taken in the posting transaction (see
`models.numbering`); this module only knows fiscal years and the format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from erp_desktop.domain.errors import ValidationError


def fiscal_year_start(day: date, start_month: int) -> date:
    """First day of the fiscal year containing `day` (start_month 4 = April, India)."""
    if not 1 <= start_month <= 12:
        raise ValidationError("Fiscal year start month must be between 1 and 12.",
                              field="fiscal_year_start_month")
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)


def fiscal_year_end(day: date, start_month: int) -> date:
    start = fiscal_year_start(day, start_month)
    if start_month == 1:
        return date(start.year, 12, 31)
    from datetime import timedelta

    return date(start.year + 1, start_month, 1) - timedelta(days=1)


def fiscal_year_token(day: date, start_month: int) -> str:
    """'2026-27' for an April-March year, '2026' for a calendar year."""
    start = fiscal_year_start(day, start_month)
    if start_month == 1:
        return f"{start.year}"
    return f"{start.year}-{(start.year + 1) % 100:02d}"


@dataclass(frozen=True)
class SeriesFormat:
    prefix: str
    device_code: str
    width: int = 6
    separator: str = "/"

    def __post_init__(self) -> None:
        if not self.prefix or not self.prefix.replace("-", "").isalnum():
            raise ValidationError("A number series prefix must be letters or digits.",
                                  field="prefix")
        if not self.device_code or not self.device_code.isalnum() or len(self.device_code) > 4:
            raise ValidationError("A device code is one to four letters or digits.",
                                  field="device_code")

    def format(self, fy_token: str, counter: int) -> str:
        if counter < 1:
            raise ValidationError("A document counter starts at 1.")
        s = self.separator
        return f"{self.prefix}{s}{fy_token}{s}{self.device_code}{s}{counter:0{self.width}d}"
