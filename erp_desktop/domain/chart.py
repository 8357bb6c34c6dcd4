"""The default chart of accounts for a small business.

Codes follow the common 1xxx assets, 2xxx liabilities, 3xxx equity, 4xxx
income, 5xxx-6xxx expenses layout. `system_key` names the accounts that
documents post to automatically (receivables, sales, tax payable ...); a
company may rename or renumber them, never remove them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AccountTemplate:
    code: str
    name: str
    type: str
    parent: str | None = None
    system_key: str | None = None
    is_group: bool = False


SMALL_BUSINESS_CHART: tuple[AccountTemplate, ...] = (
    AccountTemplate("1000", "Assets", "asset", is_group=True),
    AccountTemplate("1100", "Cash in hand", "asset", "1000", "cash"),
    AccountTemplate("1200", "Bank", "asset", "1000", "bank"),
    AccountTemplate("1300", "Accounts receivable", "asset", "1000", "receivables"),
    AccountTemplate("1400", "Inventory", "asset", "1000", "inventory"),
    AccountTemplate("1500", "Tax receivable (input tax)", "asset", "1000", "tax_receivable"),
    AccountTemplate("1600", "Prepaid expenses", "asset", "1000", "prepaid"),
    AccountTemplate("1700", "Employee advances", "asset", "1000", "employee_advances"),
    AccountTemplate("1800", "Furniture and equipment", "asset", "1000", "fixed_assets"),
    AccountTemplate("2000", "Liabilities", "liability", is_group=True),
    AccountTemplate("2100", "Accounts payable", "liability", "2000", "payables"),
    AccountTemplate("2200", "Tax payable (output tax)", "liability", "2000", "tax_payable"),
    AccountTemplate("2300", "Salaries payable", "liability", "2000", "salaries_payable"),
    AccountTemplate("2310", "Payroll deductions payable", "liability", "2000",
                    "payroll_deductions_payable"),
    AccountTemplate("2320", "Expense claims payable", "liability", "2000", "claims_payable"),
    AccountTemplate("2400", "Customer advances and credit", "liability", "2000",
                    "customer_credit"),
    AccountTemplate("2500", "Loans", "liability", "2000", "loans"),
    AccountTemplate("3000", "Equity", "equity", is_group=True),
    AccountTemplate("3100", "Owner's capital", "equity", "3000", "capital"),
    AccountTemplate("3200", "Retained earnings", "equity", "3000", "retained_earnings"),
    AccountTemplate("3300", "Opening balance equity", "equity", "3000", "opening_balance"),
    AccountTemplate("4000", "Income", "income", is_group=True),
    AccountTemplate("4100", "Sales", "income", "4000", "sales"),
    AccountTemplate("4200", "Service income", "income", "4000", "service_income"),
    AccountTemplate("4300", "Other income", "income", "4000", "other_income"),
    AccountTemplate("4400", "Round-off", "income", "4000", "round_off"),
    AccountTemplate("4500", "Sales returns and discounts", "income", "4000", "sales_returns"),
    AccountTemplate("5000", "Cost of sales", "expense", is_group=True),
    AccountTemplate("5100", "Cost of goods sold", "expense", "5000", "cogs"),
    AccountTemplate("5200", "Stock adjustments", "expense", "5000", "stock_adjustment"),
    AccountTemplate("6000", "Operating expenses", "expense", is_group=True),
    AccountTemplate("6100", "Salaries and wages", "expense", "6000", "salaries"),
    AccountTemplate("6200", "Rent", "expense", "6000", "rent"),
    AccountTemplate("6300", "Utilities", "expense", "6000", "utilities"),
    AccountTemplate("6400", "Travel and conveyance", "expense", "6000", "travel"),
    AccountTemplate("6500", "Office expenses", "expense", "6000", "office"),
    AccountTemplate("6600", "Bank charges", "expense", "6000", "bank_charges"),
    AccountTemplate("6700", "Purchases (non-stock)", "expense", "6000", "purchases_expense"),
    AccountTemplate("6900", "Other expenses", "expense", "6000", "other_expenses"),
)
