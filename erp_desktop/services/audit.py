"""The audit trail: record security-relevant events, read them, verify the chain.

`record` appends inside the caller's transaction, so an event exists exactly
when the change it describes was committed. Writers hold the database's write
lock (`BEGIN IMMEDIATE`), so reading the chain head and appending cannot race;
the head is read once per transaction and then kept in `tx_cache`.
Details never hold personal data or secrets: ids and counts, not names.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.ids import new_id
from erp_desktop.models.audit import AuditAnchor, AuditEvent
from erp_desktop.models.base import utcnow
from erp_desktop.models.changes import deferring, insert_records, pending_records, to_jsonable
from erp_desktop.models.database import tx_cache
from erp_desktop.models.security import LoginEvent

if TYPE_CHECKING:
    from erp_desktop.services.context import Context

GENESIS = "0" * 64
_HEAD = "audit.head"  # tx_cache key: (seq, hash) of the newest event of this transaction
PURGE_ACTION = "retention.audit_purged"  # written by services.retention, names its anchor


def _canonical(seq: int, event_id: uuid.UUID, at: datetime, actor_id: uuid.UUID | None,
               actor_name: str | None, device_code: str | None, action: str,
               entity: str | None, entity_id: str | None, details: str) -> bytes:
    return json.dumps([seq, str(event_id), at.isoformat(), str(actor_id) if actor_id else None,
                       actor_name, device_code, action, entity, entity_id, details],
                      separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, content: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + content).hexdigest()


_HEAD = select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)


def record(session: Session, ctx: Context | None, action: str, *, entity: str | None = None,
           entity_id: object = None, details: dict[str, Any] | None = None,
           actor_id: uuid.UUID | None = None, actor_name: str | None = None,
           device_code: str | None = None, at: datetime | None = None) -> AuditEvent:
    """Append one event to the chain in the caller's transaction.

    Returns the event as written (a detached copy: it is not in the session).
    """
    return AuditEvent(**_append(session, ctx, action, entity=entity, entity_id=entity_id,
                                details=details, actor_id=actor_id, actor_name=actor_name,
                                device_code=device_code, at=at))


def append(session: Session, ctx: Context | None, action: str, *, entity: str | None = None,
           entity_id: object = None, details: dict[str, Any] | None = None) -> None:
    """`record`, for posting paths that do not use the event it returns (issuing)."""
    _append(session, ctx, action, entity=entity, entity_id=entity_id, details=details)


def _append(session: Session, ctx: Context | None, action: str, *, entity: str | None = None,
            entity_id: object = None, details: dict[str, Any] | None = None,
            actor_id: uuid.UUID | None = None, actor_name: str | None = None,
            device_code: str | None = None, at: datetime | None = None) -> dict[str, Any]:
    if ctx is not None:
        actor_id = actor_id or ctx.actor.user_id
        actor_name = actor_name or ctx.actor.login_name
        device_code = device_code or ctx.device.code
        at = at or ctx.now()
    at = at or utcnow()
    cache = tx_cache(session)
    head = cache.get(_HEAD)
    if head is None:
        if any(isinstance(obj, AuditEvent) for obj in session.new):
            session.flush()  # events added outside this cache (none today) count too
        held = pending_records(session, AuditEvent)
        if held:  # deferred events of this transaction (decision 0031) come last
            head = (held[-1]["seq"], held[-1]["hash"])
        elif deferring(session):  # a plain read: an ORM one would write the deferred rows
            head = session.connection().execute(_HEAD).first() or (0, GENESIS)
        else:
            with session.no_autoflush:  # the caller's other pending changes can wait
                head = session.execute(_HEAD).first() or (0, GENESIS)
    seq, prev = head[0] + 1, head[1]
    text = json.dumps(to_jsonable(details or {}), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    event_id = new_id()
    ent_id = str(entity_id) if entity_id is not None else None
    at = at.astimezone(UTC)  # hash exactly what will be read back (UTC)
    digest = chain_hash(prev, _canonical(seq, event_id, at, actor_id, actor_name, device_code,
                                         action, entity, ent_id, text))
    row = {"seq": seq, "id": event_id, "at": at, "actor_id": actor_id, "actor_name": actor_name,
           "device_code": device_code, "action": action, "entity": entity,
           "entity_id": ent_id, "details": text, "prev_hash": prev, "hash": digest}
    # Written at once, without the unit of work (nothing reads it back as an ORM
    # object); the next event of this transaction follows it without reading the
    # table again: the writer holds BEGIN IMMEDIATE, so no one else appends.
    insert_records(session, (AuditEvent, [row]))
    cache[_HEAD] = (seq, digest)
    return row


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_hash: str
    problems: list[str]


def verify_chain(session: Session, batch: int = 5000, *,
                 anchor: tuple[int, str] | None = None) -> ChainReport:
    """Walk the chain in order; report every edited, deleted or reordered row.

    A chain starts at event 1, unless older events were purged by retention:
    then `anchor` is the (seq, hash) of the last purged event, kept by the
    purge. Without it, a chain that starts later has lost its first events.
    Removing the newest events is only visible against a head hash kept
    elsewhere (sync anchors it on the server).
    """
    problems: list[str] = []
    prev = GENESIS
    expected_seq: int | None = None
    checked = 0
    last_seq = 0
    while True:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.seq > last_seq)
                               .order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            break
        for ev in rows:
            checked += 1
            if expected_seq is None:
                expected_seq = 1
                if anchor is not None:
                    expected_seq, prev = anchor[0] + 1, anchor[1]
            if ev.seq != expected_seq:
                problems.append(f"events {expected_seq}..{ev.seq - 1} are missing (deleted)")
            if ev.prev_hash != prev:
                problems.append(f"event {ev.seq}: does not follow the event before it "
                                "(deleted or reordered)")
            content = _canonical(ev.seq, ev.id, ev.at, ev.actor_id, ev.actor_name,
                                 ev.device_code, ev.action, ev.entity, ev.entity_id, ev.details)
            if chain_hash(ev.prev_hash, content) != ev.hash:
                problems.append(f"event {ev.seq}: its content was changed after it was written")
            prev = ev.hash
            expected_seq = ev.seq + 1
            last_seq = ev.seq
        session.expunge_all()
    return ChainReport(ok=not problems, checked=checked, head_hash=prev, problems=problems)


def event_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


MAX_PAGE = 1000


@dataclass(frozen=True)
class AuditEventRow:
    seq: int
    at: datetime
    actor_id: uuid.UUID | None
    actor_name: str | None
    device_code: str | None
    action: str
    entity: str | None
    entity_id: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class LoginEventRow:
    id: uuid.UUID
    at: datetime
    login_name: str
    user_id: uuid.UUID | None
    success: bool
    reason: str | None
    host: str | None
    os: str | None
    app_version: str | None


def _page_size(limit: int) -> int:
    if limit < 1:
        raise ValidationError("Ask for at least one row.", field="limit")
    return min(limit, MAX_PAGE)


def retention_anchor(session: Session) -> tuple[int, str] | None:
    """(seq, hash) of the last event a retention purge removed, or None if none was."""
    row = session.execute(select(AuditAnchor.through_seq, AuditAnchor.through_hash)
                          .order_by(AuditAnchor.through_seq.desc()).limit(1)).first()
    return (int(row[0]), str(row[1])) if row else None


def _anchor_confirmed(session: Session, anchor: tuple[int, str]) -> bool:
    """The purge that made `anchor` recorded it in an event of the (verified) chain."""
    for text in session.scalars(select(AuditEvent.details).where(
            AuditEvent.action == PURGE_ACTION, AuditEvent.seq > anchor[0])):
        details = json.loads(text or "{}")
        if details.get("through_seq") == anchor[0] and details.get("through_hash") == anchor[1]:
            return True
    return False


def verify(ctx: Context) -> ChainReport:
    """The `audit verify` use case: walk the whole chain and report what is wrong.

    After a retention purge the chain starts at the stored anchor, which must
    itself be confirmed by the purge's own event further down the chain.
    """
    ctx.require("audit.verify")
    with ctx.db.read() as s:
        anchor = retention_anchor(s)
        report = verify_chain(s, anchor=anchor)
        if anchor is not None and not _anchor_confirmed(s, anchor):
            report = replace(report, ok=False, problems=[
                *report.problems, f"the chain starts after event {anchor[0]}, but no retention "
                "event in the trail confirms that purge"])
        return report


def list_events(ctx: Context, after_seq: int | None = None, limit: int = 200,
                action_prefix: str | None = None) -> list[AuditEventRow]:
    """One page of the audit log in chain order (keyset paging on `seq`)."""
    ctx.require("audit.view")
    q = select(AuditEvent).order_by(AuditEvent.seq).limit(_page_size(limit))
    if after_seq is not None:
        q = q.where(AuditEvent.seq > after_seq)
    if action_prefix:
        q = q.where(AuditEvent.action.startswith(action_prefix, autoescape=True))
    with ctx.db.read() as s:
        return [AuditEventRow(ev.seq, ev.at, ev.actor_id, ev.actor_name, ev.device_code,
                              ev.action, ev.entity, ev.entity_id, json.loads(ev.details or "{}"))
                for ev in s.scalars(q)]


def list_login_events(ctx: Context, *, before: LoginEventRow | None = None,
                      limit: int = 200) -> list[LoginEventRow]:
    """Login attempts, newest first; the next page starts `before` the last row shown."""
    ctx.require("audit.view")
    q = select(LoginEvent).order_by(LoginEvent.at.desc(), LoginEvent.id.desc()) \
        .limit(_page_size(limit))
    if before is not None:
        # (at, id) and not at alone: several attempts can share one timestamp.
        q = q.where(or_(LoginEvent.at < before.at,
                        and_(LoginEvent.at == before.at, LoginEvent.id < before.id)))
    with ctx.db.read() as s:
        return [LoginEventRow(e.id, e.at, e.login_name, e.user_id, e.success, e.reason, e.host,
                              e.os, e.app_version) for e in s.scalars(q)]
