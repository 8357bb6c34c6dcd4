"""The demo company's sales step on a real demo file (slow: builds the whole demo)."""

from __future__ import annotations

from datetime import date

import pytest

from erp_desktop.services import audit, demo, demo_sales, ledger, sales


@pytest.mark.slow
def test_demo_sales_builds_a_season_of_business(tmp_path, config, device):
    # The demo's own sales step, swapped for one that keeps what it made.
    found: dict[str, demo_sales.DemoSales] = {}
    steps = [(name, step) if step is not demo_sales.demo_step else
             (name, lambda c, i: found.setdefault("out", demo_sales.demo_sales(c)))
             for name, step in demo.STEPS]
    assert any("stock" in name for name, _ in steps)  # the inventory the sales sell from
    original = demo.STEPS
    demo.STEPS = steps
    try:
        info = demo.create_demo_company(tmp_path / "demo.erp", config=config, device=device)
    finally:
        demo.STEPS = original
    from erp_desktop.services import auth

    ctx = auth.login(info.path, info.owner_login, demo.DEMO_USERS[0].password, config=config,
                     device=device)
    try:
        out = found.get("out")
        if out is not None:
            assert len(out.invoices) >= 140 and len(out.credit_notes) == 3
            assert out.credit_limit_warnings == 1
        listed = list(sales.iter_invoices(ctx, demo_sales.FIRST_DAY, demo_sales.LAST_DAY))
        statuses = {r.status for r in listed}
        assert {"paid", "partially_paid", "issued", "quote", "draft"} <= statuses
        assert ledger.trial_balance(ctx, date(2026, 11, 30)).balanced
        ageing = sales.ageing(ctx, date(2026, 11, 15))
        assert ageing.totals.total.amount > 0 and ageing.totals.d1_30.amount > 0
        with ctx.db.read() as s:
            assert audit.verify_chain(s).ok
    finally:
        ctx.close()
