"""Write tests/data/company-<revision>.erp: a small company file at the current schema.

Run once per released schema revision and commit the two files; the migration
test opens every sample with today's code (see tests/store/test_old_files.py).
"""

import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from erp_desktop.services import ledger
from erp_desktop.services.company import NewAdmin, NewCompany, create_company
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import DeviceInfo
from erp_desktop.store import migrate
from erp_desktop.store.keyfile import FAST_TEST_KDF

PASSWORD = "sample-file-2026"


def main() -> int:
    rev = migrate.head_revision()
    out = Path(__file__).parents[1] / "tests" / "data" / f"company-{rev}.erp"
    config = AppConfig(data_dir=out.parent, backup_dir=out.parent / "backups", kdf=FAST_TEST_KDF,
                       auto_backup=False)
    created = create_company(
        out, NewCompany(legal_name=f"Schema {rev} Sample Ltd", state="Karnataka",
                        state_code="29"),
        NewAdmin("owner", "Sample Owner", PASSWORD),
        config=config, device=DeviceInfo("sample", "any", "0.1.0"),
        clock=lambda: datetime(2026, 11, 22, 12, tzinfo=UTC))
    ctx = created.context
    ledger.post_entry(ctx, date(2026, 11, 1), [
        ledger.LineInput("1200", debit=Decimal("150000.00")),
        ledger.LineInput("3100", credit=Decimal("150000.00"))], "Capital brought in")
    ctx.db.engine.dispose()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
