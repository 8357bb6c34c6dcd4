"""A small company with staff, logins for every default role and salary structures.

`build_world` runs through the services a person would use. `world` gives each
test its own copy; `shared_world` is built once per module for the read-mostly
access matrix (whose tests only add audit events).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from erp_desktop.services import auth, hr, payroll, users
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import Context, DeviceInfo
from erp_desktop.store.company_file import sidecar_paths
from tests.conftest import ADMIN, ADMIN_PASSWORD, FakeClock, make_config

PASSWORD = "staff-pass-2026!"
# login -> (full name, role)
LOGINS = {
    "anita": ("Anita Desai", "hr_manager"),
    "kiran": ("Kiran Rao", "employee"),
    "meera": ("Meera Pillai", "employee"),
    "priya": ("Priya Nair", "accountant"),
    "ravi": ("Ravi Kumar", "sales_clerk"),
    "sunil": ("Sunil Gowda", "storekeeper"),
    "dev": ("Dev Malhotra", "auditor"),
}
APRIL = date(2026, 4, 1)


def structure(basic: int, special: int, tds: int = 0) -> list[payroll.StructureLineInput]:
    lines = [payroll.StructureLineInput("BASIC", Decimal(basic)),
             payroll.StructureLineInput("HRA"),
             payroll.StructureLineInput("SPECIAL", Decimal(special)),
             payroll.StructureLineInput("PF"),
             payroll.StructureLineInput("PT", Decimal(200))]
    if tds:
        lines.append(payroll.StructureLineInput("TDS", Decimal(tds)))
    return lines


@dataclass
class World:
    path: Path
    config: AppConfig
    device: DeviceInfo
    clock: FakeClock
    admin: Context
    ctxs: dict[str, Context] = field(default_factory=dict)
    emp: dict[str, uuid.UUID] = field(default_factory=dict)  # code -> id
    depts: dict[str, uuid.UUID] = field(default_factory=dict)

    def login(self, login: str) -> Context:
        if login not in self.ctxs:
            self.ctxs[login] = auth.login(self.path, login, PASSWORD, config=self.config,
                                          device=self.device, clock=self.clock)
        return self.ctxs[login]

    def close(self) -> None:
        for ctx in self.ctxs.values():
            ctx.close()
        self.admin.close()


def build_world(path: Path, config: AppConfig, device: DeviceInfo, clock: FakeClock) -> World:
    admin = auth.login(path, ADMIN, ADMIN_PASSWORD, config=config, device=device, clock=clock)
    w = World(path, config, device, clock, admin)
    for login, (name, role) in LOGINS.items():
        users.add_user(admin, login, name, PASSWORD, role)
    for name in ("Sales", "Stores", "Accounts", "HR and admin"):
        w.depts[name] = hr.add_department(admin, name).id
    titles = {t: hr.add_job_title(admin, t).id for t in
              ("Sales manager", "Sales associate", "HR manager", "Accountant", "Storekeeper")}
    payroll.ensure_standard_components(admin)

    def add(code: str, name: str, dept: str, title: str, hired: date, **extra: object) -> None:
        row = hr.add_employee(admin, code, name, hired, department_id=w.depts[dept],
                              job_title_id=titles[title], **extra)
        w.emp[code] = row.id

    add("EMP-001", "Meera Pillai", "Sales", "Sales manager", date(2021, 6, 1),
        tax_id="AFZPP4417K", bank_account_number="50100234567812", bank_ifsc="HDFC0001234",
        bank_name="HDFC Bank", email="meera@example.com")
    add("EMP-002", "Kiran Rao", "Sales", "Sales associate", date(2024, 3, 11),
        manager_id=w.emp["EMP-001"], tax_id="BKRPR7788L", social_id="100987654321",
        bank_account_number="002301554521", bank_ifsc="ICIC0000023", bank_name="ICICI Bank",
        date_of_birth=date(1998, 2, 14), address="14, 3rd Cross, Jayanagar, Bengaluru")
    add("EMP-003", "Anita Desai", "HR and admin", "HR manager", date(2022, 1, 3),
        bank_account_number="1234567890", bank_ifsc="SBIN0001234")
    add("EMP-004", "Priya Nair", "Accounts", "Accountant", date(2023, 7, 17),
        bank_account_number="9988776655", bank_ifsc="UTIB0000456")
    add("EMP-005", "Vikram Joshi", "Stores", "Storekeeper", date(2026, 10, 10),
        bank_account_number="5566778899", bank_ifsc="KKBK0000789")
    add("EMP-006", "Farah Khan", "Sales", "Sales associate", date(2025, 1, 6),
        manager_id=w.emp["EMP-001"])  # no bank account: paid another way
    for login, code in (("meera", "EMP-001"), ("kiran", "EMP-002"), ("anita", "EMP-003"),
                        ("priya", "EMP-004")):
        hr.link_user(admin, w.emp[code], login)
    payroll.set_salary_structure(admin, w.emp["EMP-001"], APRIL, structure(40000, 12000, 2500))
    payroll.set_salary_structure(admin, w.emp["EMP-002"], APRIL, structure(30000, 8000))
    payroll.set_salary_structure(admin, w.emp["EMP-003"], APRIL, structure(35000, 10000, 1500))
    payroll.set_salary_structure(admin, w.emp["EMP-004"], APRIL, structure(32000, 9000, 1000))
    payroll.set_salary_structure(admin, w.emp["EMP-005"], date(2026, 10, 1),
                                 structure(30000, 8000))
    payroll.set_salary_structure(admin, w.emp["EMP-006"], APRIL, structure(12000, 3000))
    return w


def copy_company(src: Path, dst: Path) -> Path:
    for s, d in zip(sidecar_paths(src), sidecar_paths(dst), strict=True):
        if s.exists():
            shutil.copyfile(s, d)
    return dst


@dataclass(frozen=True)
class Template:
    path: Path
    emp: dict[str, uuid.UUID]
    depts: dict[str, uuid.UUID]


@pytest.fixture(scope="session")
def hr_template(template_company: tuple[Path, str],
                tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The staffed company built once; tests get copies (building it takes a second)."""
    root = tmp_path_factory.mktemp("hr_template")
    path = copy_company(template_company[0], root / "HR Template.erp")
    w = build_world(path, make_config(root), DeviceInfo("till-1", "TestOS 1.0", "0.1.0"),
                    FakeClock())
    w.close()
    return Template(path, dict(w.emp), dict(w.depts))


def open_world(template: Template, path: Path, config: AppConfig, device: DeviceInfo,
               clock: FakeClock) -> World:
    copy_company(template.path, path)
    admin = auth.login(path, ADMIN, ADMIN_PASSWORD, config=config, device=device, clock=clock)
    return World(path, config, device, clock, admin, emp=dict(template.emp),
                 depts=dict(template.depts))


@pytest.fixture
def world(hr_template: Template, tmp_path: Path, config: AppConfig, device: DeviceInfo,
          clock: FakeClock) -> Iterator[World]:
    w = open_world(hr_template, tmp_path / "Staffed Traders.erp", config, device, clock)
    yield w
    w.close()


def terminate_farah(w: World) -> None:
    emp = hr.get_employee(w.admin, w.emp["EMP-006"])
    hr.terminate_employee(w.admin, emp.id, emp.version, date(2026, 10, 20), "Moved to Pune")


def post_october(w: World) -> payroll.RunTotals:
    """October 2026: Vikram joins on the 10th, Farah leaves on the 20th, Kiran takes 2 days."""
    terminate_farah(w)
    payroll.start_run(w.admin, "2026-10")
    payroll.set_unpaid_leave(w.admin, "2026-10", w.emp["EMP-002"], 2)
    payroll.submit_run(w.admin, "2026-10")
    payroll.approve_run(w.admin, "2026-10")
    return payroll.post_run(w.admin, "2026-10")


@pytest.fixture(scope="module")
def shared_world(hr_template: Template,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("hr_shared")
    clock = FakeClock(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
    w = open_world(hr_template, root / "Shared HR.erp", make_config(root),
                   DeviceInfo("till-1", "TestOS 1.0", "0.1.0"), clock)
    post_october(w)
    payroll.start_run(w.admin, "2026-11")  # a draft month, not for accountants' eyes
    yield w
    w.close()
