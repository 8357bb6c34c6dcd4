"""Printing and saving invoices, credit notes and payment receipts as PDF.

The use cases read what a document shows (`services.sales` views, the
company profile, the invoice layout settings), turn it into the plain data
`documents.invoice` renders, and audit every export. Rendering happens
outside the write lock; only the short audit write takes it.

A batch (a date range, optionally one customer or status) streams through the
invoices with keyset paging in a read session per page, lays them out one
after another in this process (never a process per invoice), and reports
`progress(done, total)` and honours `cancelled()` between invoices: into one
PDF (each invoice numbering its own pages) or one file per invoice.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from erp_desktop.documents.base import CompanyHeader, money_text
from erp_desktop.documents.invoice import (
    Cancelled,
    InvoiceDoc,
    InvoiceOptions,
    LineDoc,
    PartyDoc,
    ReceiptDoc,
    ReceiptLineDoc,
    TaxRowDoc,
    TotalDoc,
    date_text,
    quantity_text,
    render_invoice,
    render_invoices,
    render_receipt,
)
from erp_desktop.domain.errors import DiskProblem, ValidationError
from erp_desktop.domain.words import amount_in_words
from erp_desktop.models.company import Company
from erp_desktop.models.sales import Invoice
from erp_desktop.services import audit, sales
from erp_desktop.services.context import Context
from erp_desktop.services.sales_settings import InvoiceLayout, read_layout
from erp_desktop.store.atomic import write_atomic

BATCH_PAGE = 200
PAGE_FORMATS = ("A4", "LETTER", "THERMAL")


@dataclass(frozen=True)
class BatchResult:
    count: int  # invoices rendered
    files: list[Path] = field(default_factory=list)
    cancelled: bool = False


# --------------------------------------------------------------------------- building docs


def company_header(company: Company) -> CompanyHeader:
    address = [x for x in (company.address,
                           " ".join(y for y in (company.city, company.postal_code) if y) or None,
                           company.state) if x]
    ids = []
    if company.gstin:
        ids.append(f"GSTIN {company.gstin}")
    if company.vat_id:
        ids.append(f"VAT {company.vat_id}")
    if company.other_tax_id:
        ids.append(company.other_tax_id)
    return CompanyHeader(legal_name=company.legal_name, trade_name=company.trade_name,
                         address_lines=tuple(address),
                         tax_line="  ·  ".join(ids) or None, phone=company.phone,
                         email=company.email, logo_png=company.logo_png)


def _options(layout: InvoiceLayout, page_format: str | None) -> InvoiceOptions:
    fmt = (page_format or layout.page_format).upper()
    if fmt not in PAGE_FORMATS:
        raise ValidationError(f"The paper is one of {', '.join(PAGE_FORMATS)}.",
                              field="page_format")
    return InvoiceOptions(page_format=fmt, accent_colour=layout.accent_colour,
                          show_logo=layout.show_logo, show_hsn=layout.show_hsn,
                          show_discount=layout.show_discount,
                          show_bank_details=layout.show_bank_details,
                          show_signature=layout.show_signature)


def _pct(rate: Decimal | None) -> str:
    if rate is None:
        return ""
    return f"{rate.normalize():f}%"


def _tax_label(code: str | None, kind: str, rate: Decimal | None) -> str:
    if kind == "exempt":
        return "Exempt"
    if kind == "zero_rated":
        return "Zero-rated"
    return _pct(rate)


def _party(name: str, address: str | None, gstin: str | None, vat_id: str | None,
           contact: str | None) -> PartyDoc:
    ids = tuple(x for x in (f"GSTIN {gstin}" if gstin else None,
                            f"VAT {vat_id}" if vat_id else None) if x)
    return PartyDoc(name=name, address_lines=tuple((address or "").splitlines()),
                    tax_ids=ids, contact=contact)


def _place(name: str | None, code: str | None) -> str:
    if name and code:
        return f"{name} ({code})"
    return name or code or "-"


def _title(status: str, regime: str) -> tuple[str, str | None]:
    if status == "quote":
        return "QUOTATION", None
    if status == "draft":
        return "DRAFT INVOICE", "DRAFT: not a valid invoice until issued"
    if status == "void":
        return "INVOICE", "VOID: this draft was deleted"
    return ("TAX INVOICE" if regime == "gst" else "INVOICE"), None


def _status(v: sales.InvoiceView, locale: str) -> tuple[str | None, bool]:
    if not v.is_issued:
        return None, False
    cur = v.currency
    if v.status == "paid":
        if v.credited and not v.paid:
            return "Settled by credit note", False
        parts = [f"{s.number} ({sales.METHOD_LABELS.get(s.method or '', 'credit')})"
                 if s.kind == "payment" else s.number for s in v.settlements]
        return "PAID" + (f": {', '.join(parts)}" if parts else ""), False
    text = f"Balance due {money_text(v.balance.amount, cur, locale)}"
    if v.due_date:
        text += f" by {date_text(v.due_date, locale)}"
    if v.paid or v.credited:
        done = (v.paid + v.credited).amount
        text = f"Partly paid ({money_text(done, cur, locale)} received)  ·  " + text
    return text, True


def invoice_doc(company: Company, layout: InvoiceLayout, v: sales.InvoiceView,
                page_format: str | None = None) -> InvoiceDoc:
    """The printable form of an invoice, quote or draft."""
    locale = company.locale
    title, warning = _title(v.status, company.tax_regime)
    number = v.number or ("Quote" if v.status == "quote" else "Draft")
    details: list[tuple[str, str]] = [
        ("Quote date" if v.status == "quote" else "Invoice date",
         date_text(v.invoice_date, locale))]
    if v.due_date and v.status != "quote":
        details.append(("Due date", date_text(v.due_date, locale)))
    if company.tax_regime == "gst":
        details.append(("Place of supply", _place(v.place_of_supply, v.place_of_supply_code)))
        details.append(("Supply", "Inter-state" if v.inter_state else "Intra-state"))
    details.append(("Customer code", v.customer_code))
    if v.prices_include_tax:
        details.append(("Prices", "include tax"))
    lines = tuple(LineDoc(
        no=ln.line_no, description=ln.description, hsn_sac=ln.hsn_sac,
        quantity=quantity_text(ln.quantity), unit=ln.unit, unit_price=ln.unit_price.amount,
        discount=ln.discount.amount,
        tax_rate=_tax_label(ln.tax_rate_code, _kind(v, ln.tax_rate_code), ln.tax_rate),
        tax=ln.tax.amount, amount=ln.total.amount) for ln in v.lines)
    tax_rows = tuple(TaxRowDoc(
        label=t.component_name or t.rate_name, rate=_pct(t.component_rate)
        if t.component_code else "-", taxable=t.taxable.amount, tax=t.tax.amount)
        for t in v.tax_lines)
    totals: list[TotalDoc] = []
    if v.discount:
        totals.append(TotalDoc("Amount before discount" + (
            " (incl. tax)" if v.prices_include_tax else ""), v.gross.amount))
        totals.append(TotalDoc("Discount", -v.discount.amount))
    totals.append(TotalDoc("Taxable value", v.taxable.amount, strong=True))
    by_comp: dict[str, Decimal] = {}
    for t in v.tax_lines:
        if t.component_code and t.tax:
            by_comp[t.component_name or t.component_code] = by_comp.get(
                t.component_name or t.component_code, Decimal(0)) + t.tax.amount
    totals += [TotalDoc(name, amount) for name, amount in by_comp.items()]
    if v.round_off:
        totals.append(TotalDoc("Round off", v.round_off.amount))
    status, overdue = _status(v, locale)
    terms = v.terms or layout.default_terms or None
    return InvoiceDoc(
        title=title, number=number, company=company_header(company),
        customer=_party(v.bill_to_name, v.bill_to_address, v.bill_to_gstin, v.bill_to_vat_id,
                        v.customer_phone),
        currency=v.currency, locale=locale, details=tuple(details), lines=lines,
        tax_rows=tax_rows, totals=tuple(totals), grand_total=v.total.amount,
        amount_in_words=amount_in_words(v.total.amount, v.currency),
        ship_to=tuple(v.ship_to_address.splitlines())
        if v.ship_to_address and v.ship_to_address != v.bill_to_address else (),
        status=status, status_warning=overdue, warning=warning, notes=v.notes, terms=terms,
        bank_details=layout.bank_details or None, signature_label=layout.signature_label,
        footer_note=f"{company.trade_name or company.legal_name}  ·  {title.title()} {number}",
        options=_options(layout, page_format),
        subject=f"{title.title()} {number} to {v.bill_to_name}, "
                f"{date_text(v.invoice_date, locale)}")


def _kind(v: sales.InvoiceView, rate_code: str | None) -> str:
    for t in v.tax_lines:
        if t.rate_code == rate_code:
            return t.kind
    return "gst"


def credit_note_doc(company: Company, layout: InvoiceLayout, cn: sales.CreditNoteView,
                    page_format: str | None = None) -> InvoiceDoc:
    locale = company.locale
    details: list[tuple[str, str]] = [
        ("Date", date_text(cn.note_date, locale)),
        ("Against invoice", cn.invoice_number),
        ("Invoice date", date_text(cn.invoice_date, locale))]
    if company.tax_regime == "gst":
        details.append(("Place of supply", _place(cn.place_of_supply,
                                                  cn.place_of_supply_code)))
    if cn.reason:
        details.append(("Reason", cn.reason))
    kinds = {t.rate_code: t.kind for t in cn.tax_lines}
    def discount(ln: sales.CreditNoteLineRow) -> Decimal:
        # what the invoice's discounts took off these units: gross less the credited value
        gross = (ln.quantity * ln.unit_price.amount).quantize(ln.total.amount)
        value = ln.total.amount if cn.prices_include_tax else ln.taxable.amount
        return max(gross - value, Decimal(0))

    lines = tuple(LineDoc(
        no=ln.line_no, description=ln.description, hsn_sac=ln.hsn_sac,
        quantity=quantity_text(ln.quantity), unit=ln.unit, unit_price=ln.unit_price.amount,
        discount=discount(ln), tax_rate=_tax_label(None, kinds.get(_rate_code(cn, ln), "gst"),
                                                   ln.tax_rate),
        tax=ln.tax.amount, amount=ln.total.amount) for ln in cn.lines)
    tax_rows = tuple(TaxRowDoc(t.component_name or t.rate_name,
                               _pct(t.component_rate) if t.component_code else "-",
                               t.taxable.amount, t.tax.amount) for t in cn.tax_lines)
    totals = [TotalDoc("Taxable value", cn.taxable.amount, strong=True)]
    by_comp: dict[str, Decimal] = {}
    for t in cn.tax_lines:
        if t.component_code and t.tax:
            key = t.component_name or t.component_code
            by_comp[key] = by_comp.get(key, Decimal(0)) + t.tax.amount
    totals += [TotalDoc(k, a) for k, a in by_comp.items()]
    if cn.round_off:
        totals.append(TotalDoc("Round off", cn.round_off.amount))
    parts = []
    if cn.to_invoice:
        parts.append(f"{money_text(cn.to_invoice.amount, cn.currency, locale)} reduces "
                     f"{cn.invoice_number}")
    if cn.to_credit:
        parts.append(f"{money_text(cn.to_credit.amount, cn.currency, locale)} kept as credit")
    return InvoiceDoc(
        title="CREDIT NOTE", number=cn.number, company=company_header(company),
        customer=_party(cn.bill_to_name, cn.bill_to_address, cn.bill_to_gstin, None, None),
        currency=cn.currency, locale=locale, details=tuple(details), lines=lines,
        tax_rows=tax_rows, totals=tuple(totals), grand_total=cn.total.amount,
        amount_in_words=amount_in_words(cn.total.amount, cn.currency),
        status="  ·  ".join(parts) or None, bank_details=None,
        signature_label=layout.signature_label,
        footer_note=f"{company.trade_name or company.legal_name}  ·  Credit note {cn.number}",
        options=_options(layout, page_format),
        subject=f"Credit note {cn.number} against {cn.invoice_number}")


def _rate_code(cn: sales.CreditNoteView, ln: sales.CreditNoteLineRow) -> str | None:
    for t in cn.tax_lines:
        if ln.components and t.component_code == ln.components[0].code:
            return t.rate_code
    return None


def receipt_doc(company: Company, layout: InvoiceLayout, p: sales.PaymentView,
                page_format: str | None = None) -> ReceiptDoc:
    locale = company.locale
    details = [("Date", date_text(p.payment_date, locale)),
               ("Method", sales.METHOD_LABELS.get(p.method, p.method))]
    if p.reference:
        details.append(("Reference", p.reference))
    lines = [ReceiptLineDoc(f"Invoice {a.invoice_number}", a.amount.amount)
             for a in p.allocations]
    if p.kept_as_credit:
        lines.append(ReceiptLineDoc("Kept as credit on account", p.kept_as_credit.amount))
    return ReceiptDoc(
        number=p.number, company=company_header(company),
        customer=PartyDoc(p.customer_name), currency=p.amount.currency, locale=locale,
        details=tuple(details), lines=tuple(lines), amount=p.amount.amount,
        amount_in_words=amount_in_words(p.amount.amount, p.amount.currency),
        footer_note=f"{company.trade_name or company.legal_name}  ·  Receipt {p.number}",
        options=_options(layout, page_format))


def _company(s: Session) -> Company:
    company = s.scalars(select(Company)).first()
    if company is None:
        raise ValidationError("This company file has no company profile.")
    return company


# --------------------------------------------------------------------------- use cases


def _audit_export(ctx: Context, action: str, entity: str, entity_id: object,
                  details: dict[str, object]) -> None:
    with ctx.db.write(ctx.actor.user_id) as s:
        audit.record(s, ctx, action, entity=entity, entity_id=entity_id, details=details)


def invoice_pdf(ctx: Context, invoice: uuid.UUID | str, *,
                page_format: str | None = None) -> bytes:
    """An invoice (quote, draft) as PDF bytes, in the company's layout; audited."""
    ctx.require("sales.view")
    with ctx.db.read() as s:
        v = sales.invoice_view_in_session(s, invoice)
        doc = invoice_doc(_company(s), read_layout(s), v, page_format)
    data = render_invoice(doc)
    _audit_export(ctx, "sales.pdf_exported", "invoice", v.id,
                  {"number": v.number, "status": v.status,
                   "format": doc.options.page_format})
    return data


def credit_note_pdf(ctx: Context, credit_note: uuid.UUID | str, *,
                    page_format: str | None = None) -> bytes:
    ctx.require("sales.view")
    with ctx.db.read() as s:
        cn = sales.credit_note_view_in_session(s, credit_note)
        doc = credit_note_doc(_company(s), read_layout(s), cn, page_format)
    data = render_invoice(doc)
    _audit_export(ctx, "sales.pdf_exported", "credit_note", cn.id,
                  {"number": cn.number, "format": doc.options.page_format})
    return data


def receipt_pdf(ctx: Context, payment: uuid.UUID | str, *,
                page_format: str | None = None) -> bytes:
    """The payment receipt handed to the customer."""
    ctx.require("sales.view")
    with ctx.db.read() as s:
        p = sales.payment_view_in_session(s, payment)
        doc = receipt_doc(_company(s), read_layout(s), p, page_format)
    data = render_receipt(doc)
    _audit_export(ctx, "sales.pdf_exported", "payment", p.id,
                  {"number": p.number, "format": doc.options.page_format})
    return data


def file_name(number: str) -> str:
    """INV/2026-27/A/000042 -> INV-2026-27-A-000042.pdf (safe on every file system)."""
    return re.sub(r"[^\w.-]+", "-", number).strip("-") + ".pdf"


def _filter(stmt: object, date_from: date, date_to: date, customer_id: uuid.UUID | None,
            status: str | None, search: str = "") -> object:
    stmt = stmt.where(Invoice.invoice_date >= date_from,  # type: ignore[attr-defined]
                      Invoice.invoice_date <= date_to, Invoice.number.is_not(None),
                      Invoice.status.in_(sales.ISSUED_STATUSES))
    if customer_id is not None:
        stmt = stmt.where(Invoice.customer_id == customer_id)  # type: ignore[attr-defined]
    if status:
        stmt = stmt.where(Invoice.status == status)  # type: ignore[attr-defined]
    if search.strip():
        from erp_desktop.services.sales_lists import invoice_search

        stmt = stmt.where(*invoice_search(search))  # type: ignore[attr-defined]
    return stmt


def _batch_docs(ctx: Context, date_from: date, date_to: date, customer_id: uuid.UUID | None,
                status: str | None, page_format: str | None,
                numbers: list[str], search: str = "") -> Iterator[InvoiceDoc]:
    """Issued invoices of the range in date order, one keyset page per read session."""
    after: tuple[date, uuid.UUID] | None = None
    while True:
        with ctx.db.read() as s:
            stmt = _filter(select(Invoice.id, Invoice.invoice_date), date_from, date_to,
                           customer_id, status, search)
            if after is not None:
                stmt = stmt.where(or_(  # type: ignore[attr-defined]
                    Invoice.invoice_date > after[0],
                    and_(Invoice.invoice_date == after[0], Invoice.id > after[1])))
            page = s.execute(stmt.order_by(Invoice.invoice_date, Invoice.id)  # type: ignore
                             .limit(BATCH_PAGE)).all()
            if not page:
                return
            company, layout = _company(s), read_layout(s)
            books = sales.books_in_session(s)
            docs = []
            for inv_id, _d in page:
                v = sales.invoice_view_in_session(s, inv_id, books)
                numbers.append(v.number or "")
                docs.append(invoice_doc(company, layout, v, page_format))
            after = (page[-1][1], page[-1][0])
        yield from docs
        if len(page) < BATCH_PAGE:
            return


def export_invoices(ctx: Context, date_from: date, date_to: date, *,
                    customer: uuid.UUID | str | None = None, status: str | None = None,
                    directory: Path | None = None, one_file: Path | None = None,
                    page_format: str | None = None, search: str = "",
                    progress: Callable[[int, int], None] | None = None,
                    cancelled: Callable[[], bool] | None = None) -> BatchResult:
    """Save the issued invoices of a date range as PDF: into `one_file`, or one file
    each into `directory`. Runs in the caller's (worker) thread; audited once.

    `search`: only the invoices the invoice list's search box would show for that
    text (number, billed name, customer name or code; every word must match)."""
    ctx.require("sales.view")
    if (directory is None) == (one_file is None):
        raise ValidationError("Choose either one PDF file or a folder for one file per "
                              "invoice.", field="output")
    if date_from > date_to:
        raise ValidationError("The start date is after the end date.", field="date_from")
    if status and status not in sales.ISSUED_STATUSES:
        raise ValidationError("Only issued invoices are printed in a batch.", field="status")
    with ctx.db.read() as s:
        customer_id = None
        if customer not in (None, ""):
            from erp_desktop.services.customers import find_customer

            customer_id = find_customer(s, customer).id  # type: ignore[arg-type]
        total = int(s.scalar(_filter(select(func.count()).select_from(Invoice), date_from,
                                     date_to, customer_id, status, search)) or 0)  # type: ignore
        company = _company(s)
        layout = read_layout(s)
        fmt = _options(layout, page_format).page_format
    numbers: list[str] = []
    docs = _batch_docs(ctx, date_from, date_to, customer_id, status, page_format, numbers,
                       search)
    files: list[Path] = []
    try:
        if one_file is not None:
            target = Path(one_file)
            data = render_invoices(docs, page_format=fmt, total=total, progress=progress,
                                   cancelled=cancelled,
                                   title=f"Invoices {date_from.isoformat()} to "
                                         f"{date_to.isoformat()}",
                                   author=company.legal_name,
                                   footer_note=company.trade_name or company.legal_name)
            save_pdf(target, data)
            files.append(target)
        else:
            folder = Path(directory)  # type: ignore[arg-type]
            if not folder.is_dir():
                raise ValidationError(f"The folder {folder} does not exist.", field="directory")
            done = 0
            for doc in docs:
                if cancelled is not None and cancelled():
                    raise Cancelled("The batch was cancelled.")
                path = folder / file_name(doc.number)
                save_pdf(path, render_invoice(doc))
                files.append(path)
                done += 1
                if progress is not None:
                    progress(done, total)
    except Cancelled:
        _audit_export(ctx, "sales.pdf_batch_exported", "invoice", None,
                      {"from": date_from, "to": date_to, "count": len(files),
                       "cancelled": True, "format": fmt})
        return BatchResult(len(files), files, cancelled=True)
    _audit_export(ctx, "sales.pdf_batch_exported", "invoice", None,
                  {"from": date_from, "to": date_to, "count": len(numbers),
                   "searched": bool(search.strip()),
                   "first": numbers[0] if numbers else None,
                   "last": numbers[-1] if numbers else None, "format": fmt,
                   "one_file": one_file is not None})
    return BatchResult(len(numbers), files)


def save_pdf(path: Path, data: bytes) -> None:
    """Write a PDF atomically (a crash never leaves half a file under the name)."""
    try:
        write_atomic(path, data, mode=0o644)
    except OSError as exc:
        raise DiskProblem(f"Cannot write {path}: {exc.strerror or exc}.") from exc
