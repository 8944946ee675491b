"""Every query of the real-time gate — the request's patient keys, the blacklist and the
velocity signals, read together in one statement — and the recorded decisions the daily
batch reads.

These run on the hot path (a hold at release time), so each one is a range read on an
index: ``request_records`` by (account_id, at) or (device_key, at), ``bookings`` by
device_key, the decisions by (decision, at). None of them scans a table.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Label,
    ScalarSelect,
    Select,
    bindparam,
    exists,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Session

from fairslot.audit.models import RequestRecord
from fairslot.blacklist import repository as blacklist_repo
from fairslot.blacklist.models import Scope
from fairslot.bookings.models import Booking
from fairslot.channels.models import Channel
from fairslot.db.core import among, core_connection
from fairslot.patients.models import Account, Patient


def channel_kind(db: Session, channel_id: int | None) -> str | None:
    """The kind of the request's channel (already loaded by authentication: no query)."""
    channel = db.get(Channel, channel_id) if channel_id is not None else None
    return channel.kind.value if channel is not None else None


@dataclass(frozen=True)
class SignalReads:
    """The gate's facts, read in one round trip (``signal_reads``); None where the
    request did not ask for one. ``patient_key`` and ``phone_hash``: the asked patient's
    stored keys (None: no such patient); ``blocked``: whether a blacklist entry in force
    matches any of the request's keys."""

    bindings: int | None = None
    other_device_patients: int | None = None
    account_created_at: datetime | None = None
    acted_before: bool | None = None
    browsed: bool | None = None
    patient_key: str | None = None
    phone_hash: str | None = None
    blocked: bool | None = None


@dataclass(frozen=True)
class BindingsAsk:
    account_id: int
    since: datetime


@dataclass(frozen=True)
class DeviceAsk:
    device_key: str
    since: datetime
    enough: int
    patient_id: int | None


@dataclass(frozen=True)
class FirstActAsk:
    account_id: int
    young_after: datetime
    actions: Collection[str]


@dataclass(frozen=True)
class BrowseAsk:
    device_key: str
    since: datetime
    actions: Collection[str]


@dataclass(frozen=True)
class SignalAsks:
    """The velocity facts one request needs (``gate/realtime.py::asks``)."""

    bindings: BindingsAsk | None = None
    device: DeviceAsk | None = None
    first_act: FirstActAsk | None = None
    browse: BrowseAsk | None = None


@dataclass(frozen=True)
class PatientAsk:
    """The request's patient, by id: its stored ID and phone keys come back with the
    signals, and with ``BlacklistAsk.patient_keys`` are matched in the same statement."""

    patient_id: int


@dataclass(frozen=True)
class BlacklistAsk:
    """Entries in force at ``now`` under ``keys`` (the request's own, known without a
    read) and, with ``patient_keys``, under the asked patient's ID key and — with
    ``patient_phone`` — its phone key."""

    keys: tuple[tuple[Scope, str], ...]
    now: datetime
    patient_keys: bool = False
    patient_phone: bool = False


def signal_reads(
    db: Session,
    asks: SignalAsks = SignalAsks(),
    *,
    patient: PatientAsk | None = None,
    blacklist: BlacklistAsk | None = None,
) -> SignalReads:
    """Every fact the gate needs — the patient's keys, a blacklist hit, the velocity
    signals — as scalar subqueries of ONE ``SELECT`` (the same SQL on SQLite and
    PostgreSQL): at release time each round trip is paid by thousands of requests a
    second. Each subquery is still a range read on an index. The statement is built once
    per shape (``_signal_select``); no query at all when nothing is asked."""
    bindings, device, first_act, browse = asks.bindings, asks.device, asks.first_act, asks.browse
    params: dict[str, object] = {}
    if patient is not None:
        params["p_patient"] = patient.patient_id
    if blacklist is not None and not (blacklist.keys or (patient and blacklist.patient_keys)):
        blacklist = None  # no key to look up: nothing can match
    if blacklist is not None:
        params["k_now"] = blacklist.now
        params |= {f"k{i}": key for i, (_, key) in enumerate(blacklist.keys)}
    if bindings is not None:
        params |= {"b_account": bindings.account_id, "b_since": bindings.since}
    if device is not None:
        params |= {"d_device": device.device_key, "d_since": device.since}
        if device.patient_id is not None:
            params["d_patient"] = device.patient_id
    if first_act is not None:
        params |= {"f_account": first_act.account_id, "f_young_after": first_act.young_after}
    if browse is not None:
        params |= {"w_device": browse.device_key, "w_since": browse.since}
    if not params:
        return SignalReads()
    statement = _signal_select(
        bindings=bindings is not None,
        device_enough=device.enough if device is not None else None,
        own_patient=device is not None and device.patient_id is not None,
        first_actions=tuple(sorted(first_act.actions)) if first_act is not None else None,
        browse_actions=tuple(sorted(browse.actions)) if browse is not None else None,
        patient=patient is not None,
        blacklist_scopes=tuple(scope for scope, _ in blacklist.keys)
        if blacklist is not None
        else None,
        blacklist_patient=blacklist is not None and patient is not None and blacklist.patient_keys,
        blacklist_phone=blacklist is not None and patient is not None and blacklist.patient_phone,
    )
    found = core_connection(db).execute(statement, params).one()._asdict()
    return SignalReads(
        bindings=_int_or_none(found.get("bindings")),
        other_device_patients=_int_or_none(found.get("other_device_patients")),
        account_created_at=found.get("account_created_at"),
        acted_before=_bool_or_none(found.get("acted_before")),
        browsed=_bool_or_none(found.get("browsed")),
        patient_key=found.get("patient_key"),
        phone_hash=found.get("phone_hash"),
        blocked=_bool_or_none(found.get("blocked")),
    )


@cache
def _signal_select(
    *,
    bindings: bool,
    device_enough: int | None,
    own_patient: bool,
    first_actions: tuple[str, ...] | None,
    browse_actions: tuple[str, ...] | None,
    patient: bool = False,
    blacklist_scopes: tuple[Scope, ...] | None = None,
    blacklist_patient: bool = False,
    blacklist_phone: bool = False,
) -> Select[Any]:
    """The statement of one shape of ask, with bound parameters for the values: built
    and its cache key computed once per process, not per request."""
    columns: list[Label[Any]] = []
    if patient:
        columns.append(_patient_column(Patient.id_hash).label("patient_key"))
        columns.append(_patient_column(Patient.phone_hash).label("phone_hash"))
    if blacklist_scopes is not None:
        pairs: list[tuple[Scope, ColumnElement[str | None]]] = [
            (scope, bindparam(f"k{i}")) for i, scope in enumerate(blacklist_scopes)
        ]
        if blacklist_patient:
            pairs.append((Scope.PATIENT, _patient_column(Patient.id_hash)))
        if blacklist_phone:
            pairs.append((Scope.PHONE, _patient_column(Patient.phone_hash)))
        hit = blacklist_repo.in_force_hit(pairs, now=bindparam("k_now"))
        columns.append(hit.label("blocked"))
    if bindings:
        columns.append(_bindings_since().label("bindings"))
    if device_enough is not None:
        columns.append(
            _other_device_patients(enough=device_enough, own_patient=own_patient).label(
                "other_device_patients"
            )
        )
    if first_actions is not None:
        created = select(Account.created_at).where(Account.id == bindparam("f_account"))
        columns.append(created.scalar_subquery().label("account_created_at"))
        columns.append(_acted_before_if_young(first_actions).label("acted_before"))
    if browse_actions is not None:
        columns.append(_browsed_since(browse_actions).label("browsed"))
    return select(*columns)


def _patient_column(column: Any) -> ScalarSelect[Any]:
    """One stored key of the asked patient (NULL: no such patient)."""
    return select(column).where(Patient.id == bindparam("p_patient")).scalar_subquery()


def _bindings_since() -> ScalarSelect[Any]:
    """Patients bound to the account since ``since`` (successful bindings: an unbind and
    a rebind count twice, which is what churning identities through an account does)."""
    return (
        select(func.count())
        .select_from(RequestRecord)
        .where(
            RequestRecord.account_id == bindparam("b_account"),
            RequestRecord.at >= bindparam("b_since"),
            RequestRecord.action == "bind_patient",
            RequestRecord.outcome == "ok",
        )
        .scalar_subquery()
    )


def _other_device_patients(*, enough: int, own_patient: bool) -> ScalarSelect[Any]:
    """Distinct patients other than the request's own booked through the device since
    ``since``; at most ``enough`` of them (the decision needs no more, and a busy device
    must not cost more)."""
    others = select(Booking.patient_id).where(
        Booking.device_key == bindparam("d_device"), Booking.held_at >= bindparam("d_since")
    )
    if own_patient:
        others = others.where(Booking.patient_id != bindparam("d_patient"))
    limited = others.distinct().limit(enough).subquery()
    return select(func.count()).select_from(limited).scalar_subquery()


def _acted_before_if_young(actions: tuple[str, ...]) -> ScalarSelect[Any]:
    """Whether the account already asked for any of ``actions`` (allowed or refused);
    NULL, without reading its requests, when the account is not younger than
    ``young_after`` (the signal then does not apply)."""
    account_id: BindParameter[int] = bindparam("f_account")
    acted = exists().where(
        RequestRecord.account_id == account_id, among(RequestRecord.action, actions)
    )
    return (
        select(acted)
        .where(Account.id == account_id, Account.created_at > bindparam("f_young_after"))
        .scalar_subquery()
    )


def _browsed_since(actions: tuple[str, ...]) -> ScalarSelect[Any]:
    """Whether the device asked for availability (any of ``actions``) since ``since``."""
    return select(
        exists().where(
            RequestRecord.device_key == bindparam("w_device"),
            RequestRecord.at >= bindparam("w_since"),
            among(RequestRecord.action, actions),
        )
    ).scalar_subquery()


def _int_or_none(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def _bool_or_none(value: object) -> bool | None:
    return None if value is None else bool(value)


def fast_requests_since(
    db: Session,
    *,
    account_id: int | None,
    device_key: str | None,
    since: datetime,
    reasons: Collection[str],
) -> int:
    """Requests of the account or the device since ``since`` flagged with any of the
    ``reasons`` (review or block). The statement is built once per shape
    (``_fast_count``), as ``signal_reads``'s is: at release time most holds are fast and
    ask this, and building it anew was a tenth of a hold's CPU in its worker thread."""
    if (account_id is None and not device_key) or not reasons:
        return 0
    params: dict[str, object] = {"q_since": since}
    if account_id is not None:
        params["q_account"] = account_id
    if device_key:
        params["q_device"] = device_key
    statement = _fast_count(
        account=account_id is not None, device=bool(device_key), reasons=tuple(sorted(reasons))
    )
    return int(core_connection(db).execute(statement, params).scalar() or 0)


@cache
def _fast_count(*, account: bool, device: bool, reasons: tuple[str, ...]) -> Select[Any]:
    """One branch per subject, joined by UNION: each branch reads its own (subject, at)
    index, where an OR could lead the planner to every review of the hour instead."""
    subjects: list[ColumnElement[bool]] = []
    if account:
        subjects.append(RequestRecord.account_id == bindparam("q_account"))
    if device:
        subjects.append(RequestRecord.device_key == bindparam("q_device"))
    branches = [
        select(RequestRecord.id).where(
            subject,
            RequestRecord.at >= bindparam("q_since"),
            among(RequestRecord.decision, ("review", "block")),
            or_(*(RequestRecord.reasons.contains(r, autoescape=True) for r in reasons)),
        )
        for subject in subjects
    ]
    flagged = union(*branches).subquery() if len(branches) > 1 else branches[0].subquery()
    return select(func.count()).select_from(flagged)


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
    device_key: str | None
    ip_key: str | None
    wifi_key: str | None
    payment_account_hash: str | None


def review_decisions(db: Session, *, start: datetime, end: datetime) -> list[FlaggedRequest]:
    """The requests recorded with a review or block decision in ``[start, end)``, oldest
    first: what the daily batch turns into alerts."""
    rows = db.scalars(
        select(RequestRecord)
        .where(
            among(RequestRecord.decision, ("review", "block")),
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
            device_key=r.device_key,
            ip_key=r.ip_key,
            wifi_key=r.wifi_key,
            payment_account_hash=r.payment_account_hash,
        )
        for r in rows
    ]
