"""The queries of the request-context retention (``retention.py``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from fairslot.audit.models import RequestRecord
from fairslot.cases.models import Case
from fairslot.cases.states import CLOSED

# What a request carried about where it came from; the rest of a record (when, what,
# for which account and patient, the outcome and the gate's decision) is what the
# quality metrics count, and stays.
CONTEXT_COLUMNS = (
    RequestRecord.device_key,
    RequestRecord.ip_key,
    RequestRecord.ip_label,
    RequestRecord.wifi_key,
    RequestRecord.user_agent,
    RequestRecord.payment_account_hash,
)


@dataclass(frozen=True)
class Held:
    """Identifiers whose records an open case still shows: their context is kept."""

    account_ids: frozenset[int] = field(default_factory=frozenset)
    device_keys: frozenset[str] = field(default_factory=frozenset)
    network_keys: frozenset[str] = field(default_factory=frozenset)
    patient_keys: frozenset[str] = field(default_factory=frozenset)


def unclosed_cases(db: Session) -> list[Case]:
    return list(db.scalars(select(Case).where(Case.status.not_in(sorted(CLOSED)))))


def expired_ids(db: Session, *, before: datetime, held: Held, limit: int) -> list[int]:
    """Up to ``limit`` records made before ``before`` that still carry a request context
    and belong to no identifier ``held``: oldest first, so a run cut short resumes."""
    statement = (
        select(RequestRecord.id)
        .where(RequestRecord.at < before, or_(*(c.is_not(None) for c in CONTEXT_COLUMNS)))
        .where(*_not_held(held))
        .order_by(RequestRecord.at, RequestRecord.id)
        .limit(limit)
    )
    return list(db.scalars(statement))


def strip_context(db: Session, ids: Collection[int]) -> int:
    """Clear the request context of the records ``ids``; returns how many changed."""
    if not ids:
        return 0
    result = db.execute(
        update(RequestRecord)
        .where(RequestRecord.id.in_(sorted(ids)))
        .values({c.key: None for c in CONTEXT_COLUMNS}),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _not_held(held: Held) -> list[ColumnElement[bool]]:
    # coalesce: "NULL NOT IN (...)" is NULL, which would keep every record without one.
    conditions: list[ColumnElement[bool]] = []
    if held.account_ids:
        conditions.append(
            func.coalesce(RequestRecord.account_id, -1).not_in(sorted(held.account_ids))
        )
    if held.device_keys:
        conditions.append(
            func.coalesce(RequestRecord.device_key, "").not_in(sorted(held.device_keys))
        )
    if held.network_keys:
        networks = sorted(held.network_keys)
        conditions.append(func.coalesce(RequestRecord.ip_key, "").not_in(networks))
        conditions.append(func.coalesce(RequestRecord.wifi_key, "").not_in(networks))
    if held.patient_keys:
        conditions.append(
            func.coalesce(RequestRecord.patient_key, "").not_in(sorted(held.patient_keys))
        )
    return conditions
