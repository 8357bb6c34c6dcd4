"""Retention: how long records are kept, and the purge that applies it.

The policy is a company setting (`retention.policy`, JSON):
- `tax_records_years` (default 8): issued invoices, bills, payments and
  payslips are kept this long after a person's last such document; until then
  anonymising that person is refused (`services.person`).
- `login_events_days` (default 365): login attempts older than this are deleted.
- `audit_events_days` (default 8 years): audit events older than this are deleted.

`apply_retention` deletes old login events, deletes the oldest audit events
(a prefix of the chain, never its newest event) through the controlled path
of `models.audit` (guard row, delete, anchor), records the anchor in the
chain itself, and lists former employees whose retention period has ended:
their personal data is due for anonymisation. A chain that does not verify
is never purged: that would hide the tampering.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.ids import new_id
from erp_desktop.models.audit import AuditAnchor, AuditEvent, AuditPurgeGuard
from erp_desktop.models.company import Setting
from erp_desktop.models.security import LoginEvent
from erp_desktop.services import audit
from erp_desktop.services.context import Context

POLICY_KEY = "retention.policy"


@dataclass(frozen=True)
class RetentionPolicy:
    tax_records_years: int = 8
    login_events_days: int = 365
    audit_events_days: int = 8 * 366


_LIMITS = {"tax_records_years": (1, 30, "years"), "login_events_days": (30, 36500, "days"),
           "audit_events_days": (90, 36500, "days")}


@dataclass(frozen=True)
class DueForAnonymisation:
    employee_id: uuid.UUID
    code: str
    terminated_on: date
    retained_until: date


@dataclass(frozen=True)
class RetentionResult:
    login_events_purged: int
    audit_events_purged: int
    anchor: tuple[int, str] | None  # where the audit chain now starts
    due_for_anonymisation: list[DueForAnonymisation]


def policy_in_session(s: Session) -> RetentionPolicy:
    text = s.scalar(select(Setting.value).where(Setting.key == POLICY_KEY,
                                                Setting.deleted_at.is_(None)))
    try:
        raw = json.loads(text) if text else {}
    except ValueError:
        raw = {}
    if not isinstance(raw, dict):
        raw = {}
    known = {f.name for f in fields(RetentionPolicy)}
    values = {k: v for k, v in raw.items() if k in known and isinstance(v, int)}
    return RetentionPolicy(**values)


def get_policy(ctx: Context) -> RetentionPolicy:
    ctx.require("company.view")
    with ctx.db.read() as s:
        return policy_in_session(s)


def set_policy(ctx: Context, **changes: int) -> RetentionPolicy:
    """Change the retention periods (see module docstring)."""
    ctx.require("settings.edit")
    unknown = set(changes) - set(_LIMITS)
    if unknown:
        raise ValidationError(f"Unknown retention settings: {', '.join(sorted(unknown))}.",
                              field=sorted(unknown)[0])
    for name, value in changes.items():
        low, high, unit = _LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(f"{name.replace('_', ' ').capitalize()} is {low} to {high} "
                                  f"{unit}.", field=name)
    with ctx.db.write(ctx.actor.user_id) as s:
        policy = replace(policy_in_session(s), **changes)
        text = json.dumps(asdict(policy), sort_keys=True)
        row = s.scalars(select(Setting).where(Setting.key == POLICY_KEY)).one_or_none()
        if row is None:
            s.add(Setting(key=POLICY_KEY, value=text))
        else:
            row.value = text
            row.deleted_at = None
        s.flush()
        audit.record(s, ctx, "settings.changed", entity="setting",
                     details={"key": POLICY_KEY, "fields": sorted(changes), **changes})
        return policy


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def due_for_anonymisation_in_session(s: Session, policy: RetentionPolicy,
                                     today: date) -> list[DueForAnonymisation]:
    """Former employees whose retention period ended and who still carry personal data."""
    from erp_desktop.models.hr import Employee
    from erp_desktop.services import person  # late: person reads this module's policy

    due = []
    for emp in s.scalars(select(Employee).where(Employee.termination_date.is_not(None),
                                                Employee.deleted_at.is_(None))
                         .order_by(Employee.code)):
        if person.is_anonymised_name(emp.full_name):
            continue
        last = person.last_document_date(s, "employee", emp.id) or emp.termination_date
        assert emp.termination_date is not None
        last = max(last, emp.termination_date)
        until = add_years(last, policy.tax_records_years)
        if today > until:
            due.append(DueForAnonymisation(emp.id, emp.code, emp.termination_date, until))
    return due


def due_for_anonymisation(ctx: Context) -> list[DueForAnonymisation]:
    """The flag list: former employees whose personal data should now be anonymised."""
    ctx.require("person.anonymise")
    with ctx.db.read() as s:
        return due_for_anonymisation_in_session(s, policy_in_session(s), ctx.today())


def _purge_audit(s: Session, ctx: Context, before_days: int) -> tuple[int, tuple[int, str] | None]:
    cutoff = ctx.now() - timedelta(days=before_days)
    head = s.scalar(select(func.max(AuditEvent.seq)))
    first = s.scalar(select(func.min(AuditEvent.seq)))
    if head is None or first is None:
        return 0, None
    newer = s.scalar(select(func.min(AuditEvent.seq)).where(AuditEvent.at >= cutoff))
    through = (newer - 1) if newer is not None else head
    through = min(through, head - 1)  # the newest event stays: the chain goes on from it
    if through < first:
        return 0, None
    report = audit.verify_chain(s, anchor=audit.retention_anchor(s))
    if not report.ok:
        raise ValidationError("The audit trail does not verify (run `audit verify`); old "
                              "events are not purged while it is broken, so that the damage "
                              "stays visible.")
    through_hash = s.scalar(select(AuditEvent.hash).where(AuditEvent.seq == through))
    assert through_hash is not None
    # The controlled path around the append-only trigger (models.audit): open the
    # guard for this prefix, delete it, close the guard, all in this transaction.
    s.execute(insert(AuditPurgeGuard).values(id=1, through_seq=through))
    purged = s.execute(delete(AuditEvent).where(AuditEvent.seq <= through)).rowcount or 0
    s.execute(delete(AuditPurgeGuard))
    s.execute(insert(AuditAnchor).values(id=new_id(), at=ctx.now(), through_seq=through,
                                         through_hash=through_hash, purged_events=purged))
    return purged, (through, through_hash)


def apply_retention(ctx: Context) -> RetentionResult:
    """Purge login events and audit events past their period; list who is due for
    anonymisation. One transaction; audited (counts only)."""
    ctx.require("retention.apply")
    with ctx.db.write(ctx.actor.user_id) as s:
        policy = policy_in_session(s)
        login_cutoff = ctx.now() - timedelta(days=policy.login_events_days)
        logins = s.execute(delete(LoginEvent).where(LoginEvent.at < login_cutoff)).rowcount or 0
        purged, anchor = _purge_audit(s, ctx, policy.audit_events_days)
        if anchor is not None:
            audit.record(s, ctx, audit.PURGE_ACTION, details={
                "through_seq": anchor[0], "through_hash": anchor[1], "purged_events": purged})
        due = due_for_anonymisation_in_session(s, policy, ctx.today())
        audit.record(s, ctx, "retention.applied", details={
            "login_events_purged": logins, "audit_events_purged": purged,
            "due_for_anonymisation": len(due)})
    return RetentionResult(logins, purged, anchor, due)
