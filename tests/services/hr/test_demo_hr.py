"""The demo's people and payroll: six months computed as worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from erp_desktop.domain.money import Money
from erp_desktop.services import auth, claims, demo, hr, ledger, payroll
from erp_desktop.services.context import Context, DeviceInfo
from erp_desktop.services.demo_hr import DemoHr, demo_hr
from tests.conftest import FakeClock, make_config

DEVICE = DeviceInfo("till-1", "TestOS 1.0", "0.1.0")


def inr(text: str) -> Money:
    return Money(D(text), "INR")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, DemoHr | None]:
    root = tmp_path_factory.mktemp("demo_hr")
    info = demo.create_demo_company(root / demo.DEMO_FILE_NAME, config=make_config(root),
                                    device=DEVICE, clock=FakeClock())
    ctx = auth.login(info.path, demo.OWNER_LOGIN, demo.DEMO_USERS[0].password,
                     config=make_config(root), device=DEVICE, clock=FakeClock())
    try:
        # Once services.demo runs this step itself, the demo already has its staff.
        result = None if hr.list_employees(ctx, include_former=True) else demo_hr(ctx)
    finally:
        ctx.close()
    return info.path, root, result


def login(built, name: str) -> Context:
    path, root, _ = built
    password = next(u.password for u in demo.DEMO_USERS if u.login == name)
    return auth.login(path, name, password, config=make_config(root), device=DEVICE,
                      clock=FakeClock())


@pytest.fixture(scope="module")
def owner(built) -> Iterator[Context]:
    ctx = login(built, demo.OWNER_LOGIN)
    yield ctx
    ctx.close()


def slip_of(ctx: Context, month: str, code: str) -> payroll.PayslipView:
    row = next(s for s in payroll.list_payslips(ctx, month) if s.employee_code == code)
    return payroll.get_payslip(ctx, row.id)


def test_staff_runs_and_claims(owner, built):
    assert len(hr.list_employees(owner, include_former=True)) == 16
    assert len(hr.list_employees(owner)) == 15  # Venkatesh left in August
    runs = {r.period: r.status for r in payroll.list_runs(owner)}
    assert runs == {"2026-05": "paid", "2026-06": "paid", "2026-07": "paid", "2026-08": "paid",
                    "2026-09": "paid", "2026-10": "review"}
    states = {c.status for c in claims.list_claims(owner)}
    assert states == {"submitted", "approved", "rejected", "reimbursed", "in_payroll",
                      "paid_in_payroll"}
    anita = login(built, "anita")
    try:
        assert {c.status for c in claims.list_my_claims(anita)} == {"draft"}
    finally:
        anita.close()


def test_kiran_after_his_july_raise(owner):
    # Basic 13,000, HRA 5,200, special 3,200 = 21,400; PF 12 % of 13,000 = 1,560 (under the
    # cap); no professional tax below 25,000 a month. Net 19,840.
    view = slip_of(owner, "2026-07", "SE-007")
    assert {e.code: e.amount for e in view.earnings} == {
        "BASIC": inr("13000"), "HRA": inr("5200"), "SPECIAL": inr("3200")}
    assert view.gross == inr("21400") and view.net == inr("19840")
    # Year to date from April: May and June at the old salary (12,000 + 4,800 + 3,000 =
    # 19,800 each) plus July: 61,000.
    assert view.ytd_gross == inr("61000")


def test_pooja_joins_mid_june(owner):
    # Joins 15 June: paid 16 of 30 days. Basic 11,000 x 16/30 = 5,866.67; HRA 2,346.67;
    # special 2,500 x 16/30 = 1,333.33; gross 9,546.67; PF 12 % of 5,866.67 = 704.00.
    view = slip_of(owner, "2026-06", "SE-014")
    assert (view.days_paid, view.days_in_month) == (D(16), 30)
    assert view.gross == inr("9546.67") and view.total_deductions == inr("704.00")
    assert view.net == inr("8842.67")


def test_venkatesh_leaves_on_the_20th_of_august(owner):
    # 20 of 31 days: basic 6,774.19; HRA 2,709.68; conveyance 1,032.26; special 1,483.87;
    # gross 12,000.00; PF 812.90; net 11,187.10. He is not on September's payroll.
    view = slip_of(owner, "2026-08", "SE-013")
    assert view.gross == inr("12000.00") and view.net == inr("11187.10")
    assert "SE-013" not in {s.employee_code for s in payroll.list_payslips(owner, "2026-09")}


def test_unpaid_leave_one_offs_and_a_claim_in_the_october_run(owner):
    detail = payroll.get_run(owner, "2026-10")
    rows = {e.employee_code: e for e in detail.entries}
    kiran = rows["SE-007"]  # 1 unpaid day of 31, and the festival bonus
    assert kiran.days_paid == D(30)
    assert {ln.code for ln in kiran.lines} >= {"BONUS"}
    irfan = {ln.code: ln.amount for ln in rows["SE-009"].lines}
    assert irfan["LOAN"] == inr("1000")
    sunil = {ln.code: ln.amount for ln in rows["SE-008"].lines}
    assert sunil["REIMB"] == inr("1240")  # his packing-material claim, paid with the salary
    assert detail.totals.employee_count == 15  # Naveen joined in September


def test_the_books_balance_and_the_advance_is_recovered(owner):
    tb = ledger.trial_balance(owner, date(2026, 10, 31))
    assert tb.balanced
    advances = next((r for r in tb.rows if r.code == "1700"), None)
    # 3,000 lent in July; 1,000 recovered in August and September (October is in review).
    assert advances is not None and advances.debit == inr("1000")
    salaries_payable = next((r for r in tb.rows if r.code == "2300"), None)
    assert salaries_payable is None  # every posted month was paid
