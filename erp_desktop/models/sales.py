"""Sales: customers, price lists, quotes and invoices, payments, credits, credit notes.

- `Invoice` is a state machine (services.sales holds the transitions):
  quote -> draft -> issued -> partially_paid -> paid; a quote or draft may be
  voided (tombstone). Drafts are edited freely; when issued, the customer
  block, the rates used and every total are copied onto the invoice and its
  lines and never change again (only `paid_minor`/`credited_minor` and the
  status move, as payments and credit notes arrive).
- `DocumentTax` is the frozen tax breakdown (per rate and component) of an
  issued invoice or credit note, dated, so the tax summary reads one covering
  index instead of every line.
- `Payment`, `PaymentAllocation`, `CustomerCredit`, `CreditNote` and its lines
  are posted documents: append-only `Record`s, corrected by reversal.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from erp_desktop.models.base import Base, Entity, Record, money_property

INVOICE_STATUSES = ("quote", "draft", "issued", "partially_paid", "paid", "void")
PAYMENT_METHODS = ("cash", "card", "bank_transfer", "upi", "cheque")


class PriceList(Entity, Base):
    """Selling prices, and whether they include tax (retail) or not (trade)."""

    __tablename__ = "price_list"

    name: Mapped[str] = mapped_column(String(80), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    prices_include_tax: Mapped[bool] = mapped_column(default=False)
    is_default: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)


class PriceListItem(Entity, Base):
    __tablename__ = "price_list_item"
    __table_args__ = (Index(None, "price_list_id", "product_id", unique=True),)

    price_list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("price_list.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    currency: Mapped[str] = mapped_column(String(3))
    price_minor: Mapped[int] = mapped_column(BigInteger)

    price = money_property("price_minor")


class Customer(Entity, Base):
    __tablename__ = "customer"
    __table_args__ = (Index("ix_customer_name_key_id", "name_key", "id"),)

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))  # casefolded, for search and sorting
    is_walk_in: Mapped[bool] = mapped_column(default=False)
    billing_address: Mapped[str | None] = mapped_column(Text)
    shipping_address: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    state_code: Mapped[str | None] = mapped_column(String(8))  # GST state code: place of supply
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    gstin: Mapped[str | None] = mapped_column(String(15))
    vat_id: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    payment_terms_days: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3))
    credit_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    price_list_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("price_list.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)

    credit_limit = money_property("credit_limit_minor")


class Invoice(Entity, Base):
    __tablename__ = "invoice"
    __table_args__ = (
        CheckConstraint("status IN ('quote','draft','issued','partially_paid','paid','void')",
                        name="status"),
        # list pages (newest first) and the sales register, without touching the table
        Index("ix_invoice_date_id", "invoice_date", "id", "status", "number", "customer_id",
              "taxable_minor", "tax_minor", "total_minor"),
        Index("ix_invoice_customer_date", "customer_id", "invoice_date", "id"),
        # ageing: the open invoices, read from the index alone
        Index("ix_invoice_open", "status", "invoice_date", "due_date", "customer_id",
              "total_minor", "paid_minor", "credited_minor", "number", "id"),
    )

    number: Mapped[str | None] = mapped_column(String(40), unique=True)  # given when issued
    status: Mapped[str] = mapped_column(String(16), default="draft")
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"))
    invoice_date: Mapped[date]
    due_date: Mapped[date | None]
    currency: Mapped[str] = mapped_column(String(3))
    price_list_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("price_list.id"))
    prices_include_tax: Mapped[bool] = mapped_column(default=False)
    warehouse_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("warehouse.id"))
    # Customer block and place of supply, copied from the customer (frozen when issued).
    bill_to_name: Mapped[str] = mapped_column(String(200))
    bill_to_address: Mapped[str | None] = mapped_column(Text)
    ship_to_address: Mapped[str | None] = mapped_column(Text)
    bill_to_gstin: Mapped[str | None] = mapped_column(String(15))
    bill_to_vat_id: Mapped[str | None] = mapped_column(String(20))
    place_of_supply: Mapped[str | None] = mapped_column(String(100))
    place_of_supply_code: Mapped[str | None] = mapped_column(String(8))
    inter_state: Mapped[bool] = mapped_column(default=False)
    # The document discount as entered (a percent or an amount).
    discount_percent: Mapped[Decimal | None]
    discount_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    # The company's tax rounding at the time of issue.
    rounding_level: Mapped[str] = mapped_column(String(8), default="line")
    rounding_mode: Mapped[str] = mapped_column(String(10), default="half_up")
    round_off: Mapped[bool] = mapped_column(default=False)
    # Totals (recomputed on every draft change, frozen when issued).
    gross_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    taxable_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    round_off_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # COGS at issue
    notes: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[str | None] = mapped_column(Text)
    # The journal entry is found by its source (source_type "invoice", source_id).
    issued_at: Mapped[datetime | None]
    issued_by: Mapped[uuid.UUID | None]
    device_code: Mapped[str | None] = mapped_column(String(4))
    credit_limit_exceeded: Mapped[bool] = mapped_column(default=False)
    quote_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoice.id"))

    total = money_property("total_minor")

    @property
    def balance_minor(self) -> int:
        return self.total_minor - self.paid_minor - self.credited_minor


class InvoiceLine(Entity, Base):
    __tablename__ = "invoice_line"
    __table_args__ = (Index(None, "invoice_id", "line_no"), Index(None, "product_id"))

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"))
    line_no: Mapped[int]
    product_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("product.id"))
    description: Mapped[str] = mapped_column(Text)
    hsn_sac: Mapped[str | None] = mapped_column(String(10))
    quantity: Mapped[Decimal]
    unit: Mapped[str | None] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(String(3))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    discount_percent: Mapped[Decimal | None]
    discount_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    tax_category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tax_category.id"))
    tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tax_rate.id"))
    # Computed (frozen when issued).
    tax_rate_code: Mapped[str | None] = mapped_column(String(20))
    tax_rate_pct: Mapped[Decimal | None]
    gross_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    line_discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    doc_discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    taxable_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_detail: Mapped[str | None] = mapped_column(Text)  # JSON: components and amounts
    cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # COGS of this line

    unit_price = money_property("unit_price_minor")


class DocumentTax(Record, Base):
    """One rate-and-component row of an issued document's tax breakdown."""

    __tablename__ = "document_tax"
    __table_args__ = (
        Index("ix_document_tax_report", "doc_date", "doc_type", "rate_code", "component_code",
              "taxable_minor", "tax_minor", "doc_id"),
        Index(None, "doc_id"),
    )

    doc_type: Mapped[str] = mapped_column(String(12))  # invoice | credit_note
    doc_id: Mapped[uuid.UUID]
    doc_date: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    rate_code: Mapped[str] = mapped_column(String(20))
    rate_name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(12))
    rate_pct: Mapped[Decimal]
    component_code: Mapped[str | None] = mapped_column(String(12))
    component_name: Mapped[str | None] = mapped_column(String(60))
    component_rate_pct: Mapped[Decimal]
    taxable_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))


class Payment(Record, Base):
    """Money received from a customer, with its receipt number."""

    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("method IN ('cash','card','bank_transfer','upi','cheque')",
                        name="method"),
        CheckConstraint("amount_minor > 0", name="positive"),
        Index(None, "customer_id", "payment_date"),
        Index(None, "payment_date"),
    )

    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"))
    payment_date: Mapped[date]
    method: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(60))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    allocated_minor: Mapped[int] = mapped_column(BigInteger)
    credit_minor: Mapped[int] = mapped_column(BigInteger)  # kept as customer credit
    notes: Mapped[str | None] = mapped_column(Text)
    journal_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_entry.id"))
    device_code: Mapped[str | None] = mapped_column(String(4))

    amount = money_property("amount_minor")


class PaymentAllocation(Record, Base):
    """Part of a payment (or of a customer's credit) settling one invoice."""

    __tablename__ = "payment_allocation"
    __table_args__ = (Index(None, "invoice_id"), Index(None, "payment_id"),
                      Index(None, "allocation_date", "invoice_id", "amount_minor"),
                      CheckConstraint("amount_minor > 0", name="positive"))

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment.id"))
    credit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customer_credit.id"))
    allocation_date: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class CustomerCredit(Record, Base):
    """A movement of a customer's credit: + kept (overpayment, credit note), - used."""

    __tablename__ = "customer_credit"
    __table_args__ = (Index(None, "customer_id", "credit_date"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"))
    credit_date: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # signed
    source_type: Mapped[str] = mapped_column(String(16))  # payment | credit_note | applied
    source_id: Mapped[uuid.UUID]
    memo: Mapped[str | None] = mapped_column(Text)
    journal_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_entry.id"))


class CreditNote(Record, Base):
    """A credit against an issued invoice: reverses its stock, sales and tax."""

    __tablename__ = "credit_note"
    __table_args__ = (Index(None, "invoice_id"), Index(None, "customer_id", "note_date"),
                      Index(None, "note_date"))

    number: Mapped[str] = mapped_column(String(40), unique=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"))
    note_date: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(Text)
    restock: Mapped[bool] = mapped_column(default=True)
    taxable_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    round_off_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    to_invoice_minor: Mapped[int] = mapped_column(BigInteger)  # reduces the invoice's balance
    to_credit_minor: Mapped[int] = mapped_column(BigInteger)  # kept as customer credit
    cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # stock value returned
    journal_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_entry.id"))
    device_code: Mapped[str | None] = mapped_column(String(4))

    total = money_property("total_minor")


class CreditNoteLine(Record, Base):
    __tablename__ = "credit_note_line"
    __table_args__ = (Index(None, "credit_note_id", "line_no"), Index(None, "invoice_line_id"))

    credit_note_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("credit_note.id"))
    invoice_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice_line.id"))
    line_no: Mapped[int]
    product_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("product.id"))
    description: Mapped[str] = mapped_column(Text)
    hsn_sac: Mapped[str | None] = mapped_column(String(10))
    quantity: Mapped[Decimal]
    unit: Mapped[str | None] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(String(3))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    tax_rate_code: Mapped[str | None] = mapped_column(String(20))
    tax_rate_pct: Mapped[Decimal | None]
    taxable_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    tax_detail: Mapped[str | None] = mapped_column(Text)
    cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)
