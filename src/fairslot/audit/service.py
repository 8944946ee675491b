"""Recording the context of channel requests (allowed or refused)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from fairslot.audit.models import RequestRecord
from fairslot.audit.recorder import RecordBuffer
from fairslot.context import RequestContext


@dataclass
class PendingRecord:
    """Filled in by an endpoint as it learns who the request is for."""

    action: str
    at: datetime
    ctx: RequestContext
    account_id: int | None = None
    patient_key: str | None = None
    booking_id: str | None = None
    slot_id: str | None = None
    payment_account_hash: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # The real-time gate's decision (allow / review / block) and its reason codes.
    decision: str | None = None
    reasons: str | None = None
    # Set by the gate when a later request's gate reads this record soon (a young
    # account's first booking act): it is then written at once, never deferred.
    read_soon: bool = False
    # The record is all the request's transaction writes (a read-only request, a refusal
    # after its rollback): on PostgreSQL its commit does not wait for the disk.
    alone: bool = False


def write(
    db: Session, *, pending: PendingRecord, outcome: str, buffer: RecordBuffer | None = None
) -> None:
    """Record the request: kept in ``buffer`` for its next batched INSERT when nothing
    a later request's gate reads needs it sooner (``audit/recorder.py``), else inserted
    now, in the session's transaction.

    A Core ``INSERT`` of one row rather than an ORM object: every channel request writes
    one, and the unit of work's bookkeeping (identity map, flush planning, fetching the
    new id back) cost more Python time than the insert itself. Nothing reads the row back
    in the request.
    """
    if deferred(pending, outcome=outcome, buffer=buffer):
        return
    row = _row(pending, outcome, at=_arrival(pending))
    if pending.alone and db.get_bind().dialect.name == "postgresql":
        # Committed and visible to every later request's gate at once, as before; on the
        # disk within PostgreSQL's WAL writer delay (3 x wal_writer_delay, 0.6 s by
        # default) rather than before the answer. A database crash may lose that much of
        # such records — as a server process killed loses its last batch — never a
        # booking: a transaction that changed anything else never says ``alone``.
        db.execute(_ASYNC_COMMIT)
    db.execute(_INSERT, row)


def deferred(pending: PendingRecord, *, outcome: str, buffer: RecordBuffer | None) -> bool:
    """Keep the record in ``buffer`` for its next batch if it may wait (True), else leave
    it to be inserted now (False): no I/O either way."""
    if buffer is None:
        return False
    at = _arrival(pending)
    if not buffer.defers(
        action=pending.action,
        decision=pending.decision,
        read_soon=pending.read_soon,
        device_key=pending.ctx.device_key,
        at=at,
    ):
        return False
    buffer.add(_row(pending, outcome, at=at))
    return True


def _arrival(pending: PendingRecord) -> datetime:
    """The arrival at the edge where it is known: pace is read from these, and a wait for
    a worker thread must neither stretch nor bunch them."""
    ctx = pending.ctx
    return min(ctx.arrived_at, pending.at) if ctx.arrived_at else pending.at


def _row(pending: PendingRecord, outcome: str, *, at: datetime) -> dict[str, object]:
    ctx = pending.ctx
    return {
        "at": at,
        "action": pending.action,
        "outcome": outcome,
        "channel_id": ctx.channel_id,
        "account_id": pending.account_id,
        "patient_key": pending.patient_key,
        "booking_id": pending.booking_id,
        "slot_id": pending.slot_id,
        "device_key": ctx.device_key,
        "ip_key": ctx.ip_key,
        "ip_label": ctx.ip_label,
        "wifi_key": ctx.wifi_key,
        "payment_account_hash": pending.payment_account_hash or ctx.payment_account_hash,
        "user_agent": ctx.user_agent,
        "decision": pending.decision,
        "reasons": pending.reasons and pending.reasons[:500],
        "client_step_ms": ctx.client_step_ms,
    }


# The table's own insert (not the mapped class's): plain Core, no ORM bulk-insert path.
_INSERT = insert(cast(Table, RequestRecord.__table__))
_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")
