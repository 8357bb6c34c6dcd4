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
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.numbering import SeriesFormat, fiscal_year_token
from erp_desktop.models.changes import (
    PlainRow,
    check_before_write,
    deferring,
    plain_class,
    write_plain,
)
from erp_desktop.models.company import NumberSeries
from erp_desktop.models.database import tx_cache

# Built once: building the expression costs more than running it (decision 0031).
_WHERE = and_(NumberSeries.doc_type == bindparam("doc_type"),
              NumberSeries.device_code == bindparam("device_code"),
              NumberSeries.fy_token == bindparam("fy_token"))
_SERIES = select(NumberSeries).where(_WHERE)
_PlainSeries = plain_class(NumberSeries)
_WRITE = "numbering.series"


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
    if deferring(session) and not isinstance(series, NumberSeries):
        return fmt.format(token, _next_plain(session, cache, key, prefix))
    if isinstance(series, PlainRow):  # its deferred block wrote it: read it as usual now
        series = None
    if series is None or series not in session:
        series = session.scalars(_SERIES, {"doc_type": doc_type, "device_code": device_code,
                                           "fy_token": token}).one_or_none()
        if series is None:
            series = NumberSeries(doc_type=doc_type, device_code=device_code, fy_token=token,
                                  prefix=prefix, next_counter=1)
            session.add(series)
        cache[key] = series
    counter = series.next_counter
    series.next_counter = counter + 1
    return fmt.format(token, counter)


def _next_plain(session: Session, cache: dict[Any, Any], key: tuple[str, str, str, str],
                prefix: str) -> int:
    """`next_number` for an issuing path holding its rows deferred (decision 0031): the
    series row as a plain row, read once per transaction with Core, bumped in memory
    and written (the same versioned UPDATE, or INSERT, and outbox row as a flush)
    with the transaction's deferred rows; a query of the table writes it first."""
    series = cache.get(key)
    if series is None:
        _, doc_type, device_code, token = key
        found = _PlainSeries.read(session, _WHERE, {"doc_type": doc_type,
                                                    "device_code": device_code,
                                                    "fy_token": token})
        series = found[0] if found else _PlainSeries.blank(
            doc_type=doc_type, device_code=device_code, fy_token=token, prefix=prefix,
            next_counter=1)
        cache[key] = series
    counter: int = series.next_counter
    series.next_counter = counter + 1
    check_before_write(session, _WRITE, _write_series, ("number_series",))
    return counter


def _write_series(session: Session) -> None:
    write_plain(session, [v for v in tx_cache(session).values() if isinstance(v, _PlainSeries)])
