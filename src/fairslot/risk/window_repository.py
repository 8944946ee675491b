"""The batch's window, kept in the database, and the aggregations that pick its suspects.

A city's week is a million bookings; nearly all of them are ordinary and no rule can fire
on them. Loading every one into Python to find that out cost most of the batch's time and
memory. Instead the window's bookings are written once into a temporary table
(``risk_window``, the join of bookings, patients and departments that ``in_window`` selects,
gone with the connection), and each rule family's 7-day count is a ``GROUP BY … HAVING``
there: the same SQL on SQLite and PostgreSQL. Only the bookings of the entities a count
lets through are read back as facts, and the pure rules (``risk/rules.py``,
``risk/operators.py``) judge those exactly as before.

Why the answer cannot change: every pre-filter is a necessary condition of its rule (a
group whose count misses the threshold in SQL misses it in Python too), the bookings read
back are whole groups (every booking of a suspect patient, account, payment account or
device), and they are *patient-closed* (all of a patient's bookings or none), so the one
rule that can lose a hit by seeing more — a cancellation forgiven by a visit — sees every
visit of every patient it judges. ``tests/integration/test_risk_window.py`` runs both
ways over the same history and compares.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    CompoundSelect,
    Date,
    Enum,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    distinct,
    func,
    insert,
    null,
    or_,
    select,
    text,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from fairslot.audit.models import RequestRecord
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.db.base import UTCDateTime
from fairslot.hospitals.kinds import SexRestriction
from fairslot.hospitals.models import Department
from fairslot.patients.identity import Sex
from fairslot.patients.models import Account, Binding, Patient
from fairslot.risk.facts import BookingFact, RiskSettings
from fairslot.risk.linking import BindingFact
from fairslot.risk.repository import in_window, request_filter, stream, utc
from fairslot.risk.ring_groups import IdentityRow
from fairslot.risk.rules import Window

_ATTENDED = {BookingStatus.CHECKED_IN: True, BookingStatus.NO_SHOW: False}


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda c: [m.value for m in c],
    )


# Not in the platform's metadata: a per-connection scratch table, never migrated.
_scratch = MetaData()
W = Table(
    "risk_window",
    _scratch,
    Column("booking_id", String(36)),
    Column("patient_key", String(64)),
    Column("patient_id", Integer),
    Column("account_id", Integer),
    Column("department_id", Integer),
    Column("specialty", String(64)),
    Column("sex_restriction", _enum(SexRestriction)),
    Column("patient_sex", _enum(Sex)),
    Column("session_id", Integer),
    Column("session_date", Date),
    Column("taken_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("status", _enum(BookingStatus)),
    Column("payment_hash", String(64)),
    Column("device_key", String(128)),
    Column("ip_key", String(64)),
    Column("wifi_key", String(128)),
    Column("phone_hash", String(64)),
    Column("channel_id", Integer),
    Column("id_last4", String(8)),
    Column("payment_masked", String(64)),
    Column("ip_label", String(64)),
    prefixes=["TEMPORARY"],
)
# The bindings the batch reads (of every patient and account of ``risk_window``, as
# the old whole-window reading did): patient, account, the account's phone.
B = Table(
    "risk_window_bindings",
    _scratch,
    Column("patient_key", String(64)),
    Column("account_id", Integer),
    Column("phone_hash", String(64)),
    prefixes=["TEMPORARY"],
)
# The window's requests the batch reads (``repository.request_filter``), their identifiers.
R = Table(
    "risk_window_requests",
    _scratch,
    Column("patient_key", String(64)),
    Column("account_id", Integer),
    Column("device_key", String(128)),
    Column("ip_key", String(64)),
    Column("wifi_key", String(128)),
    Column("payment_hash", String(64)),
    Column("channel_id", Integer),
    prefixes=["TEMPORARY"],
)
# Keys the batch holds in Python (a blacklist, candidate patients), to join on.
K = Table("risk_window_keys", _scratch, Column("key", String(128)), prefixes=["TEMPORARY"])
_TABLES = (W, B, R, K)


def open_window(db: Session, *, window: Window) -> int:
    """Write the window's bookings into ``risk_window`` and the bindings the batch reads
    into ``risk_window_bindings`` (dropping left-over ones first); how many bookings."""
    connection = db.connection()
    for table in _TABLES:
        table.drop(connection, checkfirst=True)
        table.create(connection)
    r = RequestRecord
    connection.execute(
        insert(R).from_select(
            [c.name for c in R.columns],
            select(
                r.patient_key,
                r.account_id,
                r.device_key,
                r.ip_key,
                r.wifi_key,
                r.payment_account_hash,
                r.channel_id,
            ).where(request_filter(window)),
        )
    )
    source = (
        select(
            Booking.id,
            Patient.id_hash,
            Booking.patient_id,
            Booking.account_id,
            Booking.department_id,
            Department.specialty,
            Department.sex_restriction,
            Patient.sex,
            Booking.session_id,
            Booking.session_date,
            func.coalesce(Booking.booked_at, Booking.held_at),
            Booking.ended_at,
            Booking.status,
            Booking.payment_account_hash,
            Booking.device_key,
            Booking.ip_key,
            Booking.wifi_key,
            Patient.phone_hash,
            Booking.channel_id,
            Patient.id_last4,
            Booking.payment_account_masked,
            Booking.ip_label,
        )
        .join(Department, Department.id == Booking.department_id)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(in_window(window))
    )
    connection.execute(insert(W).from_select([c.name for c in W.columns], source))
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # Plans over the scratch tables need their size and spread.
        connection.execute(text("ANALYZE risk_window"))
    # The bindings of every patient and every account of the window's bookings (what
    # the batch always read), found from the scratch table just written.
    wanted = union(
        select(Binding.id).where(Binding.patient_id.in_(select(W.c.patient_id))),
        select(Binding.id).where(Binding.account_id.in_(select(W.c.account_id))),
    ).subquery()
    connection.execute(
        insert(B).from_select(
            ["patient_key", "account_id", "phone_hash"],
            select(Patient.id_hash, Binding.account_id, Account.phone_hash)
            .join(wanted, wanted.c.id == Binding.id)
            .join(Patient, Patient.id == Binding.patient_id)
            .join(Account, Account.id == Binding.account_id),
        )
    )
    if postgres:
        connection.execute(text("ANALYZE risk_window_bindings"))
        connection.execute(text("ANALYZE risk_window_requests"))
    return int(connection.execute(select(func.count()).select_from(W)).scalar_one())


def close_window(db: Session) -> None:
    for table in _TABLES:
        table.drop(db.connection(), checkfirst=True)


def binding_count(db: Session) -> int:
    return int(db.execute(select(func.count()).select_from(B)).scalar_one())


def bindings_of(db: Session, *, patients: Collection[str]) -> list[BindingFact]:
    """The bindings the batch reads of ``patients``."""
    _keys(db, patients)
    statement = select(B.c.patient_key, B.c.account_id, B.c.phone_hash).where(
        B.c.patient_key.in_(select(K.c.key))
    )
    return [
        BindingFact(patient_key=key, account_id=account_id, account_phone_hash=phone)
        for key, account_id, phone in stream(db, statement)
    ]


def _keys(db: Session, keys: Collection[str]) -> None:
    """Make ``risk_window_keys`` hold exactly ``keys``."""
    connection = db.connection()
    connection.execute(K.delete())
    if keys:
        connection.execute(insert(K), [{"key": key} for key in keys])


# what a row means (the same readings as ``facts.BookingFact``) ---------------------------


def _within(column: Any, window: Window) -> ColumnElement[bool]:
    return and_(column >= window.start, column < window.end)


def _booked_in(window: Window) -> ColumnElement[bool]:
    return _within(W.c.taken_at, window)


def _is_booking() -> ColumnElement[bool]:
    return W.c.status != BookingStatus.EXPIRED


def _day_in(window: Window) -> ColumnElement[bool]:
    first, after = window.local_days
    return and_(W.c.session_date >= first, W.c.session_date < after)


def _cancelled_in(window: Window) -> ColumnElement[bool]:
    return and_(W.c.status == BookingStatus.CANCELLED, _within(W.c.ended_at, window))


def _sex_mismatch() -> ColumnElement[bool]:
    return and_(
        W.c.patient_sex.is_not(None),
        or_(
            and_(W.c.sex_restriction == SexRestriction.FEMALE, W.c.patient_sex != Sex.FEMALE),
            and_(W.c.sex_restriction == SexRestriction.MALE, W.c.patient_sex != Sex.MALE),
        ),
    )


def _epoch(db: Session, column: Any) -> Any:
    """Seconds since 1970 of a timestamp column, as a float, on either backend."""
    if db.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", column)
    return (func.julianday(column) - 2440587.5) * 86400.0


# the booking rules' suspects ------------------------------------------------------------


def _over(where: ColumnElement[bool], key: Any, having: ColumnElement[bool]) -> Select[Any]:
    return select(key).where(where, key.is_not(None)).group_by(key).having(having)


def _distinct_over(
    where: ColumnElement[bool], key: Any, counted: Any, *, at_least: int
) -> Select[Any]:
    """Keys with at least ``at_least`` different ``counted`` values. A distinct count
    sorts; the plain count, which it never exceeds, hashes: it goes first."""
    rows = _over(where, key, func.count() >= at_least)
    return _over(and_(where, key.in_(rows)), key, func.count(distinct(counted)) >= at_least)


def rule_suspects(db: Session, *, window: Window, settings: RiskSettings) -> CompoundSelect[Any]:
    """The patients whose bookings the booking rules (``rules.run_all``) must see: a union
    of one ``GROUP BY`` per rule, each keeping only the groups that reach the rule's count
    (ignoring what only lowers it: a visit forgiving a cancellation, the accounts being
    different people in synchrony)."""
    booked = and_(_is_booking(), _booked_in(window))
    paid = and_(
        W.c.payment_hash.is_not(None),
        W.c.status.not_in((BookingStatus.HELD, BookingStatus.EXPIRED)),
        _booked_in(window),
    )
    count = func.count()
    # (3), (4), (5): counted per patient and per account, each in one pass
    counted = (
        (and_(booked, _sex_mismatch()), settings.sex_mismatch_repeat),
        (_cancelled_in(window), settings.cancellations_without_visit),
        (and_(W.c.status == BookingStatus.NO_SHOW, _day_in(window)), settings.no_shows),
    )

    def reaching(key: Any) -> Select[Any]:
        sums = [func.sum(case((where, 1), else_=0)) >= at_least for where, at_least in counted]
        return select(key).where(key.is_not(None)).group_by(key).having(or_(*sums))

    # (2) departments per patient
    spread = _distinct_over(
        booked, W.c.patient_key, W.c.department_id, at_least=settings.same_patient_departments
    )
    accounts = union(
        reaching(W.c.account_id), synchrony_suspects(db, window=window, settings=settings)
    )
    # (1) one payment account, one department
    card_groups = (
        select(W.c.payment_hash, W.c.department_id)
        .where(paid)
        .group_by(W.c.payment_hash, W.c.department_id)
        .having(count >= settings.same_payment_same_department)
    )
    # (8) one device or payment account, more than N patients
    devices = _distinct_over(
        booked, W.c.device_key, W.c.patient_key, at_least=settings.shared_device_patients + 1
    )
    payments = _distinct_over(
        booked, W.c.payment_hash, W.c.patient_key, at_least=settings.shared_payment_patients + 1
    )
    return union(
        reaching(W.c.patient_key),
        spread,
        select(W.c.patient_key).where(
            or_(
                W.c.account_id.in_(accounts),
                tuple_(W.c.payment_hash, W.c.department_id).in_(card_groups),
                W.c.device_key.in_(devices),
                W.c.payment_hash.in_(payments),
            )
        ),
    )


def synchrony_suspects(db: Session, *, window: Window, settings: RiskSettings) -> Select[Any]:
    """Accounts with an act (a booking or a cancellation in the window) that has a
    neighbour in its session within ``synchrony_gap``, on at least ``synchrony_sessions``
    sessions: both accounts of every pair the rule counts are among them (each of their
    shared acts has such a neighbour)."""
    acts = union_all(
        select(W.c.session_id, W.c.account_id, _epoch(db, W.c.taken_at).label("t")).where(
            W.c.account_id.is_not(None), _booked_in(window)
        ),
        select(W.c.session_id, W.c.account_id, _epoch(db, W.c.ended_at).label("t")).where(
            W.c.account_id.is_not(None), _cancelled_in(window)
        ),
    ).subquery()
    by, t = acts.c.session_id, acts.c.t
    gaps = select(
        acts.c.session_id,
        acts.c.account_id,
        (t - func.lag(t).over(partition_by=by, order_by=t)).label("before"),
        (func.lead(t).over(partition_by=by, order_by=t) - t).label("after"),
    ).subquery()
    # A millisecond of slack for the float seconds; the rule itself decides exactly.
    gap = settings.synchrony_gap.total_seconds() + 0.001
    return (
        select(gaps.c.account_id)
        .where(or_(gaps.c.before <= gap, gaps.c.after <= gap))
        .group_by(gaps.c.account_id)
        .having(func.count(distinct(gaps.c.session_id)) >= settings.synchrony_sessions)
    )


# the operator rules' suspects -----------------------------------------------------------


def operator_suspect_rows(
    db: Session, *, window: Window, settings: RiskSettings, staffed: Collection[int]
) -> CompoundSelect[Any]:
    """The bookings the operator rules (``operators.py``) must see for their payment and
    device counts: every booking of a payment account, or a device, that acted (booked in
    the window or in a request the batch reads) for enough accounts and patients."""

    def device(column: Any, channel: Any) -> Any:
        # A staffed channel's terminal is no one's device (``operators.traces``).
        if not staffed:
            return column
        return case((channel.in_(sorted(staffed)), null()), else_=column)

    def traces(booked: Any, requested: Any) -> Any:
        return union_all(
            select(booked.label("k"), W.c.account_id.label("a"), W.c.patient_key.label("p")).where(
                _booked_in(window)
            ),
            select(requested.label("k"), R.c.account_id, R.c.patient_key),
        ).cte()

    def counted(found: Any, gate: int, *having: ColumnElement[bool]) -> Select[Any]:
        # A key's rows bound its accounts and patients: the cheap count goes first.
        rows = select(found.c.k).group_by(found.c.k).having(func.count() >= gate)
        return (
            select(found.c.k)
            .where(found.c.k.is_not(None), found.c.k.in_(rows))
            .group_by(found.c.k)
            .having(*having)
        )

    paid = traces(W.c.payment_hash, R.c.payment_hash)
    payments = counted(
        paid,
        min(settings.payment_accounts, settings.payment_patients),
        func.count(distinct(paid.c.a)) >= settings.payment_accounts,
        func.count(distinct(paid.c.p)) >= settings.payment_patients,
    )
    # ``operators.device_across_accounts``: enough accounts, or more patients than a
    # household.
    used = traces(
        device(W.c.device_key, W.c.channel_id),
        device(R.c.device_key, R.c.channel_id),
    )
    household = settings.shared_device_patients
    devices = counted(
        used,
        min(settings.device_accounts, household + 1),
        or_(
            func.count(distinct(used.c.a)) >= settings.device_accounts,
            func.count(distinct(used.c.p)) > household,
        ),
    )
    return union(
        select(W.c.booking_id).where(W.c.payment_hash.in_(payments)),
        select(W.c.booking_id).where(W.c.device_key.in_(devices)),
    )


# facts read back ------------------------------------------------------------------------


def _fact_columns(db: Session) -> tuple[Any, ...]:
    return (
        W.c.booking_id,
        W.c.patient_key,
        W.c.account_id,
        W.c.department_id,
        W.c.specialty,
        W.c.sex_restriction,
        W.c.patient_sex,
        W.c.session_id,
        W.c.session_date,
        utc(db, W.c.taken_at),
        utc(db, W.c.ended_at),
        W.c.status,
        W.c.payment_hash,
        W.c.device_key,
        W.c.ip_key,
        W.c.wifi_key,
        W.c.phone_hash,
        W.c.channel_id,
    )


def _facts(db: Session, statement: Any) -> Iterator[BookingFact]:
    cancelled = BookingStatus.CANCELLED
    for (
        booking_id,
        patient_key,
        account_id,
        department_id,
        specialty,
        sex_restriction,
        sex,
        session_id,
        session_date,
        taken_at,
        ended_at,
        status,
        payment_hash,
        device_key,
        ip,
        wifi_key,
        phone_hash,
        channel_id,
    ) in stream(db, statement):
        yield BookingFact(
            booking_id=booking_id,
            patient_key=patient_key,
            account_id=account_id,
            department_id=department_id,
            department_specialty=specialty,
            sex_restriction=sex_restriction,
            patient_sex=sex,
            session_id=session_id,
            session_date=session_date,
            booked_at=taken_at,
            cancelled_at=ended_at if status is cancelled else None,
            status=status,
            attended=_ATTENDED.get(status),
            payment_account_hash=payment_hash,
            device_key=device_key,
            ip_key=ip,
            wifi_key=wifi_key,
            phone_hash=phone_hash,
            channel_id=channel_id,
        )


def facts_of_patients(db: Session, *, patients: CompoundSelect[Any]) -> list[BookingFact]:
    """Every window booking of the patients ``patients`` selects (a query of keys)."""
    statement = select(*_fact_columns(db)).where(W.c.patient_key.in_(patients))
    return list(_facts(db, statement))


def facts_of_bookings(db: Session, *, bookings: CompoundSelect[Any]) -> list[BookingFact]:
    statement = select(*_fact_columns(db)).where(W.c.booking_id.in_(bookings))
    return list(_facts(db, statement))


def facts_with_keys(
    db: Session,
    *,
    patients: Collection[str] = (),
    payments: Collection[str] = (),
    devices: Collection[str] = (),
    wifis: Collection[str] = (),
) -> list[BookingFact]:
    """Window bookings of the given patients, or with the given payment accounts, devices
    or Wi-Fi ids (keys the batch holds: the blacklist, the polling devices, the ring
    candidates)."""
    found: list[BookingFact] = []
    for column, keys in (
        (W.c.patient_key, patients),
        (W.c.payment_hash, payments),
        (W.c.device_key, devices),
        (W.c.wifi_key, wifis),
    ):
        if keys:
            _keys(db, keys)
            found += _facts(db, select(*_fact_columns(db)).where(column.in_(select(K.c.key))))
    return found


# the ring groups ------------------------------------------------------------------------


def identity_rows(db: Session) -> Iterable[IdentityRow]:
    """Every identifier the ring grouping joins (``ring_candidates.ring_input``), one row
    per window booking, read request and binding: (patient, account, phone, device,
    address, Wi-Fi, payment account)."""
    none = null()
    statement = union_all(
        select(
            W.c.patient_key,
            W.c.account_id,
            W.c.phone_hash,
            W.c.device_key,
            W.c.ip_key,
            W.c.wifi_key,
            W.c.payment_hash,
        ),
        select(
            R.c.patient_key,
            R.c.account_id,
            none,
            R.c.device_key,
            R.c.ip_key,
            R.c.wifi_key,
            R.c.payment_hash,
        ),
        select(B.c.patient_key, B.c.account_id, B.c.phone_hash, none, none, none, none),
    )
    for row in stream(db, statement):
        patient, account, phone, device, ip, wifi, payment = row
        yield patient, account, phone, device, ip, wifi, payment


def patient_keys(db: Session) -> Iterable[str]:
    """Every patient of :func:`identity_rows`, once."""
    statement = union(select(W.c.patient_key), select(R.c.patient_key), select(B.c.patient_key))
    for (key,) in stream(db, statement):
        yield key


# labels ---------------------------------------------------------------------------------


def labels_of(
    db: Session, *, patients: Collection[str], payments: Collection[str], ips: Collection[str]
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """What the window's bookings show of these patients, payment accounts and addresses
    (``repository.BookingLoad``'s labels), for the alerts that name them."""
    found: list[dict[str, str]] = []
    for keys, key, label in (
        (patients, W.c.patient_key, W.c.id_last4),
        (payments, W.c.payment_hash, W.c.payment_masked),
        (ips, W.c.ip_key, W.c.ip_label),
    ):
        labels: dict[str, str] = {}
        if keys:
            _keys(db, keys)
            statement = select(key, label).where(key.in_(select(K.c.key))).distinct()
            if label is not W.c.id_last4:  # the others only where the row carried one
                statement = statement.where(label.is_not(None), label != "")
            labels.update((k, v) for k, v in db.execute(statement))
        found.append(labels)
    last4, masked, ip_labels = found
    return last4, masked, ip_labels
