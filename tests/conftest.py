"""Shared fixtures: a template company file made once, copied per test.

Creating a company runs migrations and seeds roles and the chart of accounts;
copying the finished files is much faster, and each test gets its own file.
Tests use the fastest argon2 parameters (one test in tests/store checks the
real ones) and a fixed device.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import Context, DeviceInfo
from erp_desktop.store.company_file import sidecar_paths
from erp_desktop.store.keyfile import FAST_TEST_KDF

ADMIN = "owner"
ADMIN_PASSWORD = "correct horse battery"


class FakeClock:
    """A clock the test moves by hand (throttling, retention, dates)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now = self.now + timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def device() -> DeviceInfo:
    return DeviceInfo(host="till-1", os="TestOS 1.0", app_version="0.1.0")


def make_config(root: Path) -> AppConfig:
    return AppConfig(data_dir=root / "data", backup_dir=root / "backups", kdf=FAST_TEST_KDF,
                     cache_kib=8 * 1024)


@pytest.fixture
def config(tmp_path: Path) -> AppConfig:
    return make_config(tmp_path)


@pytest.fixture(scope="session")
def template_company(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    from erp_desktop.services.company import NewAdmin, NewCompany, create_company

    root = tmp_path_factory.mktemp("template")
    path = root / "Template Traders.erp"
    created = create_company(
        path,
        NewCompany(legal_name="Template Traders Pvt Ltd", country="IN", base_currency="INR",
                   tax_regime="gst", state="Karnataka", state_code="29",
                   gstin="29ABCDE1234F1Z5"),
        NewAdmin(ADMIN, "Asha Owner", ADMIN_PASSWORD, "asha@example.com"),
        config=make_config(root), device=DeviceInfo("till-1", "TestOS 1.0", "0.1.0"))
    created.context.close()
    return path, created.recovery_passphrase


@pytest.fixture
def company_path(template_company: tuple[Path, str], tmp_path: Path) -> Path:
    src, _ = template_company
    dst = tmp_path / "Acme Traders.erp"
    for s, d in zip(sidecar_paths(src), sidecar_paths(dst), strict=True):
        if s.exists():
            shutil.copyfile(s, d)
    return dst


@pytest.fixture
def recovery_passphrase(template_company: tuple[Path, str]) -> str:
    return template_company[1]


@pytest.fixture
def admin_ctx(company_path: Path, config: AppConfig, device: DeviceInfo,
              clock: FakeClock) -> Iterator[Context]:
    from erp_desktop.services.auth import login

    ctx = login(company_path, ADMIN, ADMIN_PASSWORD, config=config, device=device, clock=clock)
    yield ctx
    ctx.close()
