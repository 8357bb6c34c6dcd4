"""A small trading company with books, stock, a sale, a vendor and a posted payroll.

Built once per session through the services a person would use (it takes a
few seconds); each test gets its own copy. The clock stands at 2 November
2026; October 2026's payroll is posted.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from erp_desktop.services import (
    auth,
    catalogue,
    customers,
    hr,
    inventory,
    ledger,
    payroll,
    purchasing,
    sales,
    taxes,
    users,
)
from erp_desktop.services.catalogue import ProductInput
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import Context, DeviceInfo
from erp_desktop.services.inventory import ReceiptLine
from erp_desktop.store.company_file import sidecar_paths
from tests.conftest import ADMIN, ADMIN_PASSWORD, FakeClock, make_config

PASSWORD = "staff-pass-2026!"
LOGINS = {  # login -> (full name, role)
    "ravi": ("Ravi Kumar", "sales_clerk"),
    "anita": ("Anita Desai", "hr_manager"),
    "priya": ("Priya Nair", "accountant"),
    "sunil": ("Sunil Gowda", "storekeeper"),
}
APRIL = date(2026, 4, 1)
PDF_BYTES = b"%PDF-1.4\n% a scanned contract\n" + b"x" * 200


def structure(basic: int, special: int) -> list[payroll.StructureLineInput]:
    return [payroll.StructureLineInput("BASIC", Decimal(basic)),
            payroll.StructureLineInput("HRA"),
            payroll.StructureLineInput("SPECIAL", Decimal(special)),
            payroll.StructureLineInput("PF"),
            payroll.StructureLineInput("PT", Decimal(200))]


@dataclass
class Ids:
    emp: dict[str, uuid.UUID] = field(default_factory=dict)  # code -> id
    customers: dict[str, uuid.UUID] = field(default_factory=dict)  # name -> id
    vendor: uuid.UUID | None = None
    users: dict[str, uuid.UUID] = field(default_factory=dict)  # login -> id


def build(admin: Context) -> Ids:
    ids = Ids()
    for login, (name, role) in LOGINS.items():
        ids.users[login] = users.add_user(admin, login, name, PASSWORD, role,
                                          email=f"{login}@example.com").id
    taxes.seed_default_taxes(admin)
    inventory.create_warehouse(admin, "MAIN", "Main store")
    catalogue.create_product(admin, ProductInput(
        sku="TV55", name="55-inch LED TV", sale_price="40000.00", purchase_price="30000.00",
        tax_category="GST18", hsn_sac="8528"))
    catalogue.create_product(admin, ProductInput(
        sku="KETTLE", name="Electric kettle 1.5 l", sale_price="1000.00",
        purchase_price="600.00", tax_category="GST18", hsn_sac="8516"))
    inventory.receive_stock(admin, "MAIN", [ReceiptLine("TV55", 5, "30000.00"),
                                            ReceiptLine("KETTLE", 20, "600.50")],
                            move_date=date(2026, 10, 1))
    ids.customers["Lakshmi Stores"] = customers.create_customer(
        admin, "Lakshmi Stores", billing_address="12 MG Road", city="Bengaluru",
        state="Karnataka", gstin="29AAKCS4821M1ZS", payment_terms_days=30).id
    ids.customers["Meena Iyer"] = customers.create_customer(
        admin, "Meena Iyer", billing_address="7 Temple Street, Mysuru", state="Karnataka",
        email="meena.iyer@example.com", phone="98450 11111").id
    ids.vendor = purchasing.create_vendor(admin, purchasing.VendorInput(
        "Kaveri Distributors", contact_person="Suresh Babu", email="suresh@kaveri.example",
        phone="98800 22222", tax_id="29AABCK1234L1Z5")).id
    sales.sell(admin, [sales.LineIn("KETTLE", 2)], customer=ids.customers["Meena Iyer"],
               invoice_date=date(2026, 10, 20), payment_method="cash")
    ledger.post_entry(admin, date(2026, 10, 5), [ledger.LineInput("6200", debit="85000"),
                                                 ledger.LineInput("1200", credit="85000")],
                      "Rent for October")
    payroll.ensure_standard_components(admin)
    dept = hr.add_department(admin, "Sales").id
    ids.emp["EMP-001"] = hr.add_employee(
        admin, "EMP-001", "Meera Pillai", date(2021, 6, 1), department_id=dept,
        email="meera@example.com", tax_id="AFZPP4417K", bank_account_number="50100234567812",
        bank_ifsc="HDFC0001234", date_of_birth=date(1990, 5, 17)).id
    ids.emp["EMP-002"] = hr.add_employee(
        admin, "EMP-002", "Kiran Rao", date(2024, 3, 11), department_id=dept,
        phone="90000 33333", bank_account_number="002301554521", bank_ifsc="ICIC0000023").id
    hr.add_employee_document(admin, ids.emp["EMP-002"], "contract.pdf", PDF_BYTES, "contract")
    hr.link_user(admin, ids.emp["EMP-002"], "ravi")
    payroll.set_salary_structure(admin, ids.emp["EMP-001"], APRIL, structure(40000, 12000))
    payroll.set_salary_structure(admin, ids.emp["EMP-002"], APRIL, structure(30000, 8000))
    payroll.start_run(admin, "2026-10")
    payroll.submit_run(admin, "2026-10")
    payroll.approve_run(admin, "2026-10")
    payroll.post_run(admin, "2026-10")
    return ids


def copy_company(src: Path, dst: Path) -> Path:
    for s, d in zip(sidecar_paths(src), sidecar_paths(dst), strict=True):
        if s.exists():
            shutil.copyfile(s, d)
    return dst


@dataclass(frozen=True)
class Template:
    path: Path
    ids: Ids


@pytest.fixture(scope="session")
def data_template(template_company: tuple[Path, str],
                  tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("data_template")
    path = copy_company(template_company[0], root / "Data Template.erp")
    admin = auth.login(path, ADMIN, ADMIN_PASSWORD, config=make_config(root),
                       device=DeviceInfo("till-1", "TestOS 1.0", "0.1.0"), clock=FakeClock())
    try:
        ids = build(admin)
    finally:
        admin.close()
    return Template(path, ids)


@dataclass
class World:
    path: Path
    config: AppConfig
    device: DeviceInfo
    clock: FakeClock
    admin: Context
    ids: Ids
    ctxs: dict[str, Context] = field(default_factory=dict)

    def login(self, login: str) -> Context:
        if login not in self.ctxs:
            self.ctxs[login] = auth.login(self.path, login, PASSWORD, config=self.config,
                                          device=self.device, clock=self.clock)
        return self.ctxs[login]

    def close(self) -> None:
        for ctx in self.ctxs.values():
            ctx.close()
        self.admin.close()


@pytest.fixture
def world(data_template: Template, tmp_path: Path, config: AppConfig, device: DeviceInfo,
          clock: FakeClock) -> Iterator[World]:
    path = copy_company(data_template.path, tmp_path / "Data Traders.erp")
    admin = auth.login(path, ADMIN, ADMIN_PASSWORD, config=config, device=device, clock=clock)
    w = World(path, config, device, clock, admin, data_template.ids)
    yield w
    w.close()
