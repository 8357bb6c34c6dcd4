"""The demo company: Sharma Electronics & Home opens for every demo login, and its books add up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from erp_desktop.domain.errors import StoreError, WrongPassword
from erp_desktop.domain.gstin import state_code_of, validate_gstin
from erp_desktop.domain.passwords import check_password
from erp_desktop.services import auth, company, demo, ledger, users
from erp_desktop.services.authz import DEFAULT_ROLES
from erp_desktop.services.context import Context, DeviceInfo
from erp_desktop.store.company_file import sidecar_paths
from tests.conftest import FakeClock, make_config

DEVICE = DeviceInfo("till-1", "TestOS 1.0", "0.1.0")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[demo.DemoInfo, Path]:
    root = tmp_path_factory.mktemp("demo")
    info = demo.create_demo_company(root / demo.DEMO_FILE_NAME, config=make_config(root),
                                    device=DEVICE, clock=FakeClock())
    return info, root


@pytest.fixture
def owner(built) -> Iterator[Context]:
    info, root = built
    ctx = auth.login(info.path, demo.OWNER_LOGIN, demo.DEMO_USERS[0].password,
                     config=make_config(root), device=DEVICE, clock=FakeClock())
    yield ctx
    ctx.close()


def test_the_demo_is_sharma_electronics_in_bengaluru(owner):
    profile = company.get_profile(owner)
    assert profile.trade_name == "Sharma Electronics & Home"
    assert (profile.city, profile.state, profile.state_code) == ("Bengaluru", "Karnataka", "29")
    assert profile.base_currency == "INR" and profile.tax_regime == "gst"
    assert profile.fiscal_year_start_month == 4
    assert profile.gstin is not None and profile.gstin.startswith("29")


def test_the_gstin_is_valid_for_karnataka():
    gstin = demo.DEMO_PROFILE.gstin
    assert gstin is not None
    assert validate_gstin(gstin) == gstin  # format and check character
    assert state_code_of(gstin) == demo.DEMO_PROFILE.state_code == "29"


def test_there_is_a_demo_login_for_every_default_role():
    assert {u.role for u in demo.DEMO_USERS} == set(DEFAULT_ROLES)
    for u in demo.DEMO_USERS:
        check_password(u.password, u.login)  # what a real user would have to pass


@pytest.mark.parametrize("user", demo.DEMO_USERS, ids=lambda u: u.login)
def test_every_demo_user_can_log_in_with_their_role(built, user):
    info, root = built
    ctx = auth.login(info.path, user.login, user.password, config=make_config(root),
                     device=DEVICE, clock=FakeClock())
    try:
        assert ctx.actor.role_name == user.role
        assert ctx.actor.full_name == user.full_name
    finally:
        ctx.close()


def test_a_wrong_demo_password_is_refused(built):
    info, root = built
    with pytest.raises(WrongPassword):
        auth.login(info.path, "priya", demo.DEMO_USERS[0].password, config=make_config(root),
                   device=DEVICE, clock=FakeClock())


def test_the_users_list_matches_the_demo_logins(owner):
    listed = {(u.login_name, u.role_name, u.active) for u in users.list_users(owner)}
    assert listed == {(u.login, u.role, True) for u in demo.DEMO_USERS}


def test_the_trial_balance_nets_to_zero_and_is_not_empty(owner):
    tb = ledger.trial_balance(owner, demo.LAST_DAY)
    assert tb.balanced
    assert tb.total_debit.amount > 1_000_000
    codes = {row.code for row in tb.rows}
    assert {"1100", "1200", "3100", "4100", "5100", "6200"} <= codes


def test_profit_and_loss_and_balance_sheet_show_a_trading_business(owner):
    pnl = ledger.profit_and_loss(owner, demo.FIRST_DAY, demo.LAST_DAY)
    assert pnl.total_income.amount > 0 and pnl.total_expense.amount > 0
    assert 0 < pnl.net_profit.amount < pnl.total_income.amount  # profitable, not absurdly
    bs = ledger.balance_sheet(owner, demo.LAST_DAY)
    assert bs.balanced


def test_the_bank_never_goes_overdrawn(owner):
    for code in ("1100", "1200"):
        pages = ledger.iter_general_ledger(owner, code, demo.FIRST_DAY, demo.LAST_DAY)
        assert min(r.running_balance.amount for p in pages for r in p.rows) >= 0


def test_entries_are_dated_inside_the_demo_period(owner, built):
    info, _ = built
    page = ledger.list_entries(owner, limit=5000)
    manual = [e for e in page.rows if e.source_type == "journal"]
    assert len(manual) >= info.journal_entries > 20  # later steps add a few by hand
    assert len(page.rows) > len(manual)  # payroll and claims post their own entries
    assert min(e.entry_date for e in page.rows) == demo.FIRST_DAY
    assert max(e.entry_date for e in page.rows) <= demo.LAST_DAY
    assert all(e.entry_date.year == 2026 for e in page.rows)


def test_the_demo_has_two_branches(built):
    info, _ = built
    assert info.branches == ["Head office, Jayanagar", "Indiranagar store"]


def test_the_demo_is_never_built_over_an_existing_file(built, tmp_path):
    info, _ = built
    before = info.path.read_bytes()
    with pytest.raises(StoreError):
        demo.create_demo_company(info.path, config=make_config(tmp_path), device=DEVICE)
    assert info.path.read_bytes() == before


def test_a_failed_step_leaves_no_half_built_file(tmp_path, monkeypatch):
    def broken(ctx: Context, info: demo.DemoInfo) -> None:
        raise RuntimeError("the power went")

    monkeypatch.setattr(demo, "STEPS", [*demo.STEPS[:1], ("broken", broken)])
    path = tmp_path / "half.erp"
    with pytest.raises(RuntimeError):
        demo.create_demo_company(path, config=make_config(tmp_path), device=DEVICE)
    assert not any(p.exists() for p in sidecar_paths(path))


def test_the_demo_books_are_the_same_every_time(tmp_path, owner):
    """Fixed dates and amounts: a second demo has the very same trial balance."""
    again = tmp_path / "again.erp"
    demo.create_demo_company(again, config=make_config(tmp_path), device=DEVICE)
    ctx = auth.login(again, demo.OWNER_LOGIN, demo.DEMO_USERS[0].password,
                     config=make_config(tmp_path), device=DEVICE)
    try:
        as_of = date(2027, 3, 31)
        assert ledger.trial_balance(ctx, as_of).rows == ledger.trial_balance(owner, as_of).rows
    finally:
        ctx.close()
