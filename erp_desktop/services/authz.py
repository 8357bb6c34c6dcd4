"""Permissions (named strings) and the default roles that bundle them.

Every use case asks for exactly one permission through `Context.require`.
Admins can change what a role grants (`services.roles`); the defaults below
are what a new company starts with.
"""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    # company and administration
    "company.view": "See the company profile",
    "company.edit": "Change the company profile, branches and devices",
    "settings.edit": "Change company settings",
    "users.view": "See users",
    "users.manage": "Add, change, reset and disable users",
    "roles.view": "See roles and their permissions",
    "roles.manage": "Change what roles may do",
    "audit.view": "Read the audit log and login events",
    "audit.verify": "Verify the audit chain",
    "backup.create": "Back up the company file",
    "backup.restore": "Restore the company file from a backup",
    "data.export": "Export all data the user may see",
    "data.import": "Import data from files",
    "person.report": "Report all data about a person",
    "person.anonymise": "Anonymise a person on request",
    "retention.apply": "Purge data past its retention period",
    "company.wipe": "Wipe the company from this computer",
    # accounting
    "ledger.view": "See accounts, journal entries and ledger reports",
    "ledger.post": "Post manual journal entries and reversals",
    "ledger.accounts.manage": "Change the chart of accounts",
    "ledger.period.lock": "Lock the books up to a date",
    "ledger.period.override": "Post into a locked period (audited)",
    "reports.financial": "Trial balance, profit and loss, balance sheet",
    # inventory and purchasing
    "inventory.view": "See products, stock and stock reports",
    "inventory.products.manage": "Add and change products",
    "inventory.stock.move": "Receive, transfer and adjust stock, stock-takes",
    "purchases.view": "See vendors, purchase orders and bills",
    "purchases.manage": "Create vendors and purchase orders, receive goods",
    "purchases.bills.post": "Post vendor bills and debit notes",
    "purchases.payments": "Pay vendors",
    # sales
    "sales.view": "See customers, invoices and payments",
    "sales.customers.manage": "Add and change customers",
    "sales.invoice.create": "Create and edit draft invoices and quotes",
    "sales.invoice.issue": "Issue invoices",
    "sales.payment.record": "Take payments",
    "sales.credit_note.issue": "Issue credit notes",
    "sales.reports": "Receivables, ageing, sales register, tax summary",
    # HR and payroll
    "hr.employees.view": "See employees' personal details",
    "hr.employees.manage": "Add and change employees",
    "hr.payroll.view": "See salaries, payroll runs and payslips",
    "hr.payroll.manage": "Change salary structures and run payroll",
    "hr.payroll.post": "Approve and post payroll",
    "hr.payroll.totals": "See posted payroll totals (no personal details)",
    "hr.claims.own": "File and see one's own expense claims and payslips",
    "hr.claims.approve": "Approve or reject reports' expense claims",
    "hr.claims.reimburse": "Reimburse approved expense claims",
}

_VIEW_ALL = {p for p in PERMISSIONS if p.endswith(".view")} | {
    "reports.financial", "sales.reports", "hr.payroll.totals", "audit.verify"}

DEFAULT_ROLES: dict[str, tuple[str, str, frozenset[str]]] = {
    "admin": ("Owner / admin", "Everything, including users, roles and backups",
              frozenset(PERMISSIONS)),
    "accountant": ("Accountant", "Ledger, invoices, bills, payments and reports", frozenset({
        "company.view", "ledger.view", "ledger.post", "ledger.accounts.manage",
        "ledger.period.lock", "reports.financial", "sales.view", "sales.invoice.create",
        "sales.invoice.issue", "sales.payment.record", "sales.credit_note.issue", "sales.reports",
        "sales.customers.manage", "purchases.view", "purchases.bills.post", "purchases.payments",
        "inventory.view", "hr.payroll.totals", "hr.claims.reimburse", "hr.claims.own",
        "data.export", "backup.create"})),
    "sales_clerk": ("Sales clerk", "Sell at the counter and take payments", frozenset({
        "company.view", "sales.view", "sales.customers.manage", "sales.invoice.create",
        "sales.invoice.issue", "sales.payment.record", "inventory.view", "hr.claims.own"})),
    "storekeeper": ("Storekeeper", "Products, stock and receiving goods", frozenset({
        "company.view", "inventory.view", "inventory.products.manage", "inventory.stock.move",
        "purchases.view", "purchases.manage", "hr.claims.own"})),
    "hr_manager": ("HR manager", "Employees, payroll, payslips and expense claims", frozenset({
        "company.view", "hr.employees.view", "hr.employees.manage", "hr.payroll.view",
        "hr.payroll.manage", "hr.payroll.post", "hr.payroll.totals", "hr.claims.own",
        "hr.claims.approve", "person.report", "data.export"})),
    "employee": ("Employee", "Own expense claims and payslips", frozenset({"hr.claims.own"})),
    "auditor": ("Auditor", "Reads everything except personal HR details; changes nothing",
                frozenset(_VIEW_ALL - {"hr.employees.view", "hr.payroll.view"})),
}


def check_permission_names(names: set[str] | frozenset[str]) -> list[str]:
    """Names that are not known permissions (for the role editor and the CLI)."""
    return sorted(n for n in names if n not in PERMISSIONS)
