"""The HR area's paged lists: employees (and the payroll picker), on a staffed company file."""

from __future__ import annotations

from datetime import date

import pytest

from erp_desktop.domain.errors import PermissionDenied, ValidationError
from erp_desktop.services import audit
from erp_desktop.services import hr_lists as hl
from erp_desktop.services.listing import Filters, ListSource, Sort
from tests.services.hr.conftest import terminate_farah


def every_row(source, filters=Filters(), sort=None, page=2):
    sort = sort or source.default_sort
    total = source.count(filters)
    out = []
    for start in range(0, total, page):
        out += source.fetch(filters, sort, start, page, total)
    return out


def codes(rows) -> list[str]:
    return [r.code for r in rows]


@pytest.fixture
def employees(world):
    terminate_farah(world)  # EMP-006 left on 20 Oct 2026; the clock says 2 Nov 2026
    return ListSource(hl.EMPLOYEES, world.admin)


def test_current_former_and_everyone_are_counted_as_of_today(employees):
    assert employees.count(Filters()) == 6
    assert employees.count(Filters.of(status="current")) == 5
    assert employees.count(Filters.of(status="former")) == 1
    [farah] = employees.fetch(Filters.of(status="former"), Sort("code"), 0, 10)
    assert (farah.code, farah.full_name, farah.status, farah.active) == \
        ("EMP-006", "Farah Khan", "Former", False)
    assert farah.termination_date == date(2026, 10, 20)


def test_a_leaving_date_ahead_still_counts_as_current(employees):
    before = Filters.of(status="current", as_of=date(2026, 10, 15))
    assert employees.count(before) == 6
    rows = employees.fetch(before, Sort("code"), 0, 10)
    assert {r.code: r.status for r in rows}["EMP-006"] == "Leaving"
    assert all(r.active for r in rows)


def test_rows_name_department_and_job_title_but_nothing_personal(employees):
    rows = employees.fetch(Filters(), Sort("code"), 0, 3)
    first = rows[0]
    assert (first.code, first.full_name, first.department, first.job_title, first.status,
            first.hire_date) == ("EMP-001", "Meera Pillai", "Sales", "Sales manager", "Current",
                                 date(2021, 6, 1))
    fields = set(type(first).__dataclass_fields__)
    assert not fields & {"tax_id", "bank_account_number", "email", "phone", "address",
                         "date_of_birth"}


def test_pages_forwards_and_backwards_give_the_same_rows(employees):
    everyone = codes(every_row(employees))
    assert everyone == [f"EMP-00{i}" for i in range(1, 7)]
    total = len(everyone)
    # The far end of the list is read backwards from the end; the rows are the same.
    assert codes(employees.fetch(Filters(), Sort("code"), 4, 2, total)) == everyone[4:]
    assert codes(employees.fetch(Filters(), Sort("code"), 4, 2)) == everyone[4:]
    assert codes(employees.fetch(Filters(), Sort("code", descending=True), 0, 2, total)) == \
        ["EMP-006", "EMP-005"]


def test_sorting_by_name_department_and_joining_date(employees):
    by_name = every_row(employees, sort=Sort("full_name"))
    assert [r.full_name for r in by_name] == sorted(r.full_name for r in by_name)
    newest = employees.fetch(Filters(), Sort("hire_date", descending=True), 0, 2)
    assert codes(newest) == ["EMP-005", "EMP-006"]  # Oct 2026, then Jan 2025
    by_dept = every_row(employees, sort=Sort("department"))
    assert [r.department for r in by_dept] == ["Accounts", "HR and admin", "Sales", "Sales",
                                               "Sales", "Stores"]
    assert codes(by_dept)[2:5] == ["EMP-001", "EMP-002", "EMP-006"]  # ties by code
    with pytest.raises(ValidationError, match="cannot be sorted by Status"):
        employees.fetch(Filters(), Sort("status"), 0, 10)


def test_search_as_you_type_matches_code_name_department_and_title(employees):
    assert codes(every_row(employees, Filters.of("meera"))) == ["EMP-001"]
    assert codes(every_row(employees, Filters.of("sales"))) == ["EMP-001", "EMP-002",
                                                                 "EMP-006"]
    assert codes(every_row(employees, Filters.of("sales associate"))) == ["EMP-002",
                                                                           "EMP-006"]
    assert codes(every_row(employees, Filters.of("emp-004"))) == ["EMP-004"]
    assert codes(every_row(employees, Filters.of("sales", status="current"))) == \
        ["EMP-001", "EMP-002"]
    assert employees.count(Filters.of("nobody-by-this-name")) == 0
    assert employees.count(Filters.of("100%_")) == 0  # wildcards are searched as text


def test_department_filter(world, employees):
    stores = Filters.of(department_id=world.depts["Stores"])
    assert codes(employees.fetch(stores, Sort("code"), 0, 10)) == ["EMP-005"]
    with pytest.raises(ValidationError, match="department"):
        employees.count(Filters.of(department_id="Stores"))


def test_a_bad_status_filter_is_refused(employees):
    with pytest.raises(ValidationError) as caught:
        employees.count(Filters.of(status="retired"))
    assert caught.value.field == "status"
    with pytest.raises(ValidationError):
        employees.count(Filters.of(status="current", as_of="2026-11-02"))


@pytest.mark.parametrize("login", ["ravi", "priya", "kiran", "dev"])
def test_without_hr_permission_the_employee_list_is_refused_and_audited(world, login):
    ctx = world.login(login)
    source = ListSource(hl.EMPLOYEES, ctx)
    with pytest.raises(PermissionDenied):
        source.count(Filters())
    with pytest.raises(PermissionDenied):
        source.fetch(Filters(), Sort("code"), 0, 10)
    denials = [e for e in audit.list_events(world.admin, action_prefix="permission.denied")
               if e.actor_name == login]
    assert [e.details["permission"] for e in denials] == ["hr.employees.view"] * 2


def test_the_payroll_picker_is_for_payroll_staff(world):
    picker = ListSource(hl.EMPLOYEE_PICKER, world.login("anita"))
    rows = picker.fetch(Filters.of("kiran", status="current"), Sort("code"), 0, 10)
    assert [(r.code, r.full_name, r.department) for r in rows] == \
        [("EMP-002", "Kiran Rao", "Sales")]
    assert [c.key for c in picker.columns] == ["code", "full_name", "department"]
    for login in ("ravi", "priya", "kiran"):
        with pytest.raises(PermissionDenied):
            ListSource(hl.EMPLOYEE_PICKER, world.login(login)).count(Filters())
