"""Gapless legal numbers, taken inside the posting transaction.

A posted document (journal entry, invoice, credit note ...) gets its number
from a `NumberSeries` row per document type, device and fiscal year. The
counter is read and bumped in the caller's write transaction (`BEGIN
IMMEDIATE`, so one writer at a time): a posting that rolls back also rolls
back its counter, leaving no gap, and two postings never get the same number.
Each device has its own series (`A`, `B`), so desktops posting offline never
collide. The format (`JV/2026-27/A/000001`) belongs to `domain.numbering`.
The series row is read once per transaction (kept in `models.database.tx_cache`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.numbering import SeriesFormat, fiscal_year_token
from erp_desktop.models.company import NumberSeries
from erp_desktop.models.database import tx_cache


def next_number(session: Session, doc_type: str, prefix: str, device_code: str, on: date,
                fiscal_year_start_month: int) -> str:
    """Take the next number of the (doc_type, device, fiscal year) series.

    Must be called inside the write transaction that posts the document, so
    the number and the document are committed, or rolled back, together.
    """
    if not doc_type or len(doc_type) > 20:
        raise ValidationError("A document type is one to twenty characters.", field="doc_type")
    fmt = SeriesFormat(prefix, device_code)  # validates prefix and device code
    if len(prefix) > 10:
        raise ValidationError("A number series prefix is at most ten characters.",
                              field="prefix")
    token = fiscal_year_token(on, fiscal_year_start_month)
    # The series row is looked up once per transaction and then bumped in
    # memory: the writer holds BEGIN IMMEDIATE, so the row cannot change under
    # us, and the bumps reach the table (one versioned UPDATE) with the
    # transaction's next flush or its commit, together with the documents.
    cache = tx_cache(session)
    key = ("number_series", doc_type, device_code, token)
    series = cache.get(key)
    if series is None or series not in session:
        series = session.scalars(
            select(NumberSeries).where(NumberSeries.doc_type == doc_type,
                                       NumberSeries.device_code == device_code,
                                       NumberSeries.fy_token == token)).one_or_none()
        if series is None:
            series = NumberSeries(doc_type=doc_type, device_code=device_code, fy_token=token,
                                  prefix=prefix, next_counter=1)
            session.add(series)
        cache[key] = series
    counter = series.next_counter
    series.next_counter = counter + 1
    return fmt.format(token, counter)
