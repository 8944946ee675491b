"""Every query of the real-time gate's velocity signals, and the recorded decisions the
daily batch reads.

These run on the hot path (a hold at release time), so each one is a range read on an
index: ``request_records`` by (account_id, at) or (device_id, at), ``bookings`` by
device_id, the decisions by (decision, at). None of them scans a table.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, or_, select, union
from sqlalchemy.orm import Session

from fairslot.audit.models import RequestRecord
from fairslot.bookings.models import Booking
from fairslot.channels.models import Channel


def channel_kind(db: Session, channel_id: int | None) -> str | None:
    """The kind of the request's channel (already loaded by authentication: no query)."""
    channel = db.get(Channel, channel_id) if channel_id is not None else None
    return channel.kind.value if channel is not None else None


def bindings_since(db: Session, *, account_id: int, since: datetime) -> int:
    """Patients bound to the account since ``since`` (successful bindings: an unbind and
    a rebind count twice, which is what churning identities through an account does)."""
    return int(
        db.scalar(
            select(func.count())
            .select_from(RequestRecord)
            .where(
                RequestRecord.account_id == account_id,
                RequestRecord.at >= since,
                RequestRecord.action == "bind_patient",
                RequestRecord.outcome == "ok",
            )
        )
        or 0
    )


def device_patients(db: Session, *, device_id: str, since: datetime, enough: int) -> set[int]:
    """Distinct patients booked through the device since ``since``; at most ``enough`` of
    them (the decision needs no more, and a busy device must not cost more)."""
    return set(
        db.scalars(
            select(Booking.patient_id)
            .where(Booking.device_id == device_id, Booking.held_at >= since)
            .distinct()
            .limit(enough)
        )
    )


def acted_before(db: Session, *, account_id: int, actions: Collection[str]) -> bool:
    """Whether the account already asked for any of ``actions`` (allowed or refused)."""
    return bool(
        db.scalar(
            select(
                exists().where(
                    RequestRecord.account_id == account_id, RequestRecord.action.in_(actions)
                )
            )
        )
    )


def browsed_since(
    db: Session, *, device_id: str, since: datetime, actions: Collection[str]
) -> bool:
    """Whether the device asked for availability (any of ``actions``) since ``since``."""
    return bool(
        db.scalar(
            select(
                exists().where(
                    RequestRecord.device_id == device_id,
                    RequestRecord.at >= since,
                    RequestRecord.action.in_(actions),
                )
            )
        )
    )


def fast_requests_since(
    db: Session,
    *,
    account_id: int | None,
    device_id: str | None,
    since: datetime,
    reasons: Collection[str],
) -> int:
    """Requests of the account or the device since ``since`` flagged with any of the
    ``reasons`` (review or block).

    One branch per subject, joined by UNION: each branch reads its own (subject, at)
    index, where an OR could lead the planner to every review of the hour instead.
    """
    subjects = []
    if account_id is not None:
        subjects.append(RequestRecord.account_id == account_id)
    if device_id:
        subjects.append(RequestRecord.device_id == device_id)
    if not subjects or not reasons:
        return 0
    branches = [
        select(RequestRecord.id).where(
            subject,
            RequestRecord.at >= since,
            RequestRecord.decision.in_(("review", "block")),
            or_(*(RequestRecord.reasons.contains(r, autoescape=True) for r in reasons)),
        )
        for subject in subjects
    ]
    flagged = union(*branches).subquery() if len(branches) > 1 else branches[0].subquery()
    return int(db.scalar(select(func.count()).select_from(flagged)) or 0)


@dataclass(frozen=True)
class FlaggedRequest:
    """A request the gate reviewed or blocked, with what it was known by."""

    id: int
    at: datetime
    action: str
    outcome: str
    decision: str
    reasons: tuple[str, ...]
    channel_id: int | None
    account_id: int | None
    patient_key: str | None
    booking_id: str | None
    device_id: str | None
    ip: str | None
    wifi_id: str | None
    payment_account_hash: str | None


def review_decisions(db: Session, *, start: datetime, end: datetime) -> list[FlaggedRequest]:
    """The requests recorded with a review or block decision in ``[start, end)``, oldest
    first: what the daily batch turns into alerts."""
    rows = db.scalars(
        select(RequestRecord)
        .where(
            RequestRecord.decision.in_(("review", "block")),
            RequestRecord.at >= start,
            RequestRecord.at < end,
        )
        .order_by(RequestRecord.at, RequestRecord.id)
    )
    return [
        FlaggedRequest(
            id=r.id,
            at=r.at,
            action=r.action,
            outcome=r.outcome,
            decision=r.decision or "",
            reasons=tuple(r.reasons.split(",")) if r.reasons else (),
            channel_id=r.channel_id,
            account_id=r.account_id,
            patient_key=r.patient_key,
            booking_id=r.booking_id,
            device_id=r.device_id,
            ip=r.ip,
            wifi_id=r.wifi_id,
            payment_account_hash=r.payment_account_hash,
        )
        for r in rows
    ]
