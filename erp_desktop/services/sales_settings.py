"""Company settings for sales: tax rounding and the look of printed invoices.

Both are JSON rows of `models.company.Setting` (so they live in the company
file and sync like everything else):

- `sales.tax_rounding`: round tax per line or per invoice, half-up or
  half-even, and whether the grand total is rounded to a whole currency unit
  (the difference posted to the round-off account).
- `invoice.layout`: paper (A4, US Letter, 80 mm receipt), the accent colour,
  which fields appear (logo, HSN/SAC column, discount column, bank details,
  signature), the bank details, default terms and a footer note.

Readers inside a transaction use `read_tax_rounding` / `read_layout`; the use
cases below check permissions and audit changes.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import Rounding
from erp_desktop.domain.tax import RoundingLevel
from erp_desktop.models.company import Setting
from erp_desktop.services import audit
from erp_desktop.services.context import Context

TAX_ROUNDING_KEY = "sales.tax_rounding"
LAYOUT_KEY = "invoice.layout"
PAGE_FORMATS = ("A4", "LETTER", "THERMAL")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class TaxRounding:
    level: str = RoundingLevel.LINE.value  # line | invoice
    mode: str = Rounding.HALF_UP.value  # half_up | half_even
    round_off: bool = False  # round the grand total to a whole unit


@dataclass(frozen=True)
class InvoiceLayout:
    page_format: str = "A4"  # A4 | LETTER | THERMAL
    accent_colour: str = "#1F4E79"
    show_logo: bool = True
    show_hsn: bool = True
    show_discount: bool = True
    show_bank_details: bool = True
    show_signature: bool = True
    bank_details: str = ""
    default_terms: str = ""
    footer_note: str = ""
    signature_label: str = "Authorised signatory"


def _load(s: Session, key: str) -> dict[str, Any]:
    text = s.scalar(select(Setting.value).where(Setting.key == key,
                                                Setting.deleted_at.is_(None)))
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _known(cls: type, raw: dict[str, Any]) -> dict[str, Any]:
    names = {f.name: f for f in fields(cls)}
    return {k: v for k, v in raw.items() if k in names}


def read_tax_rounding(s: Session) -> TaxRounding:
    try:
        return _check_rounding(TaxRounding(**_known(TaxRounding, _load(s, TAX_ROUNDING_KEY))))
    except (TypeError, ValidationError):
        return TaxRounding()  # a damaged setting falls back to the defaults


def read_layout(s: Session) -> InvoiceLayout:
    try:
        return _check_layout(InvoiceLayout(**_known(InvoiceLayout, _load(s, LAYOUT_KEY))))
    except (TypeError, ValidationError):
        return InvoiceLayout()


def _check_rounding(value: TaxRounding) -> TaxRounding:
    if value.level not in {r.value for r in RoundingLevel}:
        raise ValidationError("Tax is rounded per 'line' or per 'invoice'.", field="level")
    if value.mode not in {r.value for r in Rounding}:
        raise ValidationError("Rounding is 'half_up' or 'half_even'.", field="mode")
    if not isinstance(value.round_off, bool):
        raise ValidationError("Round-off is on or off.", field="round_off")
    return value


def _check_layout(value: InvoiceLayout) -> InvoiceLayout:
    if value.page_format not in PAGE_FORMATS:
        raise ValidationError(f"The invoice paper is one of {', '.join(PAGE_FORMATS)}.",
                              field="page_format")
    if not isinstance(value.accent_colour, str) or not _COLOUR.match(value.accent_colour):
        raise ValidationError("The accent colour is written like #1F4E79.",
                              field="accent_colour")
    for f in fields(InvoiceLayout):
        v = getattr(value, f.name)
        if f.name.startswith("show_") and not isinstance(v, bool):
            raise ValidationError(f"{f.name.replace('_', ' ').capitalize()} is on or off.",
                                  field=f.name)
        if f.type == "str" and not isinstance(v, str):
            raise ValidationError(f"{f.name.replace('_', ' ').capitalize()} must be text.",
                                  field=f.name)
    for name, limit in (("bank_details", 600), ("default_terms", 2000), ("footer_note", 300),
                        ("signature_label", 60)):
        if len(getattr(value, name)) > limit:
            raise ValidationError(f"{name.replace('_', ' ').capitalize()} is at most {limit} "
                                  "characters.", field=name)
    return value


def _store(s: Session, key: str, value: TaxRounding | InvoiceLayout) -> None:
    text = json.dumps(asdict(value), sort_keys=True)
    row = s.scalars(select(Setting).where(Setting.key == key)).one_or_none()
    if row is None:
        s.add(Setting(key=key, value=text))
    else:
        row.value = text
        row.deleted_at = None
    s.flush()


def get_tax_rounding(ctx: Context) -> TaxRounding:
    ctx.require("sales.view")
    with ctx.db.read() as s:
        return read_tax_rounding(s)


def set_tax_rounding(ctx: Context, **changes: object) -> TaxRounding:
    """Change how tax is rounded on invoices issued from now on."""
    ctx.require("settings.edit")
    unknown = set(changes) - {f.name for f in fields(TaxRounding)}
    if unknown:
        raise ValidationError(f"Unknown rounding settings: {', '.join(sorted(unknown))}.",
                              field=sorted(unknown)[0])
    with ctx.db.write(ctx.actor.user_id) as s:
        value = _check_rounding(replace(read_tax_rounding(s), **changes))  # type: ignore[arg-type]
        _store(s, TAX_ROUNDING_KEY, value)
        audit.record(s, ctx, "settings.changed", entity="setting",
                     details={"key": TAX_ROUNDING_KEY, "fields": sorted(changes)})
        return value


def get_layout(ctx: Context) -> InvoiceLayout:
    ctx.require("sales.view")
    with ctx.db.read() as s:
        return read_layout(s)


def set_layout(ctx: Context, **changes: object) -> InvoiceLayout:
    """Choose the invoice paper, accent colour and which fields appear."""
    ctx.require("settings.edit")
    unknown = set(changes) - {f.name for f in fields(InvoiceLayout)}
    if unknown:
        raise ValidationError(f"Unknown invoice layout settings: {', '.join(sorted(unknown))}.",
                              field=sorted(unknown)[0])
    if isinstance(changes.get("page_format"), str):
        changes["page_format"] = str(changes["page_format"]).upper()
    with ctx.db.write(ctx.actor.user_id) as s:
        value = _check_layout(replace(read_layout(s), **changes))  # type: ignore[arg-type]
        _store(s, LAYOUT_KEY, value)
        audit.record(s, ctx, "settings.changed", entity="setting",
                     details={"key": LAYOUT_KEY, "fields": sorted(changes)})
        return value


# ------------------------------------------------- for screens that save several settings at once


def layout_with(base: InvoiceLayout, changes: dict[str, object]) -> InvoiceLayout:
    """`base` with `changes`, checked as `set_layout` checks them (no database, no audit)."""
    unknown = set(changes) - {f.name for f in fields(InvoiceLayout)}
    if unknown:
        raise ValidationError(f"Unknown invoice layout settings: {', '.join(sorted(unknown))}.",
                              field=sorted(unknown)[0])
    changes = dict(changes)
    if isinstance(changes.get("page_format"), str):
        changes["page_format"] = str(changes["page_format"]).upper()
    return _check_layout(replace(base, **changes))  # type: ignore[arg-type]


def tax_rounding_with(base: TaxRounding, changes: dict[str, object]) -> TaxRounding:
    """`base` with `changes`, checked as `set_tax_rounding` checks them."""
    unknown = set(changes) - {f.name for f in fields(TaxRounding)}
    if unknown:
        raise ValidationError(f"Unknown rounding settings: {', '.join(sorted(unknown))}.",
                              field=sorted(unknown)[0])
    return _check_rounding(replace(base, **changes))  # type: ignore[arg-type]


def store_layout(s: Session, value: InvoiceLayout) -> None:
    """Write the layout in the caller's transaction (the caller checks and audits)."""
    _store(s, LAYOUT_KEY, _check_layout(value))


def store_tax_rounding(s: Session, value: TaxRounding) -> None:
    _store(s, TAX_ROUNDING_KEY, _check_rounding(value))
