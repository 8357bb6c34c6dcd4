"""The company's own settings, read and saved in one go for the settings screen.

One screen shows the company profile (names, address, tax ids, logo), the
look of printed invoices (`sales_settings.InvoiceLayout`), how tax is rounded
(`sales_settings.TaxRounding`) and whether stock may go below zero
(`inventory.ALLOW_NEGATIVE_STOCK`). `get_company_settings` reads all of it
with a version per part; `save_company_settings` writes what changed in ONE
transaction, so a refusal in any part leaves every part as it was, and
refuses with `Conflict` when a part being changed was changed by someone
else since it was read (the other person's change is never overwritten).

Permissions: reading needs `company.view`; changing the profile or the logo
needs `company.edit`, changing the layout, rounding or stock rule needs
`settings.edit` (the two rights are separate in `services.authz`, so a save
asks for each one it uses, before anything else).

Logos are PNG or JPEG files of at most `MAX_LOGO_BYTES`; they are checked,
scaled down to `LOGO_MAX_SIDE` pixels and stored as PNG (`Company.logo_png`).
`sample_invoice_pdf` renders a made-up invoice with choices not yet saved,
so a person sees the effect before saving.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp_desktop.documents.invoice import (
    InvoiceDoc,
    InvoiceOptions,
    LineDoc,
    PartyDoc,
    TaxRowDoc,
    TotalDoc,
    quantity_text,
    render_invoice,
)
from erp_desktop.domain.errors import Conflict, NotFound, ValidationError
from erp_desktop.domain.gstin import STATE_CODES
from erp_desktop.domain.money import Rounding
from erp_desktop.domain.tax import (
    DEFAULT_RATES,
    LineInput,
    Rate,
    RoundingLevel,
    TaxKind,
    TaxPolicy,
    compute_document,
)
from erp_desktop.domain.words import amount_in_words
from erp_desktop.models.company import Company, Setting
from erp_desktop.services import audit
from erp_desktop.services.company import CompanyProfile, check_merged_profile, check_profile_changes
from erp_desktop.services.context import Context
from erp_desktop.services.inventory import ALLOW_NEGATIVE_STOCK, stock_books
from erp_desktop.services.invoice_pdf import company_header
from erp_desktop.services.sales_settings import (
    LAYOUT_KEY,
    TAX_ROUNDING_KEY,
    InvoiceLayout,
    TaxRounding,
    layout_with,
    read_layout,
    read_tax_rounding,
    store_layout,
    store_tax_rounding,
    tax_rounding_with,
)

MAX_LOGO_BYTES = 1024 * 1024  # the file a person picks
LOGO_MAX_SIDE = 800  # pixels: printed at most 40 x 16 mm, so this is plenty
_MAX_LOGO_PIXELS = 40_000_000  # refuse before decoding a picture this large
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
class _Keep:
    """The logo argument's default: leave the stored logo as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass(frozen=True)
class SettingsVersions:
    """The version of each part when it was read (0: never saved)."""

    profile: int
    layout: int
    rounding: int
    stock: int


@dataclass(frozen=True)
class CompanySettings:
    profile: CompanyProfile
    logo_png: bytes | None
    layout: InvoiceLayout
    rounding: TaxRounding
    allow_negative_stock: bool
    versions: SettingsVersions
    may_edit_profile: bool  # company.edit: profile and logo
    may_edit_settings: bool  # settings.edit: layout, rounding, stock


@dataclass(frozen=True)
class LogoImage:
    png: bytes
    width: int
    height: int


# --------------------------------------------------------------------------- reading


def _company(s: Session) -> Company:
    row = s.scalars(select(Company).where(Company.deleted_at.is_(None))).first()
    if row is None:
        raise NotFound("This company file has no company profile.")
    return row


def _setting_version(s: Session, key: str) -> int:
    return int(s.scalar(select(Setting.version).where(Setting.key == key)) or 0)


def _versions(s: Session, company: Company) -> SettingsVersions:
    return SettingsVersions(profile=company.version, layout=_setting_version(s, LAYOUT_KEY),
                            rounding=_setting_version(s, TAX_ROUNDING_KEY),
                            stock=_setting_version(s, ALLOW_NEGATIVE_STOCK))


def _snapshot(s: Session, ctx: Context) -> CompanySettings:
    row = _company(s)
    profile = CompanyProfile(**{f.name: getattr(row, f.name) for f in fields(CompanyProfile)})
    return CompanySettings(
        profile=profile, logo_png=bytes(row.logo_png) if row.logo_png else None,
        layout=read_layout(s), rounding=read_tax_rounding(s),
        allow_negative_stock=stock_books(s).allow_negative, versions=_versions(s, row),
        may_edit_profile=ctx.actor.can("company.edit"),
        may_edit_settings=ctx.actor.can("settings.edit"))


def get_company_settings(ctx: Context) -> CompanySettings:
    """Everything the company settings screen shows, with the version of each part."""
    ctx.require("company.view")
    with ctx.db.read() as s:
        return _snapshot(s, ctx)


# --------------------------------------------------------------------------- checking


def normalise_logo(data: bytes) -> LogoImage:
    """A PNG or JPEG picture checked and scaled down, as the PNG that is stored."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise ValidationError("The logo file is empty.", field="logo")
    if len(data) > MAX_LOGO_BYTES:
        raise _too_big(len(data))
    if not bytes(data[:8]).startswith(_PNG) and not bytes(data[:3]).startswith(_JPEG):
        raise ValidationError("The logo must be a PNG or JPEG picture.", field="logo")
    from PIL import Image, UnidentifiedImageError  # reportlab's own picture library

    try:
        with Image.open(io.BytesIO(bytes(data))) as opened:
            if opened.width * opened.height > _MAX_LOGO_PIXELS:
                raise ValidationError("The logo picture is far too large; choose one a few "
                                      "hundred pixels wide.", field="logo")
            image = opened.convert("RGBA") if opened.mode not in ("RGB", "RGBA", "L", "LA") \
                else opened.copy()
        image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError("The logo file is damaged or is not a picture this app can "
                              "read.", field="logo") from None
    return LogoImage(out.getvalue(), image.width, image.height)


def prepare_logo(ctx: Context, source: Path | str | bytes) -> LogoImage:
    """Read and check a logo file the person chose (not saved until the screen is)."""
    ctx.require("company.edit")
    if isinstance(source, bytes | bytearray):
        return normalise_logo(bytes(source))
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > MAX_LOGO_BYTES:  # refused before reading a large file into memory
            raise _too_big(size)
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"Cannot read {path.name}: {exc.strerror or exc}.",
                              field="logo") from exc
    return normalise_logo(data)


def _too_big(size: int) -> ValidationError:
    return ValidationError(f"The logo file is {size / 1024 / 1024:.1f} MB; choose one of at "
                          f"most {MAX_LOGO_BYTES // 1024 // 1024} MB (a picture a few hundred "
                          "pixels wide is plenty).", field="logo")


# --------------------------------------------------------------------------- saving


def _conflict(part: str) -> Conflict:
    return Conflict(f"Someone else changed the {part} since you opened it. Reload to see "
                    "their change; yours is not saved.")


def save_company_settings(ctx: Context, versions: SettingsVersions, *,
                          profile: Mapping[str, object] | None = None,
                          logo: bytes | _Keep | None = KEEP,
                          layout: Mapping[str, object] | None = None,
                          rounding: Mapping[str, object] | None = None,
                          allow_negative_stock: bool | None = None) -> CompanySettings:
    """Save the changed parts of the settings screen together; see the module docstring.

    `profile`, `layout` and `rounding` hold only the fields to change; `logo`
    is new picture bytes, None to remove the logo, or KEEP.
    """
    needs = set()
    if profile or not isinstance(logo, _Keep):
        needs.add("company.edit")
    if layout or rounding or allow_negative_stock is not None:
        needs.add("settings.edit")
    for permission in sorted(needs) or ["company.view"]:
        ctx.require(permission)
    clean = check_profile_changes(profile or {})
    new_logo = logo if isinstance(logo, _Keep) or logo is None else normalise_logo(logo).png
    if allow_negative_stock is not None and not isinstance(allow_negative_stock, bool):
        raise ValidationError("Negative stock is allowed or not.",
                              field="allow_negative_stock")
    with ctx.db.write(ctx.actor.user_id) as s:
        row = _company(s)
        now = _versions(s, row)
        if (clean or not isinstance(new_logo, _Keep)) and now.profile != versions.profile:
            raise _conflict("company profile")
        if layout and now.layout != versions.layout:
            raise _conflict("invoice layout")
        if rounding and now.rounding != versions.rounding:
            raise _conflict("tax rounding")
        if allow_negative_stock is not None and now.stock != versions.stock:
            raise _conflict("stock setting")

        changed = sorted(k for k, v in clean.items() if getattr(row, k) != v)
        for k in changed:
            setattr(row, k, clean[k])
        if not isinstance(new_logo, _Keep) and (row.logo_png or None) != new_logo:
            row.logo_png = new_logo
            changed.append("logo")
        if changed:
            check_merged_profile(row)
            audit.record(s, ctx, "company.updated", entity="company", entity_id=row.id,
                         details={"fields": sorted(changed)})

        if layout:
            before = read_layout(s)
            after = layout_with(before, dict(layout))
            diff = sorted(k for k, v in asdict(after).items() if getattr(before, k) != v)
            if diff:
                store_layout(s, after)
                audit.record(s, ctx, "settings.changed", entity="setting",
                             details={"key": LAYOUT_KEY, "fields": diff})
        if rounding:
            before_r = read_tax_rounding(s)
            after_r = tax_rounding_with(before_r, dict(rounding))
            diff = sorted(k for k, v in asdict(after_r).items() if getattr(before_r, k) != v)
            if diff:
                store_tax_rounding(s, after_r)
                audit.record(s, ctx, "settings.changed", entity="setting",
                             details={"key": TAX_ROUNDING_KEY, "fields": diff})
        if allow_negative_stock is not None and \
                stock_books(s).allow_negative != allow_negative_stock:
            _store_negative_stock(s, allow_negative_stock)
            audit.record(s, ctx, "settings.changed", entity="setting",
                         details={"key": ALLOW_NEGATIVE_STOCK, "value": allow_negative_stock})
        s.flush()
        return _snapshot(s, ctx)


def _store_negative_stock(s: Session, allowed: bool) -> None:
    """The same row `inventory.set_allow_negative_stock` writes, in this transaction."""
    row = s.scalars(select(Setting).where(Setting.key == ALLOW_NEGATIVE_STOCK)).first()
    if row is None:
        s.add(Setting(key=ALLOW_NEGATIVE_STOCK, value=json.dumps(allowed)))
    else:
        row.value = json.dumps(allowed)
        row.deleted_at = None
    s.flush()


# --------------------------------------------------------------------------- preview


# The made-up lines of the sample: description, HSN/SAC, quantity, unit, price, discount %.
_SAMPLE_LINES = (
    ("Steel water bottle, 1 litre", "7323", Decimal("4"), "pcs", Decimal("450.00"),
     Decimal("10")),
    ("Cotton hand towel, pack of 2", "6302", Decimal("3"), "pcs", Decimal("299.00"), None),
    ("Gift wrapping", "998599", Decimal("1"), "nos", Decimal("49.50"), None),
)


_STANDARD = {"gst": "GST18", "vat": "VAT20", "sales_tax": "ST"}


def _sample_rates(regime: str) -> tuple[Rate, Rate]:
    """The regime's usual rate and its lowest positive one (GST 18 % and 5 %)."""
    rates = [r for r in DEFAULT_RATES.get(regime, DEFAULT_RATES["none"])
             if r.kind not in (TaxKind.EXEMPT, TaxKind.ZERO_RATED) and r.headline] or \
        list(DEFAULT_RATES["none"])
    standard = next((r for r in rates if r.code == _STANDARD.get(regime)),
                    max(rates, key=lambda r: r.headline))
    reduced = min(rates, key=lambda r: r.headline)
    return standard, reduced


def _pct(rate: Decimal) -> str:
    return f"{rate.normalize():f}%"


def sample_invoice_doc(company: Any, layout: InvoiceLayout,
                       rounding: TaxRounding) -> InvoiceDoc:
    """A made-up invoice in the company's currency, tax regime and chosen layout.

    `company` is anything with the attributes of `models.company.Company`
    that `invoice_pdf.company_header` reads, plus currency, locale and regime.
    """
    cur, locale, regime = company.base_currency, company.locale, company.tax_regime
    standard, reduced = _sample_rates(regime)
    rates = (standard, reduced, standard)
    inputs = [LineInput(q, p, rate, discount_percent=d)
              for (_n, _h, q, _u, p, d), rate in zip(_SAMPLE_LINES, rates, strict=True)]
    policy = TaxPolicy(currency=cur, level=RoundingLevel(rounding.level),
                       rounding=Rounding(rounding.mode), round_off=rounding.round_off)
    tax = compute_document(inputs, policy)
    lines = []
    for i, ((name, hsn, qty, unit, price, _d), rate, res) in enumerate(
            zip(_SAMPLE_LINES, rates, tax.lines, strict=True), start=1):
        label = _pct(rate.headline) if rate.components else "Exempt"
        lines.append(LineDoc(no=i, description=name, hsn_sac=hsn, quantity=quantity_text(qty),
                             unit=unit, unit_price=price, discount=res.discount,
                             tax_rate=label, tax=res.tax, amount=res.total))
    tax_rows = tuple(TaxRowDoc(label=b.component_name or b.rate_name,
                               rate=_pct(b.component_rate) if b.component_code else "-",
                               taxable=b.taxable, tax=b.tax) for b in tax.breakdown)
    totals: list[TotalDoc] = []
    if tax.discount_total:
        totals.append(TotalDoc("Amount before discount", tax.gross_total))
        totals.append(TotalDoc("Discount", -tax.discount_total))
    totals.append(TotalDoc("Taxable value", tax.taxable_total, strong=True))
    by_comp: dict[str, Decimal] = {}
    for b in tax.breakdown:
        if b.component_code and b.tax:
            key = b.component_name or b.component_code
            by_comp[key] = by_comp.get(key, Decimal(0)) + b.tax
    totals += [TotalDoc(k, v) for k, v in by_comp.items()]
    if tax.round_off:
        totals.append(TotalDoc("Round off", tax.round_off))
    title = "TAX INVOICE" if regime == "gst" else "INVOICE"
    details: list[tuple[str, str]] = [("Invoice date", "1 Apr 2026"),
                                      ("Due date", "1 May 2026")]
    if regime == "gst":
        state = STATE_CODES.get(company.state_code or "", company.state or "-")
        details.append(("Place of supply", f"{state} ({company.state_code})"
                        if company.state_code else state))
    details.append(("Customer code", "C-0001"))
    name = company.trade_name or company.legal_name
    options = InvoiceOptions(**{f.name: getattr(layout, f.name)
                                for f in fields(InvoiceOptions)})
    return InvoiceDoc(
        title=title, number="SAMPLE-0001", company=company_header(company),
        customer=PartyDoc("Sample Customer Pvt Ltd", ("12 Market Road", "Your city"),
                          (), "98450 00000"),
        currency=cur, locale=locale, details=tuple(details), lines=tuple(lines),
        tax_rows=tax_rows, totals=tuple(totals), grand_total=tax.grand_total,
        amount_in_words=amount_in_words(tax.grand_total, cur),
        warning="SAMPLE: not a real invoice",
        terms=layout.default_terms or None, bank_details=layout.bank_details or None,
        signature_label=layout.signature_label,
        footer_note=f"{name}  ·  Sample invoice",  # as invoice_pdf: the number, not the setting
        options=options, subject="Sample invoice")


def sample_invoice_pdf(ctx: Context, layout: Mapping[str, object] | None = None, *,
                       profile: Mapping[str, object] | None = None,
                       logo: bytes | _Keep | None = KEEP,
                       rounding: Mapping[str, object] | None = None) -> bytes:
    """A made-up invoice as PDF, laid out with the stored settings changed by the
    given (unsaved) ones: what the next invoice will look like once they are saved."""
    ctx.require("company.view")
    clean = check_profile_changes(profile or {})
    with ctx.db.read() as s:
        row = _company(s)
        stored = {c: getattr(row, c) for c in (
            "legal_name", "trade_name", "address", "city", "state", "state_code",
            "postal_code", "country", "phone", "email", "gstin", "vat_id", "other_tax_id",
            "base_currency", "locale", "tax_regime")}
        stored["logo_png"] = bytes(row.logo_png) if row.logo_png else None
        chosen = layout_with(read_layout(s), dict(layout or {}))
        rule = tax_rounding_with(read_tax_rounding(s), dict(rounding or {}))
    stored.update(clean)
    if not isinstance(logo, _Keep):
        stored["logo_png"] = None if logo is None else normalise_logo(logo).png
    company = cast(Any, SimpleNamespace(**stored))
    return render_invoice(sample_invoice_doc(company, chosen, rule))
