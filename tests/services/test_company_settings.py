"""The company settings screen's use cases: read every part, save the changed parts
together (or none), versions per part, separate rights, logos, and the sample invoice."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from erp_desktop.domain.errors import Conflict, PermissionDenied, ValidationError
from erp_desktop.models.audit import AuditEvent
from erp_desktop.services import company_settings as cs
from erp_desktop.services import inventory, sales_settings
from erp_desktop.services.authz import DEFAULT_ROLES
from erp_desktop.services.context import Context

GOOD_GSTIN = "29AAKCS4821M1ZS"  # Karnataka, like the template company
MUMBAI_GSTIN = "27AAPFU0939F1ZV"


def as_permissions(ctx: Context, permissions: set[str] | frozenset[str]) -> Context:
    return replace(ctx, actor=replace(ctx.actor, permissions=frozenset(permissions)))


def clerk(ctx: Context) -> Context:
    return as_permissions(ctx, DEFAULT_ROLES["sales_clerk"][2])


def picture(fmt: str = "PNG", size: tuple[int, int] = (120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (31, 78, 121)).save(out, fmt)
    return out.getvalue()


def events(ctx: Context) -> list[tuple[str, object]]:
    with ctx.db.read() as s:
        return [(e.action, json.loads(e.details) if e.details else None)
                for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_reading_shows_every_part_with_its_version(admin_ctx):
    got = cs.get_company_settings(admin_ctx)
    assert got.profile.legal_name == "Template Traders Pvt Ltd"
    assert got.layout == sales_settings.InvoiceLayout()
    assert got.rounding == sales_settings.TaxRounding()
    assert got.allow_negative_stock is False and got.logo_png is None
    assert got.versions.layout == got.versions.rounding == got.versions.stock == 0
    assert got.versions.profile >= 1
    assert got.may_edit_profile and got.may_edit_settings


def test_saving_changes_every_part_in_one_go_and_audits_each(admin_ctx):
    before = cs.get_company_settings(admin_ctx)
    seen = len(events(admin_ctx))
    saved = cs.save_company_settings(
        admin_ctx, before.versions, profile={"city": " Bengaluru ", "gstin": GOOD_GSTIN.lower()},
        layout={"accent_colour": "#AA3311", "show_hsn": False, "page_format": "letter"},
        rounding={"level": "invoice", "round_off": True}, allow_negative_stock=True)
    assert saved.profile.city == "Bengaluru" and saved.profile.gstin == GOOD_GSTIN
    assert saved.layout.accent_colour == "#AA3311" and not saved.layout.show_hsn
    assert saved.layout.page_format == "LETTER"
    assert saved.rounding == sales_settings.TaxRounding("invoice", "half_up", True)
    assert saved.allow_negative_stock and inventory.allow_negative_stock(admin_ctx)
    assert sales_settings.get_layout(admin_ctx) == saved.layout  # what invoices print with
    assert sales_settings.get_tax_rounding(admin_ctx) == saved.rounding
    assert cs.get_company_settings(admin_ctx) == saved
    assert saved.versions.profile > before.versions.profile and saved.versions.layout > 0
    new = events(admin_ctx)[seen:]
    assert ("company.updated", {"fields": ["city", "gstin"]}) in new
    assert ("settings.changed", {"key": "invoice.layout",
                                 "fields": ["accent_colour", "page_format", "show_hsn"]}) in new
    assert ("settings.changed", {"key": "sales.tax_rounding",
                                 "fields": ["level", "round_off"]}) in new
    assert ("settings.changed", {"key": "allow_negative_stock", "value": True}) in new


@pytest.mark.parametrize(("profile", "field"), [
    ({"gstin": "29AAKCS4821M1ZX"}, "gstin"),  # wrong check character
    ({"gstin": "12345"}, "gstin"),
    ({"gstin": MUMBAI_GSTIN}, "gstin"),  # valid, but Maharashtra while the company is in 29
    ({"state_code": "77"}, "state_code"),
    ({"email": "accounts-at-example"}, "email"),
    ({"legal_name": "  "}, "legal_name"),
    ({"locale": "xx_NOWHERE"}, "locale"),
    ({"phone": "9" * 41}, "phone"),
    ({"vat_id": "DE 12-34"}, "vat_id"),
    ({"base_currency": "EUR"}, "base_currency"),  # never changed here
])
def test_a_bad_field_refuses_the_whole_save(admin_ctx, profile, field):
    before = cs.get_company_settings(admin_ctx)
    with pytest.raises(ValidationError) as err:
        cs.save_company_settings(admin_ctx, before.versions, profile=profile,
                                 layout={"show_hsn": False}, allow_negative_stock=True)
    assert err.value.field == field
    assert cs.get_company_settings(admin_ctx) == before  # nothing half written


def test_a_bad_layout_value_names_its_field(admin_ctx):
    v = cs.get_company_settings(admin_ctx).versions
    with pytest.raises(ValidationError) as err:
        cs.save_company_settings(admin_ctx, v, layout={"accent_colour": "blue"})
    assert err.value.field == "accent_colour"
    with pytest.raises(ValidationError) as err:
        cs.save_company_settings(admin_ctx, v, rounding={"level": "weekly"})
    assert err.value.field == "level"


def test_a_part_changed_elsewhere_is_a_conflict_and_other_parts_are_not(admin_ctx):
    mine = cs.get_company_settings(admin_ctx)
    sales_settings.set_layout(admin_ctx, accent_colour="#008000")  # someone else, meanwhile
    with pytest.raises(Conflict):
        cs.save_company_settings(admin_ctx, mine.versions, layout={"show_hsn": False},
                                 profile={"city": "Mysuru"})
    now = cs.get_company_settings(admin_ctx)
    assert now.layout.accent_colour == "#008000" and now.layout.show_hsn
    assert now.profile.city == mine.profile.city  # the profile waited too
    saved = cs.save_company_settings(admin_ctx, mine.versions, profile={"city": "Mysuru"})
    assert saved.profile.city == "Mysuru"  # the profile itself was not changed meanwhile
    assert saved.layout.accent_colour == "#008000"


def test_rights_are_separate_for_the_profile_and_the_settings(admin_ctx):
    v = cs.get_company_settings(admin_ctx).versions
    settings_only = as_permissions(admin_ctx, {"company.view", "settings.edit"})
    got = cs.get_company_settings(settings_only)
    assert got.may_edit_settings and not got.may_edit_profile
    saved = cs.save_company_settings(settings_only, v, layout={"show_discount": False})
    assert not saved.layout.show_discount
    with pytest.raises(PermissionDenied):
        cs.save_company_settings(settings_only, saved.versions, profile={"city": "Hubli"},
                                 layout={"show_discount": True})
    assert cs.get_company_settings(admin_ctx).layout.show_discount is False

    seller = clerk(admin_ctx)
    assert not cs.get_company_settings(seller).may_edit_settings  # reads, read-only
    for kwargs in ({"layout": {"show_hsn": False}}, {"allow_negative_stock": True},
                   {"logo": None}, {"profile": {"city": "Hubli"}}):
        with pytest.raises(PermissionDenied):
            cs.save_company_settings(seller, saved.versions, **kwargs)
    with pytest.raises(PermissionDenied):
        cs.get_company_settings(as_permissions(admin_ctx, DEFAULT_ROLES["employee"][2]))


def test_a_logo_is_checked_scaled_and_stored_as_png(admin_ctx, tmp_path):
    path = tmp_path / "logo.jpg"
    path.write_bytes(picture("JPEG", (2000, 1000)))
    logo = cs.prepare_logo(admin_ctx, path)
    assert logo.png.startswith(b"\x89PNG") and (logo.width, logo.height) == (800, 400)
    v = cs.get_company_settings(admin_ctx).versions
    saved = cs.save_company_settings(admin_ctx, v, logo=logo.png)
    assert saved.logo_png == logo.png
    assert events(admin_ctx)[-1] == ("company.updated", {"fields": ["logo"]})
    removed = cs.save_company_settings(admin_ctx, saved.versions, logo=None)
    assert removed.logo_png is None


@pytest.mark.parametrize(("data", "words"), [
    (b"GIF89a" + b"\0" * 100, "PNG or JPEG"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "damaged"),
    (b"", "empty"),
])
def test_a_logo_that_is_not_a_good_picture_is_refused(admin_ctx, data, words):
    with pytest.raises(ValidationError) as err:
        cs.prepare_logo(admin_ctx, data)
    assert err.value.field == "logo" and words in err.value.message


def test_a_logo_file_over_the_limit_is_refused_before_it_is_read(admin_ctx, tmp_path):
    big = tmp_path / "huge.png"
    big.write_bytes(picture() + b"\0" * cs.MAX_LOGO_BYTES)
    with pytest.raises(ValidationError) as err:
        cs.prepare_logo(admin_ctx, big)
    assert err.value.field == "logo" and "at most 1 MB" in err.value.message
    with pytest.raises(PermissionDenied):
        cs.prepare_logo(clerk(admin_ctx), picture())


def test_the_sample_invoice_shows_unsaved_choices(admin_ctx):
    stored = cs.sample_invoice_pdf(admin_ctx)
    text = pdf_text(stored)
    assert "TAX INVOICE" in text and "SAMPLE" in text and "HSN/SAC" in text
    assert "CGST" in text and "Template Traders" in text
    bare = pdf_text(cs.sample_invoice_pdf(
        admin_ctx, {"show_hsn": False, "show_signature": False, "default_terms": "Pay in 7 days"},
        profile={"trade_name": "Asha's Corner Shop"}, logo=picture()))
    assert "HSN/SAC" not in bare and "Authorised signatory" not in bare
    assert "Pay in 7 days" in bare and "Asha's Corner Shop" in bare
    assert cs.get_company_settings(admin_ctx).layout.show_hsn  # nothing was saved
    thermal = cs.sample_invoice_pdf(admin_ctx, {"page_format": "THERMAL"})
    width = PdfReader(io.BytesIO(thermal)).pages[0].mediabox.width
    assert 220 < float(width) < 230  # 80 mm
    rounded = pdf_text(cs.sample_invoice_pdf(admin_ctx, rounding={"round_off": True}))
    assert "Round off" in rounded
    assert pdf_text(cs.sample_invoice_pdf(clerk(admin_ctx)))  # viewers may preview


def test_the_sample_refuses_a_bad_choice_by_its_field(admin_ctx):
    with pytest.raises(ValidationError) as err:
        cs.sample_invoice_pdf(admin_ctx, {"accent_colour": "#12345"})
    assert err.value.field == "accent_colour"
    with pytest.raises(ValidationError) as err:
        cs.sample_invoice_pdf(admin_ctx, profile={"email": "nope"})
    assert err.value.field == "email"
