"""Every released schema's sample company file still opens, upgraded, with its books intact."""

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from erp_desktop.services import ledger
from erp_desktop.services.auth import login
from erp_desktop.store import migrate
from erp_desktop.store.company_file import sidecar_paths

DATA = Path(__file__).parents[1] / "data"
SAMPLES = sorted(DATA.glob("company-*.erp"))
PASSWORD = "sample-file-2026"  # tools/make_schema_sample.py


def test_there_is_a_sample_for_the_current_schema():
    assert (DATA / f"company-{migrate.head_revision()}.erp").exists(), (
        "run tools/make_schema_sample.py and commit the file when a schema is released")


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.stem for s in SAMPLES])
def test_sample_opens_upgraded_with_its_books(sample, tmp_path, config, device, clock):
    target = tmp_path / sample.name
    for src, dst in zip(sidecar_paths(sample), sidecar_paths(target), strict=True):
        if src.exists():
            shutil.copyfile(src, dst)
    ctx = login(target, "owner", PASSWORD, config=config, device=device, clock=clock)
    try:
        assert migrate.current_revision(ctx.db.engine) == migrate.head_revision()
        tb = ledger.trial_balance(ctx, date(2026, 11, 30))
        assert tb.total_debit.amount == tb.total_credit.amount == Decimal("150000.00")
    finally:
        ctx.close()
