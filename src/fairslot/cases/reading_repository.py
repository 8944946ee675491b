"""Queries behind the review queue's screens: the queue by status, and what a case page
shows beside the evidence — the subject's request records, its accounts' bindings, and
how many other patients an identifier is linked to (what blocking it would also stop).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, cast, distinct, func, or_, select, union_all
from sqlalchemy.orm import Session

from fairslot.audit.models import RequestRecord
from fairslot.bookings.models import Booking
from fairslot.cases.models import Case
from fairslot.cases.states import CaseStatus
from fairslot.channels.models import Channel
from fairslot.patients.models import Binding, Patient
from fairslot.risk.models import RiskAlert

# -- the queue -----------------------------------------------------------------------------


def count_by_status(db: Session) -> dict[CaseStatus, int]:
    rows = db.execute(select(Case.status, func.count()).group_by(Case.status))
    return {status: int(n) for status, n in rows}


def cases_in(db: Session, *, statuses: Collection[CaseStatus], limit: int) -> list[Case]:
    """Undecided cases, the ones a reviewer takes first at the top (highest score, oldest)."""
    return list(
        db.scalars(
            select(Case)
            .where(Case.status.in_(list(statuses)))
            .order_by(Case.score.desc(), Case.opened_at, Case.id)
            .limit(limit)
        )
    )


def recently_decided(db: Session, *, statuses: Collection[CaseStatus], limit: int) -> list[Case]:
    return list(
        db.scalars(
            select(Case)
            .where(Case.status.in_(list(statuses)))
            .order_by(Case.closed_at.desc(), Case.id.desc())
            .limit(limit)
        )
    )


def rules_by_case(db: Session, case_ids: Collection[int]) -> dict[int, list[str]]:
    """The rules whose alerts each case holds, strongest first."""
    if not case_ids:
        return {}
    rows = db.execute(
        select(RiskAlert.case_id, RiskAlert.rule, func.max(RiskAlert.score).label("top"))
        .where(RiskAlert.case_id.in_(list(case_ids)))
        .group_by(RiskAlert.case_id, RiskAlert.rule)
        .order_by(RiskAlert.case_id, func.max(RiskAlert.score).desc(), RiskAlert.rule)
    )
    found: dict[int, list[str]] = {}
    for case_id, rule, _ in rows:
        if case_id is not None:
            found.setdefault(case_id, []).append(rule)
    return found


# -- a case page ---------------------------------------------------------------------------


def request_records(
    db: Session,
    *,
    account_ids: Collection[int],
    device_keys: Collection[str],
    since: datetime,
    limit: int,
) -> list[RequestRecord]:
    """The newest request records of the subject's accounts and devices since ``since``
    (both read through their ``(…, at)`` indexes)."""
    conditions = []
    if account_ids:
        conditions.append(RequestRecord.account_id.in_(list(account_ids)))
    if device_keys:
        conditions.append(RequestRecord.device_key.in_(list(device_keys)))
    if not conditions:
        return []
    return list(
        db.scalars(
            select(RequestRecord)
            .where(or_(*conditions), RequestRecord.at >= since)
            .order_by(RequestRecord.at.desc(), RequestRecord.id.desc())
            .limit(limit)
        )
    )


def bindings_of(db: Session, account_ids: Collection[int]) -> list[tuple[int, int]]:
    """``(account id, patient id)`` of every binding of the accounts."""
    if not account_ids:
        return []
    rows = db.execute(
        select(Binding.account_id, Binding.patient_id)
        .where(Binding.account_id.in_(list(account_ids)))
        .order_by(Binding.account_id, Binding.patient_id)
    )
    return [(account_id, patient_id) for account_id, patient_id in rows]


def channel_names(db: Session, channel_ids: Collection[int]) -> dict[int, str]:
    if not channel_ids:
        return {}
    rows = db.execute(select(Channel.id, Channel.name).where(Channel.id.in_(list(channel_ids))))
    return {channel_id: name for channel_id, name in rows}


# -- what a block would also stop ----------------------------------------------------------

LINKED_SCOPES = ("phone", "account", "device", "network", "payment")


def linked_patient_counts(
    db: Session,
    *,
    scope: str,
    values: Collection[str],
    exclude: Collection[int],
    since: datetime,
) -> dict[str, int]:
    """For each identifier value of ``scope``, how many patients outside ``exclude`` it is
    linked to: patients with that phone; patients bound to that account, or booked or
    requested through it; patients booked, paid or requested with that device, network
    (IP or Wi-Fi) or payment account. Bookings and request records count from ``since``
    on; bindings and phones as they are now.

    Values are as stored on bookings: the phone's and payment account's hashes, the
    account id, the device id and the network address in the clear. Values linked to no
    other patient are absent from the answer.
    """
    if not values or scope not in LINKED_SCOPES:
        return {}
    parts = _linked(scope, list(values), since)
    linked = union_all(*parts).subquery()
    query = (
        select(linked.c.value, func.count(distinct(linked.c.patient_id)))
        .where(linked.c.patient_id.is_not(None))
        .group_by(linked.c.value)
    )
    if exclude:
        query = query.where(linked.c.patient_id.not_in(list(exclude)))
    return {str(value): int(n) for value, n in db.execute(query)}


def _linked(scope: str, values: list[str], since: datetime) -> list[Select[str, int]]:
    if scope == "phone":
        return [
            select(Patient.phone_hash.label("value"), Patient.id.label("patient_id")).where(
                Patient.phone_hash.in_(values)
            )
        ]
    if scope == "account":
        ids = [int(v) for v in values if v.isdigit()]
        return [
            select(
                cast(Binding.account_id, String).label("value"),
                Binding.patient_id.label("patient_id"),
            ).where(Binding.account_id.in_(ids)),
            _booked(cast(Booking.account_id, String), Booking.account_id.in_(ids), since),
            _requested(
                cast(RequestRecord.account_id, String), RequestRecord.account_id.in_(ids), since
            ),
        ]
    if scope == "device":
        return [
            _booked(Booking.device_key, Booking.device_key.in_(values), since),
            _requested(RequestRecord.device_key, RequestRecord.device_key.in_(values), since),
        ]
    if scope == "network":
        return [
            _booked(Booking.ip_key, Booking.ip_key.in_(values), since),
            _booked(Booking.wifi_key, Booking.wifi_key.in_(values), since),
            _requested(RequestRecord.ip_key, RequestRecord.ip_key.in_(values), since),
            _requested(RequestRecord.wifi_key, RequestRecord.wifi_key.in_(values), since),
        ]
    return [  # payment
        _booked(Booking.payment_account_hash, Booking.payment_account_hash.in_(values), since),
        _requested(
            RequestRecord.payment_account_hash,
            RequestRecord.payment_account_hash.in_(values),
            since,
        ),
    ]


def _booked(column: Any, condition: Any, since: datetime) -> Select[str, int]:
    return select(column.label("value"), Booking.patient_id.label("patient_id")).where(
        condition, Booking.held_at >= since
    )


def _requested(column: Any, condition: Any, since: datetime) -> Select[str, int]:
    return (
        select(column.label("value"), Patient.id.label("patient_id"))
        .join(Patient, Patient.id_hash == RequestRecord.patient_key)
        .where(condition, RequestRecord.at >= since)
    )
