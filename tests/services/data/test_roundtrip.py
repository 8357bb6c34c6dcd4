"""The business moves house: export to JSON, restore into a new company file, and the
trial balance, stock valuation and payroll totals are the same on the other side."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from erp_desktop.domain.errors import PermissionDenied, ValidationError, WrongPassword
from erp_desktop.models.ledger import JournalLine
from erp_desktop.services import (
    audit,
    auth,
    catalogue,
    customers,
    export,
    hr,
    inventory,
    ledger,
    payroll,
    users,
)
from erp_desktop.services.company import NewAdmin, NewCompany, create_company
from erp_desktop.services.context import Context
from erp_desktop.services.data_import import import_json_export
from tests.conftest import ADMIN
from tests.services.data.conftest import World

NEW_PASSWORD = "new home 2027 strong"


def new_company(world: World, tmp_path: Path, login: str = ADMIN) -> Context:
    created = create_company(
        tmp_path / "Moved Traders.erp",
        NewCompany(legal_name="Moved Traders", country="IN", base_currency="INR",
                   tax_regime="gst", state="Karnataka", state_code="29"),
        NewAdmin(login, "Asha Owner", NEW_PASSWORD, None),
        config=world.config, device=world.device, clock=world.clock)
    return created.context


def figures(ctx: Context) -> dict[str, object]:
    tb = ledger.trial_balance(ctx, date(2026, 12, 31))
    return {
        "trial_balance": [(r.code, r.debit, r.credit) for r in tb.rows],
        "tb_total": (tb.total_debit, tb.total_credit),
        "valuation": [(r.sku, r.warehouse_code, r.quantity, r.value)
                      for r in inventory.valuation(ctx).rows],
        "stock_value": inventory.valuation(ctx).total_value,
        "payroll": [(r.period, r.status, r.number, r.gross, r.deductions, r.net)
                    for r in payroll.list_runs(ctx)],
        "customers": sorted(c.name for c in customers.list_customers(ctx).rows),
    }


def test_the_company_round_trips_through_a_json_export(world: World, tmp_path: Path):
    before = figures(world.admin)
    assert before["payroll"] and before["valuation"] and before["trial_balance"]
    exported = export.export_data(world.admin, "json", tmp_path / "everything.json")
    target = new_company(world, tmp_path)
    result = import_json_export(target, exported.path)
    target.close()
    assert result.relogin_required  # "owner" came with the export, under its old id
    assert set(result.users_without_password) == {"anita", "priya", "ravi", "sunil"}

    moved = auth.login(tmp_path / "Moved Traders.erp", ADMIN, NEW_PASSWORD,
                       config=world.config, device=world.device, clock=world.clock)
    try:
        assert figures(moved) == before
        # Ids kept, documents and people came along; derived data was rebuilt.
        emp = hr.get_employee(moved, world.ids.emp["EMP-001"])
        assert emp.full_name == "Meera Pillai"
        assert catalogue.search_products(moved, "kettle")[0].sku == "KETTLE"
        assert inventory.verify_stock(moved).ok
        with moved.db.read() as s:
            assert s.scalar(select(func.count()).select_from(JournalLine)) == \
                _count_lines(world.admin)
        # The new file keeps its own audit trail, and it verifies.
        assert audit.verify(moved).ok
        # Other users exist but need a password from an admin first.
        with pytest.raises(WrongPassword):
            auth.login(tmp_path / "Moved Traders.erp", "anita", "staff-pass-2026!",
                       config=world.config, device=world.device, clock=world.clock)
        users.reset_password(moved, world.ids.users["anita"], "fresh start 2027 ok")
        anita = auth.login(tmp_path / "Moved Traders.erp", "anita", "fresh start 2027 ok",
                           config=world.config, device=world.device, clock=world.clock)
        anita.close()
        # Posting goes on from the moved number series, without gaps or repeats.
        entry = ledger.post_entry(moved, date(2026, 11, 2),
                                  [ledger.LineInput("6500", debit="100"),
                                   ledger.LineInput("1100", credit="100")])
        assert entry.number.endswith("000002")
    finally:
        moved.close()


def _count_lines(ctx: Context) -> int:
    with ctx.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(JournalLine)) or 0)


def test_the_restoring_admin_keeps_their_login_when_the_export_lacks_it(world: World,
                                                                        tmp_path: Path):
    exported = export.export_data(world.admin, "json", tmp_path / "everything.json")
    target = new_company(world, tmp_path, login="newboss")
    result = import_json_export(target, exported.path)
    target.close()
    assert not result.relogin_required
    moved = auth.login(tmp_path / "Moved Traders.erp", "newboss", NEW_PASSWORD,
                       config=world.config, device=world.device, clock=world.clock)
    try:
        assert moved.actor.role_name == "admin"
        assert figures(moved)["stock_value"] == figures(world.admin)["stock_value"]
    finally:
        moved.close()


def test_only_a_new_empty_company_file_is_restored_into(world: World, tmp_path: Path):
    exported = export.export_data(world.admin, "json", tmp_path / "everything.json")
    with pytest.raises(ValidationError, match="only into a new, empty company file"):
        import_json_export(world.admin, exported.path)
    assert figures(world.admin)["payroll"]  # untouched


def test_an_incomplete_export_is_not_restored(world: World, tmp_path: Path):
    partial = export.export_data(world.login("anita"), "json", tmp_path / "hr-only.json")
    target = new_company(world, tmp_path)
    try:
        with pytest.raises(ValidationError, match="could not see every table"):
            import_json_export(target, partial.path)
    finally:
        target.close()


def test_a_tampered_export_is_refused_and_nothing_is_written(world: World, tmp_path: Path):
    exported = export.export_data(world.admin, "json", tmp_path / "everything.json")
    text = exported.path.read_text(encoding="utf-8")
    tampered = tmp_path / "tampered.json"
    tampered.write_text(text.replace('"Meena Iyer"', '"Meena Iyar"', 1), encoding="utf-8")
    target = new_company(world, tmp_path)
    try:
        with pytest.raises(ValidationError, match="does not match its checksum"):
            import_json_export(target, tampered)
        assert customers.list_customers(target).rows == [] or \
            "Meena Iyer" not in {c.name for c in customers.list_customers(target).rows}
        assert _count_lines(target) == 0
        cut = tmp_path / "cut.json"
        cut.write_text(text[: len(text) // 2], encoding="utf-8")
        with pytest.raises(ValidationError, match="damaged or not a complete export"):
            import_json_export(target, cut)
        other = tmp_path / "other.json"
        other.write_text(json.dumps({"format": "something", "data": {}}), encoding="utf-8")
        with pytest.raises(ValidationError, match="not an erp_desktop JSON export"):
            import_json_export(target, other)
    finally:
        target.close()


def test_restoring_needs_import_and_restore_rights(world: World, tmp_path: Path):
    exported = export.export_data(world.admin, "json", tmp_path / "everything.json")
    with pytest.raises(PermissionDenied):
        import_json_export(world.login("priya"), exported.path)
