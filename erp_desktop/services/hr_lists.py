"""Paged lists of the HR area (`services.listing.ListQuery` over SQL).

- `EMPLOYEES`: the employee list of the HR manager (`hr.employees.view`):
  code, name, department, job title, status and joining date; search by
  code, name, department or job title as you type; `status` filter
  ("current", "former", or none for everyone ever employed) and
  `department_id`. No personal details and no pay: those are in
  `services.hr.get_employee` and `services.payroll`.
- `EMPLOYEE_PICKER`: the same rows, fewer columns, for choosing whose salary
  to see (`hr.payroll.view`: payroll staff already see every employee's code,
  name and department in a run).

"Current" means employed on the day the list is read: no leaving date, or a
leaving date today or later. The day comes from the context's clock (a
filter `as_of` may fix it), so "current" agrees with `services.hr` and with
the payroll run. Employees are a short list in a small business (tens to a
few hundred), so every column sorts; only the code has an index of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, or_, select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import ValidationError
from erp_desktop.models.hr import Department, Employee, JobTitle
from erp_desktop.services.context import Context
from erp_desktop.services.list_queries import SqlListQuery, words_match
from erp_desktop.services.listing import Column, ColumnKind, Filters, Sort

CURRENT, FORMER = "current", "former"
STATUSES = (CURRENT, FORMER)


@dataclass(frozen=True)
class EmployeeListRow:
    """A line of the employee list: who and where, never personal details or pay."""

    id: uuid.UUID
    code: str
    full_name: str
    department: str
    job_title: str
    status: str  # "Current", "Leaving" (a leaving date ahead) or "Former"
    hire_date: date
    termination_date: date | None
    active: bool  # employed on the day the list was read
    department_id: uuid.UUID | None
    version: int


class Employees(SqlListQuery):
    """Employees by code; search code, name, department or job title; status filter."""

    name = "employees"
    permission = "hr.employees.view"
    table = Employee.__table__
    columns = (
        Column("code", "Code", sortable=True, width_chars=8),
        Column("full_name", "Name", sortable=True, stretch=True),
        Column("department", "Department", sortable=True, width_chars=11),
        Column("job_title", "Job title", sortable=True, width_chars=13),
        Column("status", "Status", width_chars=7),
        Column("hire_date", "Joined", ColumnKind.DATE, sortable=True, width_chars=10),
    )
    default_sort = Sort("code")

    def from_clause(self) -> FromClause:
        return (Employee.__table__
                .join(Department.__table__, Department.id == Employee.department_id,
                      isouter=True)
                .join(JobTitle.__table__, JobTitle.id == Employee.job_title_id, isouter=True))

    def selected(self) -> Select[Any]:
        return select(Employee.id, Employee.code, Employee.full_name, Employee.hire_date,
                      Employee.termination_date, Employee.department_id, Employee.version,
                      Department.name.label("department"),
                      JobTitle.name.label("job_title")).select_from(self.from_clause())

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"code": (Employee.code,),
                "full_name": (Employee.full_name, Employee.code),
                "department": (Department.name, Employee.code),
                "job_title": (JobTitle.name, Employee.code),
                "hire_date": (Employee.hire_date, Employee.code)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = [Employee.deleted_at.is_(None)]
        out += words_match(filters.words, Employee.code, Employee.full_name, Department.name,
                           JobTitle.name)
        status = filters.get("status")
        if status is not None and status not in STATUSES:
            raise ValidationError("Show current or former employees, or everyone.",
                                  field="status")
        as_of = filters.get("as_of")
        if status is not None and (isinstance(as_of, datetime) or not isinstance(as_of, date)):
            raise ValidationError("The day the list is read for must be a date.",
                                  field="as_of")
        if status == CURRENT:
            out.append(or_(Employee.termination_date.is_(None),
                           Employee.termination_date >= as_of))
        elif status == FORMER:
            out.append(Employee.termination_date < as_of)
        department_id = filters.get("department_id")
        if department_id is not None:
            if not isinstance(department_id, uuid.UUID):
                raise ValidationError("Choose a department from the list.",
                                      field="department_id")
            out.append(Employee.department_id == department_id)
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        return [EmployeeListRow(r.id, r.code, r.full_name, r.department or "",
                                r.job_title or "", "", r.hire_date, r.termination_date, True,
                                r.department_id, r.version) for r in rows]

    # ---- "current" is as of the context's day

    @staticmethod
    def _dated(ctx: Context, filters: Filters) -> Filters:
        if filters.get("as_of") is None:
            return filters.with_extra(as_of=ctx.today())
        return filters

    def count(self, ctx: Context, filters: Filters) -> int:
        ctx.require(self.permission)
        return super().count(ctx, self._dated(ctx, filters))

    def fetch(self, ctx: Context, filters: Filters, sort: Sort, start: int, limit: int,
              total: int | None = None) -> list[Any]:
        ctx.require(self.permission)
        filters = self._dated(ctx, filters)
        rows = super().fetch(ctx, filters, sort, start, limit, total)
        as_of = filters.get("as_of")
        return [_with_status(r, as_of) for r in rows]


def _with_status(row: EmployeeListRow, as_of: date) -> EmployeeListRow:
    left = row.termination_date
    if left is None:
        return replace(row, status="Current", active=True)
    if left >= as_of:
        return replace(row, status="Leaving", active=True)
    return replace(row, status="Former", active=False)


class EmployeePicker(Employees):
    """Code, name and department, for payroll staff choosing an employee."""

    name = "employee_picker"
    permission = "hr.payroll.view"
    columns = (
        Column("code", "Code", sortable=True, width_chars=9),
        Column("full_name", "Name", sortable=True, stretch=True),
        Column("department", "Department", sortable=True, width_chars=12),
    )


EMPLOYEES = Employees()
EMPLOYEE_PICKER = EmployeePicker()
