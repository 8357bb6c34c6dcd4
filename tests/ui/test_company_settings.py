"""Settings > Company: change the invoice look and see it on the next invoice, refusals
under their fields, read-only for a clerk, the sample preview, conflicts and the logo."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from pypdf import PdfReader
from PySide6.QtWidgets import QFileDialog

from erp_desktop.services import auth, company, invoice_pdf, sales, sales_settings, users
from erp_desktop.services import company_settings as cs
from erp_desktop.services.sales import LineIn
from erp_desktop.ui import pdf_preview
from erp_desktop.ui.shortcuts import Command
from tests.services.sales.conftest import make_shop

pytestmark = pytest.mark.ui

WAIT = 30_000
CLERK_PASSWORD = "counter drawer 77 ok"


def company_panel(qtbot, main):
    panel = main.page("settings").show_company()
    qtbot.waitUntil(lambda: panel.loaded is not None, timeout=WAIT)
    return panel


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def fill_colours(data: bytes) -> list[tuple[float, float, float]]:
    """Every `r g b rg` fill colour set on the PDF's pages."""
    out = []
    for page in PdfReader(io.BytesIO(data)).pages:
        stream = page.get_contents().get_data().decode("latin-1")
        out += [tuple(float(x) for x in m) for m in
                re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) rg", stream)]
    return out


def has_colour(data: bytes, hex_code: str) -> bool:
    want = tuple(int(hex_code[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return any(all(abs(a - b) < 0.01 for a, b in zip(c, want, strict=True))
               for c in fill_colours(data))


def login_as(admin_ctx, company_path, config, device, clock, login, role):
    users.add_user(admin_ctx, login, login.title(), CLERK_PASSWORD, role)
    return auth.login(company_path, login, CLERK_PASSWORD, config=config, device=device,
                      clock=clock)


def test_accent_colour_and_no_hsn_column_are_saved_and_the_next_invoice_shows_them(
        qtbot, admin_ctx, open_main):
    shop = make_shop(admin_ctx)
    draft = sales.create_draft(admin_ctx, shop.local.id, [LineIn("KETTLE", 2)])
    before = invoice_pdf.invoice_pdf(admin_ctx, draft.id)
    assert "HSN/SAC" in pdf_text(before) and not has_colour(before, "#AA3311")

    main = open_main(admin_ctx, area="settings")
    panel = company_panel(qtbot, main)
    panel.tabs.setCurrentIndex(1)  # Invoices
    assert Command.SAVE not in panel.commands()  # nothing changed yet
    panel.accent.edit.setText("#aa3311")
    panel.form.fields["show_hsn"].widget.setChecked(False)
    assert panel.changes() == {"layout": {"accent_colour": "#AA3311", "show_hsn": False}}
    assert Command.SAVE in main.page("settings").commands()
    main.actions_by_command[Command.SAVE].trigger()  # Ctrl+S
    qtbot.waitUntil(lambda: "Saved" in panel.status.text(), timeout=WAIT)

    layout = sales_settings.get_layout(admin_ctx)
    assert layout.accent_colour == "#AA3311" and not layout.show_hsn
    after = invoice_pdf.invoice_pdf(admin_ctx, draft.id)
    assert "HSN/SAC" not in pdf_text(after) and "Electric kettle" in pdf_text(after)
    assert has_colour(after, "#AA3311")
    assert panel.changes() == {} and Command.SAVE not in panel.commands()


def test_a_bad_gstin_is_shown_under_its_field_on_its_tab_and_nothing_is_saved(
        qtbot, admin_ctx, open_main):
    main = open_main(admin_ctx, area="settings")
    panel = company_panel(qtbot, main)
    panel.form.fields["gstin"].widget.setText("29ABCDE1234F1Z9")  # wrong check character
    panel.form.fields["allow_negative_stock"].widget.setChecked(True)
    panel.tabs.setCurrentIndex(3)  # looking at Stock when saving
    panel.save()
    qtbot.waitUntil(lambda: bool(panel.form.field_error("gstin")), timeout=WAIT)
    assert "check character" in panel.form.field_error("gstin")
    assert panel.tabs.currentIndex() == 0  # the Profile tab came forward
    assert panel.form.banner_message == ""
    assert company.get_profile(admin_ctx).gstin == "29ABCDE1234F1Z5"
    assert cs.get_company_settings(admin_ctx).allow_negative_stock is False  # not half saved


def test_a_clerk_sees_the_company_read_only_and_an_employee_not_at_all(
        qtbot, admin_ctx, open_main, company_path, config, device, clock):
    clerk = login_as(admin_ctx, company_path, config, device, clock, "sonia", "sales_clerk")
    try:
        main = open_main(clerk, area="settings")
        panel = company_panel(qtbot, main)
        assert not panel.editable and panel.save_button.isHidden()
        assert not panel.access_note.isHidden()
        assert panel.form.fields["legal_name"].widget.isReadOnly()
        assert panel.form.fields["legal_name"].widget.text() == "Template Traders Pvt Ltd"
        assert not panel.form.fields["show_hsn"].widget.isEnabled()
        assert not panel.form.fields["allow_negative_stock"].widget.isEnabled()
        assert panel.accent.edit.isReadOnly() and not panel.accent.swatch.isEnabled()
        assert panel.logo.choose_button.isHidden()
        assert Command.SAVE not in panel.commands()
        panel.form.fields["legal_name"].widget.setText("Mine now")  # read-only: ignored
        assert panel.save() is None
    finally:
        main.close()
        clerk.close()

    worker = login_as(admin_ctx, company_path, config, device, clock, "ravi", "employee")
    try:
        page = open_main(worker, area="settings").page("settings")
        assert page.company is None and page.tabs.count() == 1
        with pytest.raises(KeyError):
            page.show_company()
    finally:
        worker.close()


def test_preview_opens_a_sample_pdf_with_the_unsaved_choices(qtbot, admin_ctx, open_main,
                                                            monkeypatch):
    shown = []

    class FakePreview:
        def __init__(self, data, *, title, file_name, parent=None):
            shown.append((data, title, file_name))

        def setAttribute(self, *_args):
            pass

        def open(self):
            pass

    monkeypatch.setattr(pdf_preview, "PdfPreviewDialog", FakePreview)
    main = open_main(admin_ctx, area="settings")
    panel = company_panel(qtbot, main)
    panel.tabs.setCurrentIndex(1)
    panel.form.fields["show_hsn"].widget.setChecked(False)
    panel.form.fields["page_format"].widget.setCurrentIndex(
        panel.form.fields["page_format"].widget.findData("LETTER"))
    panel.preview_button.click()
    qtbot.waitUntil(lambda: bool(shown), timeout=WAIT)
    data, title, file_name = shown[0]
    assert title == "Sample invoice"
    assert data.startswith(b"%PDF") and file_name == "sample-invoice.pdf"
    text = pdf_text(data)
    assert "SAMPLE" in text and "HSN/SAC" not in text
    width = float(PdfReader(io.BytesIO(data)).pages[0].mediabox.width)
    assert round(width) == 612  # US Letter
    assert sales_settings.get_layout(admin_ctx).show_hsn  # a preview saves nothing

    panel.accent.edit.setText("#12")  # not a colour: the refusal sits under the field
    main.actions_by_command[Command.PRINT].trigger()
    qtbot.waitUntil(lambda: bool(panel.form.field_error("accent_colour")), timeout=WAIT)
    assert len(shown) == 1


def test_a_change_made_meanwhile_is_a_conflict_with_reload(qtbot, admin_ctx, open_main):
    main = open_main(admin_ctx, area="settings")
    panel = company_panel(qtbot, main)
    sales_settings.set_layout(admin_ctx, accent_colour="#008000")  # another desk, meanwhile
    panel.form.fields["show_discount"].widget.setChecked(False)
    panel.save()
    qtbot.waitUntil(lambda: "Someone else" in panel.form.banner_message, timeout=WAIT)
    assert not panel.form.reload_button.isHidden()
    assert sales_settings.get_layout(admin_ctx).show_discount  # ours was not written
    panel.form.reload_button.click()
    qtbot.waitUntil(lambda: panel.accent.value() == "#008000", timeout=WAIT)
    assert panel.form.fields["show_discount"].widget.isChecked()
    assert "Reloaded" in panel.form.banner_message


def test_choosing_a_logo_previews_it_and_save_stores_it(qtbot, admin_ctx, open_main,
                                                       tmp_path, monkeypatch):
    good = tmp_path / "logo.png"
    Image.new("RGB", (1600, 400), (200, 60, 30)).save(good)
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\0" * (cs.MAX_LOGO_BYTES + 10))
    picked = [str(big), str(good)]
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (picked.pop(0), "")))
    main = open_main(admin_ctx, area="settings")
    panel = company_panel(qtbot, main)
    assert panel.logo.preview.pixmap().isNull()

    panel.logo.choose_button.click()  # too big: refused under the logo
    qtbot.waitUntil(lambda: bool(panel.form.field_error("logo")), timeout=WAIT)
    assert "at most 1 MB" in panel.form.field_error("logo")
    assert "logo" not in panel.changes()

    panel.logo.choose_button.click()
    qtbot.waitUntil(lambda: "logo" in panel.changes(), timeout=WAIT)
    assert not panel.logo.preview.pixmap().isNull()
    panel.save()
    qtbot.waitUntil(lambda: "Saved" in panel.status.text(), timeout=WAIT)
    stored = cs.get_company_settings(admin_ctx).logo_png
    assert stored is not None and Image.open(io.BytesIO(stored)).size == (800, 200)

    panel.logo.remove_button.click()
    assert panel.changes() == {"logo": None}
    panel.save()
    qtbot.waitUntil(lambda: "Saved" in panel.status.text() and not panel.changes(),
                    timeout=WAIT)
    assert cs.get_company_settings(admin_ctx).logo_png is None


def test_the_you_tab_keeps_its_save_and_the_company_tab_takes_its_own(qtbot, admin_ctx,
                                                                      open_main):
    main = open_main(admin_ctx, area="settings")
    page = main.page("settings")
    assert page.tabs.currentWidget() is page.you
    assert page.commands() == {Command.SAVE}  # change password
    panel = company_panel(qtbot, main)
    assert page.delegate_to() is panel and Command.SAVE not in page.commands()
    panel.form.fields["round_off"].widget.setChecked(True)
    assert Command.SAVE in page.commands()
    page.run_command(Command.SAVE)
    qtbot.waitUntil(lambda: "Saved" in panel.status.text(), timeout=WAIT)
    assert sales_settings.get_tax_rounding(admin_ctx).round_off
