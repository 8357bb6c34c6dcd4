"""Purchasing: vendors, purchase orders, goods receipts, vendor bills, debit notes
and vendor payments.

A purchase order is a state machine (`services.purchasing.PO_TRANSITIONS`);
each change of state is a `PurchaseOrderEvent` (who, when). Receiving goods
writes a `GoodsReceipt` and its stock moves. Bills are drafts until posted;
once posted their content never changes (the services refuse it) and only
the settlement figures (`paid_minor`, `debited_minor`) move, in the same
transaction as the payment or debit note that moves them. Debit notes and
payments are append-only records.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from erp_desktop.models.base import Base, Entity, Record, money_property

PO_STATUSES = ("draft", "ordered", "partially_received", "received", "cancelled")


class Vendor(Entity, Base):
    __tablename__ = "vendor"
    __table_args__ = (Index("ix_vendor_name_key_id", "name_key", "id"),)

    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))  # casefolded, for sorting and search
    contact_person: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    state_code: Mapped[str | None] = mapped_column(String(8))
    country: Mapped[str | None] = mapped_column(String(2))
    tax_id: Mapped[str | None] = mapped_column(String(40))  # GSTIN, VAT number ...
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    bank_name: Mapped[str | None] = mapped_column(String(120))
    bank_account: Mapped[str | None] = mapped_column(String(40))
    bank_code: Mapped[str | None] = mapped_column(String(20))  # IFSC, IBAN/BIC, routing
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)


class PurchaseOrder(Entity, Base):
    __tablename__ = "purchase_order"
    __table_args__ = (
        CheckConstraint("status IN ('draft','ordered','partially_received','received',"
                        "'cancelled')", name="status"),
        Index(None, "vendor_id", "order_date"),
        Index(None, "status", "order_date"),
    )

    number: Mapped[str] = mapped_column(String(40), unique=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendor.id"))
    order_date: Mapped[date]
    expected_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    warehouse_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("warehouse.id"))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    notes: Mapped[str | None] = mapped_column(Text)

    total = money_property("total_minor")


class PurchaseOrderLine(Entity, Base):
    __tablename__ = "purchase_order_line"
    __table_args__ = (Index(None, "order_id", "line_no"), Index(None, "product_id"))

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_order.id"))
    line_no: Mapped[int]
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal]
    unit_cost_minor: Mapped[int] = mapped_column(BigInteger)
    tax_rate_bp: Mapped[int] = mapped_column(default=0)  # 1800 = 18.00 %
    currency: Mapped[str] = mapped_column(String(3))
    received_qty: Mapped[Decimal] = mapped_column(default=Decimal(0))
    billed_qty: Mapped[Decimal] = mapped_column(default=Decimal(0))

    unit_cost = money_property("unit_cost_minor")


class PurchaseOrderEvent(Record, Base):
    """One change of an order's state: who (`created_by`) moved it, when, from what."""

    __tablename__ = "purchase_order_event"
    __table_args__ = (Index(None, "order_id", "created_at"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_order.id"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)


class GoodsReceipt(Record, Base):
    """Goods received against an order; its stock moves point back here."""

    __tablename__ = "goods_receipt"
    __table_args__ = (Index(None, "order_id"),)

    number: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_order.id"))
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendor.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    receipt_date: Mapped[date]
    vendor_ref: Mapped[str | None] = mapped_column(String(60))  # delivery challan number
    note: Mapped[str | None] = mapped_column(Text)


class VendorBill(Entity, Base):
    __tablename__ = "vendor_bill"
    __table_args__ = (
        CheckConstraint("status IN ('draft','posted','cancelled')", name="status"),
        Index(None, "vendor_id", "bill_date"),
        Index(None, "status", "due_date"),
        Index(None, "order_id"),
    )

    number: Mapped[str | None] = mapped_column(String(40), unique=True)  # given when posted
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendor.id"))
    vendor_ref: Mapped[str | None] = mapped_column(String(60))  # the vendor's invoice number
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("purchase_order.id"))
    warehouse_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("warehouse.id"))
    bill_date: Mapped[date]
    due_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="draft")
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    debited_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # by debit notes
    notes: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None]
    posted_by: Mapped[uuid.UUID | None]
    journal_entry_id: Mapped[uuid.UUID | None]

    total = money_property("total_minor")


class VendorBillLine(Entity, Base):
    """A stock line (product, received into a warehouse) or an expense line (account)."""

    __tablename__ = "vendor_bill_line"
    __table_args__ = (Index(None, "bill_id", "line_no"),)

    bill_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendor_bill.id"))
    line_no: Mapped[int]
    product_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("product.id"))
    order_line_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("purchase_order_line.id"))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal]
    unit_cost_minor: Mapped[int] = mapped_column(BigInteger)
    tax_rate_bp: Mapped[int] = mapped_column(default=0)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    returned_qty: Mapped[Decimal] = mapped_column(default=Decimal(0))  # by debit notes


class DebitNote(Record, Base):
    """Corrects a posted bill: goods returned (or an amount taken back) and its entry."""

    __tablename__ = "debit_note"
    __table_args__ = (Index(None, "bill_id"), Index(None, "vendor_id", "note_date"))

    number: Mapped[str] = mapped_column(String(40), unique=True)
    bill_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendor_bill.id"))
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendor.id"))
    note_date: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    journal_entry_id: Mapped[uuid.UUID | None]

    total = money_property("total_minor")


class DebitNoteLine(Record, Base):
    __tablename__ = "debit_note_line"
    __table_args__ = (Index(None, "debit_note_id"),)

    debit_note_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("debit_note.id"))
    bill_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendor_bill_line.id"))
    product_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("product.id"))
    warehouse_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("warehouse.id"))
    quantity: Mapped[Decimal]
    unit_cost_minor: Mapped[int] = mapped_column(BigInteger)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class VendorPayment(Record, Base):
    __tablename__ = "vendor_payment"
    __table_args__ = (
        CheckConstraint("method IN ('bank','cash')", name="method"),
        CheckConstraint("amount_minor > 0", name="positive"),
        Index(None, "vendor_id", "payment_date"),
    )

    number: Mapped[str] = mapped_column(String(40), unique=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendor.id"))
    payment_date: Mapped[date]
    method: Mapped[str] = mapped_column(String(8))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str | None] = mapped_column(String(60))  # cheque / UTR number
    journal_entry_id: Mapped[uuid.UUID | None]

    amount = money_property("amount_minor")


class VendorPaymentAllocation(Record, Base):
    """How much of a payment settles which bill."""

    __tablename__ = "vendor_payment_allocation"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="positive"),
        Index(None, "payment_id"),
        Index(None, "bill_id"),
    )

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendor_payment.id"))
    bill_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendor_bill.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
