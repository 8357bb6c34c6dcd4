"""Admin data tabs: export with Cancel, import with a dry run, a person's report, anonymising."""

from __future__ import annotations

import json
import threading
import zipfile

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from erp_desktop.services import audit, customers, person, purchasing
from erp_desktop.ui import worker
from erp_desktop.ui.data_pages import AnonymiseDialog, ExportTab, ImportTab, PersonTab
from tests.services.data.conftest import build

pytestmark = pytest.mark.ui


@pytest.fixture
def shop(admin_ctx):
    """Books, stock, customers, a vendor with a contact, employees and a posted payroll."""
    build(admin_ctx)
    return admin_ctx


def admin_tab(qtbot, open_main, ctx, name):
    main = open_main(ctx, area="admin")
    page = main.page("admin")
    tab = page.show_tab(name)
    qtbot.wait(0)
    return main, tab


def test_export_to_a_folder_writes_the_file_with_its_manifest_and_verifies(
        qtbot, shop, open_main, tmp_path):
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    _main, tab = admin_tab(qtbot, open_main, shop, "export_data")
    assert isinstance(tab, ExportTab)
    qtbot.waitUntil(lambda: "tables" in tab.scope.text(), timeout=15_000)
    run = tab.start_export(tmp_path)
    assert run.dialog.windowTitle() == "Exporting data"
    qtbot.waitUntil(lambda: tab.run is None, timeout=60_000)
    assert "Exported" in tab.message.text()

    (written,) = list(tmp_path.iterdir())
    assert written.name == "template-traders-pvt-ltd-export-2026-11-02.zip"
    with zipfile.ZipFile(written) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    tables = {t["name"]: t["rows"] for t in manifest["tables"]}
    assert tables["customer"] == 2 and manifest["complete"]
    shown = {r.name: r.rows for r in tab.manifest_model.rows}
    assert shown["customer"] == "2" and len(shown) == len(tables)

    tab.verify()
    qtbot.waitUntil(lambda: tab.verify_task is None, timeout=30_000)
    assert "matches its manifest" in tab.verify_result.text()

    tab.start_export(tmp_path)  # a second export never replaces the first
    qtbot.waitUntil(lambda: tab.run is None, timeout=60_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "template-traders-pvt-ltd-export-2026-11-02-2.zip",
        "template-traders-pvt-ltd-export-2026-11-02.zip"]


def test_cancelling_an_export_leaves_no_file(qtbot, shop, open_main, tmp_path, monkeypatch):
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    reached, release = threading.Event(), threading.Event()
    real_report = worker.CancelToken.report

    def held_report(self, done, total, text=""):
        # The export's first progress report waits here until the test has pressed Cancel.
        if not reached.is_set():
            reached.set()
            assert release.wait(15)
        real_report(self, done, total, text)

    monkeypatch.setattr(worker.CancelToken, "report", held_report)
    _main, tab = admin_tab(qtbot, open_main, shop, "export_data")
    tab.format.setCurrentIndex(tab.format.findData("json"))
    run = tab.start_export(tmp_path)
    assert reached.wait(15)
    cancel = next(b for b in run.dialog.findChildren(QPushButton) if b.text() == "Cancel")
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert run.task.token.cancelled
    release.set()
    qtbot.waitUntil(lambda: "cancelled" in tab.message.text(), timeout=30_000)

    assert list(tmp_path.iterdir()) == []  # neither the export nor a partial file
    assert audit.list_events(shop, action_prefix="data.exported") == []
    assert tab.export_button.isEnabled() and not tab.manifest.isVisible()


def test_a_dry_run_lists_the_bad_row_and_the_good_rows_import_without_it(
        qtbot, shop, open_main, tmp_path):
    source = tmp_path / "customers.csv"
    source.write_text("Customer name,Code,Phone,Payment terms\n"
                      "New Age Traders,NA01,98450 00001,30\n"
                      "Sri Balaji Stores,NA02,,forty\n"
                      "Krishna Agencies,NA03,98450 00003,7\n", encoding="utf-8")
    _main, tab = admin_tab(qtbot, open_main, shop, "import_data")
    assert isinstance(tab, ImportTab)
    tab.set_kind("customers")
    tab.set_file(source)
    qtbot.waitUntil(lambda: tab.header_task is None and tab.mapping.rowCount() == 4,
                    timeout=15_000)
    assert not tab.import_button.isEnabled()  # check the file first
    tab.map_column("Customer name", "name")
    assert tab.mapping_choices() == {"Customer name": "name"}

    tab.dry_run()
    qtbot.waitUntil(lambda: tab.run is None and tab.report is not None, timeout=30_000)
    problems = [(r.line, r.column) for r in tab.problems_model.rows]
    assert problems == [("3", "Payment terms")]
    assert "whole number" in tab.problems_model.rows[0].reason
    assert "1 of 3 rows have problems" in tab.message.text()
    assert not tab.import_button.isEnabled() and tab.skip_button.isEnabled()
    assert customers.list_customers(shop, "Krishna").rows == []  # a dry run writes nothing

    tab.start_import(skip_bad_rows=True)
    qtbot.waitUntil(lambda: tab.run is None and "Imported" in tab.message.text(),
                    timeout=30_000)
    assert "2 created" in tab.message.text()
    assert [c.name for c in customers.list_customers(shop, "Krishna").rows] == \
        ["Krishna Agencies"]
    assert customers.list_customers(shop, "Balaji").rows == []


def test_a_persons_report_is_found_shown_and_saved(qtbot, shop, open_main, tmp_path):
    _main, tab = admin_tab(qtbot, open_main, shop, "person_data")
    assert isinstance(tab, PersonTab)
    tab.set_kind("customer")
    tab.search("meena")
    qtbot.waitUntil(lambda: tab.search_task is None and tab.match is not None, timeout=15_000)
    assert tab.match.name == "Meena Iyer"

    tab.show_report()
    qtbot.waitUntil(lambda: tab.report is not None, timeout=15_000)
    sections = [tab.tree.topLevelItem(i).text(0) for i in range(tab.tree.topLevelItemCount())]
    assert "Customer record" in sections and "Invoices, quotes and drafts" in sections
    assert "Meena Iyer" in tab.report_title.text()

    folder = tmp_path / "for-meena"
    folder.mkdir()
    tab.save_report(folder)
    qtbot.waitUntil(lambda: "Saved" in tab.message.text(), timeout=30_000)
    files = sorted(p.suffix for p in folder.iterdir())
    assert files == [".json", ".pdf"]
    saved = json.loads(next(folder.glob("*.json")).read_text(encoding="utf-8"))
    assert saved["name"] == "Meena Iyer" and saved["kind"] == "customer"
    assert next(folder.glob("*.pdf")).read_bytes().startswith(b"%PDF")


def test_anonymising_asks_for_confirmation_first(qtbot, shop, open_main):
    _main, tab = admin_tab(qtbot, open_main, shop, "person_data")
    tab.set_kind("vendor")
    tab.search("suresh")
    qtbot.waitUntil(lambda: tab.search_task is None and tab.match is not None, timeout=15_000)
    assert tab.match.name == "Suresh Babu"

    dialog = tab.anonymise()
    assert isinstance(dialog, AnonymiseDialog) and dialog.isVisible()
    text = dialog.findChild(object, "consequences").text()
    assert "contact person becomes “Anonymised person" in text and "cannot be undone" in text
    assert not dialog.anonymise_button.isEnabled()
    dialog.anonymise_button.click()  # refused while the box is not ticked
    qtbot.wait(50)
    assert dialog.isVisible()
    dialog.reject()
    qtbot.wait(50)
    vendor = purchasing.get_vendor(shop, tab.match.id)
    assert vendor.contact_person == "Suresh Babu"  # Cancel changed nothing

    dialog = tab.anonymise()
    dialog.confirm.setChecked(True)
    assert dialog.anonymise_button.isEnabled()
    dialog.anonymise_button.click()
    qtbot.waitUntil(lambda: "Anonymised:" in tab.message.text(), timeout=15_000)
    vendor = purchasing.get_vendor(shop, vendor.id)
    assert vendor.contact_person == person.placeholder_for(vendor.id)
    assert vendor.name == "Kaveri Distributors"  # the business stays
