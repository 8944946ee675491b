"""Every query of the daily anomaly batch.

Sized for a city: a week of a million bookings and their ledger rows. Each fact kind is
one Core select, streamed (``yield_per``: a server-side cursor on PostgreSQL) and turned
straight into frozen facts; no ORM object is built per row and nothing is looked up row by
row. Which bookings a window reads, and why, is :func:`in_window`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    and_,
    case,
    func,
    insert,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session, aliased

from fairslot.allocation.states import AllocationMode
from fairslot.audit.models import RequestRecord
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.channels.models import Channel, ChannelKind
from fairslot.hospitals.models import Department
from fairslot.ledger.events import EventKind
from fairslot.ledger.models import SlotEvent
from fairslot.patients.models import Patient
from fairslot.risk.facts import BookingFact, SlotEventFact
from fairslot.risk.linking import RequestFact, SessionSupply
from fairslot.risk.models import RiskAlert, RiskRun
from fairslot.risk.realtime import FAMILY_REASONS
from fairslot.risk.rules import Window
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SlotState

# Keys the batch holds in Python, sent in IN lists of at most this many.
IN_CHUNK = 1_000
# Rows fetched per round trip while streaming.
STREAM_ROWS = 20_000
# PostgreSQL memory per sort or hash of the batch's queries (see ``prepare``).
BATCH_WORK_MEM = "256MB"
# PostgreSQL memory for the batch's scratch tables (``window_repository.py``).
BATCH_TEMP_BUFFERS = "512MB"

# The ledger kinds the transfer rule reads (a cancellation and the next hold or booking);
# the others (pushed, released, cooling ...) never change its answer, so they are not read.
TRANSFER_KINDS = (EventKind.CANCELLED, EventKind.HELD, EventKind.BOOKED)

# Slot states that count as taken when judging whether a session ended up full.
OCCUPIED_SLOT = (SlotState.HELD, SlotState.BOOKED, SlotState.ATTENDED, SlotState.NO_SHOW)

_ATTENDED = {BookingStatus.CHECKED_IN: True, BookingStatus.NO_SHOW: False}


@dataclass
class BookingLoad:
    """The window's bookings, and what their rows tell about labels (nothing decrypted)."""

    facts: list[BookingFact] = field(default_factory=list)
    patient_last4: dict[str, str] = field(default_factory=dict)
    payment_masked: dict[str, str] = field(default_factory=dict)
    ip_labels: dict[str, str] = field(default_factory=dict)  # ip_key → 203.0.113.x


def in_window(window: Window) -> ColumnElement[bool]:
    """A booking belongs to the window when it was taken, cancelled or due in it: the three
    moments the rules read (``risk/rules.py``). Taken: confirmed, or held if never paid."""
    first, after = window.local_days
    # "coalesce(booked_at, held_at) in the window", spelled so that each branch reads its
    # own index (ix_bookings_booked_at, ix_bookings_held_at): a coalesce reads none.
    return or_(
        and_(Booking.booked_at >= window.start, Booking.booked_at < window.end),
        and_(
            Booking.booked_at.is_(None),
            Booking.held_at >= window.start,
            Booking.held_at < window.end,
        ),
        and_(
            Booking.status == BookingStatus.CANCELLED,
            Booking.ended_at >= window.start,
            Booking.ended_at < window.end,
        ),
        and_(Booking.session_date >= first, Booking.session_date < after),
    )


def stream(db: Session, statement: Any) -> Iterable[Sequence[Any]]:
    """Rows of a Core select, fetched ``STREAM_ROWS`` at a time (a server-side cursor on
    PostgreSQL), on the session's connection and transaction but without the ORM's
    per-row machinery."""
    result = db.connection().execute(
        statement.execution_options(stream_results=True, max_row_buffer=STREAM_ROWS)
    )
    for partition in result.partitions(STREAM_ROWS):
        yield from partition


def utc(db: Session, column: Any) -> Any:
    """A timestamp column as the driver returns it where that is already aware and UTC.

    On PostgreSQL (with the transaction's time zone set to UTC by :func:`prepare`) the
    driver hands back aware UTC datetimes, and skipping the column type's conversion
    matters over millions of rows; SQLite stores naive UTC text, which the column type
    makes aware.
    """
    if db.get_bind().dialect.name == "postgresql":
        return type_coerce(column, DateTime(timezone=True))
    return column


def prepare(db: Session) -> None:
    """Settings for this transaction only (PostgreSQL; they end with it).

    * time zone UTC: timestamps then arrive with the standard library's UTC, far cheaper
      per row than a named zone;
    * ``cursor_tuple_fraction = 1``: the batch reads every row of its cursors, so plan for
      the whole result (hash joins), not for the first rows (nested loops over indexes,
      which at a million bookings run for hours);
    * ``work_mem``: room for those hash joins, and the window's ``GROUP BY``s
      (``window_repository.py``), over a million keys in memory;
    * ``temp_buffers``: the window's scratch tables stay in memory (it takes effect only
      before a connection's first temporary table, and is harmless after);
    * no JIT: it compiles each of the batch's many one-off statements for longer than
      they then run;
    * no merge joins: the window's aggregates are estimated low (their groups pass a
      ``HAVING``), and a merge join then sorts millions of key strings on disk where a
      hash join over the few groups that passed is cheap.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL TIME ZONE 'UTC'"))
        db.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
        db.execute(text(f"SET LOCAL work_mem = '{BATCH_WORK_MEM}'"))
        db.execute(text(f"SET LOCAL temp_buffers = '{BATCH_TEMP_BUFFERS}'"))
        db.execute(text("SET LOCAL jit = off"))
        db.execute(text("SET LOCAL enable_mergejoin = off"))


def slot_event_facts(db: Session, *, window: Window, lead: timedelta) -> list[SlotEventFact]:
    """The ledger rows the transfer rule (``rules.find_transfers``) can fire on: each
    cancellation in the window whose slot's next hold or booking (among cancellations,
    holds and bookings from ``lead`` before the window to its end) is another patient's
    sharing an identifier with the canceller, and that next hold or booking.

    The rule walks each slot's ledger from a cancellation to the next hold or booking;
    the database finds that pair (:func:`_transfer_pairs`) and keeps only those the rule
    could count, so a week's ledger stays there. The rule sees each kept cancellation's
    own next hold or booking: between the two there are only cancellations.

    The phone comes from the patient the event names (a shared phone links a canceller to
    a taker). A cancellation or a hold carries no payment account on the ledger (it is
    given at confirmation), so it takes its booking's: the same card paying for the
    cancelled booking and for the next one is the strongest link a transfer leaves.
    """
    pairs = db.execute(_transfer_pairs(window=window, lead=lead)).all()
    ids = sorted({event_id for pair in pairs for event_id in pair})
    found: list[SlotEventFact] = []
    for start in range(0, len(ids), IN_CHUNK):
        found += _slot_events(db, ids=ids[start : start + IN_CHUNK])
    return found


def _slot_events(db: Session, *, ids: Sequence[int]) -> list[SlotEventFact]:
    statement = (
        select(
            SlotEvent.id,
            SlotEvent.slot_id,
            SlotEvent.kind,
            utc(db, SlotEvent.at),
            SlotEvent.patient_key,
            SlotEvent.account_id,
            SlotEvent.device_key,
            SlotEvent.ip_key,
            SlotEvent.wifi_key,
            func.coalesce(SlotEvent.payment_account_hash, Booking.payment_account_hash),
            Patient.phone_hash,
            SlotEvent.booking_id,
        )
        .outerjoin(Patient, Patient.id_hash == SlotEvent.patient_key)
        .outerjoin(Booking, Booking.id == SlotEvent.booking_id)
        .where(SlotEvent.id.in_(ids))
    )
    return [
        SlotEventFact(
            event_id=event_id,
            slot_id=slot_id,
            kind=kind,
            at=at,
            patient_key=patient_key,
            account_id=account_id,
            device_key=device_key,
            ip_key=ip,
            wifi_key=wifi_key,
            payment_account_hash=payment_hash,
            phone_hash=phone_hash,
            booking_id=booking_id,
        )
        for (
            event_id,
            slot_id,
            kind,
            at,
            patient_key,
            account_id,
            device_key,
            ip,
            wifi_key,
            payment_hash,
            phone_hash,
            booking_id,
        ) in stream(db, statement)
    ]


def _transfer_pairs(*, window: Window, lead: timedelta) -> Select[tuple[int, int]]:
    """(cancellation, next hold or booking) event ids the transfer rule could count: the
    cancellation in the window, the two of different patients, sharing an account, a
    device, an address, a Wi-Fi id, a phone or a payment account (equal in SQL: the rule
    then compares exactly).

    Two passes of window functions, no join of the ledger with itself: each row first
    gets how many holds and bookings its slot had up to it (in the rule's order, time
    then id); a cancellation then joins the run of the next hold or booking (one more),
    whose last row is that hold or booking, if there is one."""
    cancelled = aliased(SlotEvent)
    # Joined (not ``IN``): the ledger is then read slot by slot through its slot index.
    slots = (
        select(cancelled.slot_id)
        .where(
            cancelled.kind == EventKind.CANCELLED,
            cancelled.at >= window.start,
            cancelled.at < window.end,
        )
        .distinct()
        .subquery("cancelled_slots")
    )
    acquired = func.sum(case((SlotEvent.kind != EventKind.CANCELLED, 1), else_=0)).over(
        partition_by=SlotEvent.slot_id, order_by=(SlotEvent.at, SlotEvent.id), rows=(None, 0)
    )
    ledger = (
        select(
            SlotEvent.id,
            SlotEvent.slot_id,
            SlotEvent.kind,
            SlotEvent.at,
            SlotEvent.patient_key,
            SlotEvent.account_id,
            SlotEvent.device_key,
            SlotEvent.ip_key,
            SlotEvent.wifi_key,
            SlotEvent.payment_account_hash,
            SlotEvent.booking_id,
            acquired.label("acquired"),
        )
        # Only slots cancelled in the window can show a transfer.
        .join(slots, slots.c.slot_id == SlotEvent.slot_id)
        .where(
            SlotEvent.at >= window.start - lead,
            SlotEvent.at < window.end,
            SlotEvent.kind.in_(TRANSFER_KINDS),
        )
        .subquery("ledger")
    )
    # The run a row belongs to, as a column: the windows below then share one definition
    # (one sort), which an expression repeated in each would not.
    runs = select(
        ledger,
        case(
            (ledger.c.kind == EventKind.CANCELLED, ledger.c.acquired + 1),
            else_=ledger.c.acquired,
        ).label("run"),
    ).subquery("runs")
    e = runs.c
    taken = (
        e.id,
        e.kind,
        e.patient_key,
        e.account_id,
        e.device_key,
        e.ip_key,
        e.wifi_key,
        e.payment_account_hash,
        e.booking_id,
    )
    paired = select(
        *taken,
        e.at,
        *(
            func.last_value(c)
            .over(partition_by=(e.slot_id, e.run), order_by=(e.at, e.id), rows=(None, None))
            .label(f"t_{c.key}")
            for c in taken
        ),
    ).subquery("paired")
    p = paired.c
    c_patient, t_patient = aliased(Patient), aliased(Patient)
    c_booking, t_booking = aliased(Booking), aliased(Booking)
    return (
        select(p.id.label("cancelled_id"), p.t_id.label("taken_id"))
        .outerjoin(c_patient, c_patient.id_hash == p.patient_key)
        .outerjoin(t_patient, t_patient.id_hash == p.t_patient_key)
        .outerjoin(c_booking, c_booking.id == p.booking_id)
        .outerjoin(t_booking, t_booking.id == p.t_booking_id)
        .where(
            p.kind == EventKind.CANCELLED,
            p.at >= window.start,
            p.at < window.end,
            p.t_kind != EventKind.CANCELLED,
            p.t_patient_key != p.patient_key,  # neither NULL
            or_(
                p.t_account_id == p.account_id,
                p.t_device_key == p.device_key,
                p.t_ip_key == p.ip_key,
                p.t_wifi_key == p.wifi_key,
                t_patient.phone_hash == c_patient.phone_hash,
                func.coalesce(p.t_payment_account_hash, t_booking.payment_account_hash)
                == func.coalesce(p.payment_account_hash, c_booking.payment_account_hash),
            ),
        )
    )


def supply_of_sessions(db: Session, *, ids: Collection[int]) -> list[SessionSupply]:
    """The supply of the sessions ``ids`` (sent ``IN_CHUNK`` at a time)."""
    keys, found = sorted(ids), []
    for start in range(0, len(keys), IN_CHUNK):
        chunk = keys[start : start + IN_CHUNK]
        found += supply_of(
            db,
            sessions=select(ClinicSession.id.label("session_id")).where(
                ClinicSession.id.in_(chunk)
            ),
        )
    return found


def supply_of(db: Session, *, sessions: Select[int]) -> list[SessionSupply]:
    """The supply of the sessions ``sessions`` selects (a query of session ids): each one's
    allocation mode, capacity and how many of its slots are taken now. Shared by the batch
    (a window's sessions) and the daily report's pictures (a day's)."""
    ids = sessions.distinct().subquery()
    occupied = (
        select(Slot.session_id, func.count().label("taken"))
        .where(Slot.session_id.in_(select(ids.c.session_id)), Slot.state.in_(OCCUPIED_SLOT))
        .group_by(Slot.session_id)
        .subquery()
    )
    statement = (
        select(
            ClinicSession.id,
            Department.allocation_mode,
            ClinicSession.capacity,
            func.coalesce(occupied.c.taken, 0),
        )
        .join(Department, Department.id == ClinicSession.department_id)
        .outerjoin(occupied, occupied.c.session_id == ClinicSession.id)
        .where(ClinicSession.id.in_(select(ids.c.session_id)))
    )
    return [
        SessionSupply(
            session_id=session_id,
            draw_mode=mode is AllocationMode.DRAW,
            capacity=capacity,
            occupied=int(taken),
        )
        for session_id, mode, capacity, taken in stream(db, statement)
    ]


# Requests that say something a booking does not: bindings, draw intents and waitlist
# joins (no booking yet), every refusal (the race lost), and whatever the gate flagged.
# An allowed hold or payment is already in the batch as its booking, with the same
# identifiers, and is most of a week's records: it is not read again.
LINKING_ACTIONS = ("bind_patient", "intent", "waitlist_join")
FLAGGED = ("review", "block")


def request_filter(window: Window) -> ColumnElement[bool]:
    """The window's requests the batch reads: made for a patient, and linking identities
    beyond the bookings (``LINKING_ACTIONS``, refusals, flagged requests)."""
    return and_(
        RequestRecord.patient_key.is_not(None),
        RequestRecord.at >= window.start,
        RequestRecord.at < window.end,
        or_(
            RequestRecord.outcome != "ok",
            RequestRecord.decision.in_(FLAGGED),
            RequestRecord.action.in_(LINKING_ACTIONS),
        ),
    )


def request_facts(db: Session, *, window: Window) -> list[RequestFact]:
    """The window's requests made for a patient that link identities beyond the bookings
    (``LINKING_ACTIONS``, refusals, flagged requests), one row per patient and set of
    identifiers with its count and how many the gate flagged: a week of polling grab
    software is many requests over few such sets."""
    # A review for a binding burst alone is a family's first day (``realtime.FAMILY_REASONS``):
    # it does not count towards a ring's pace.
    flagged = case(
        (RequestRecord.decision == "block", 1),
        (
            and_(
                RequestRecord.decision == "review",
                RequestRecord.reasons.is_not(None),
                RequestRecord.reasons.not_in(sorted(FAMILY_REASONS)),
            ),
            1,
        ),
        else_=0,
    )
    keys = (
        RequestRecord.patient_key,
        RequestRecord.account_id,
        RequestRecord.device_key,
        RequestRecord.ip_key,
        RequestRecord.wifi_key,
        RequestRecord.payment_account_hash,
        RequestRecord.channel_id,
    )
    statement = select(*keys, func.count(), func.sum(flagged)).where(request_filter(window))
    statement = statement.group_by(*keys)
    return [
        RequestFact(
            patient_key=key,
            account_id=account_id,
            device_key=device_key,
            ip_key=ip,
            wifi_key=wifi_key,
            payment_account_hash=payment,
            requests=int(count),
            flagged=int(flagged_count or 0),
            channel_id=channel_id,
        )
        for (
            key,
            account_id,
            device_key,
            ip,
            wifi_key,
            payment,
            channel_id,
            count,
            flagged_count,
        ) in stream(db, statement)
    ]


def staffed_channel_ids(db: Session) -> frozenset[int]:
    """Channels run by hospital staff for the people in front of them or on the phone
    (the registration window, the call centre): one terminal books for many strangers."""
    kinds = (ChannelKind.WINDOW, ChannelKind.PHONE)
    return frozenset(db.scalars(select(Channel.id).where(Channel.kind.in_(kinds))))


# runs and alerts -------------------------------------------------------------------------


def run_for(db: Session, *, run_date: date) -> RiskRun | None:
    return db.scalars(select(RiskRun).where(RiskRun.run_date == run_date)).one_or_none()


def run_dates(db: Session, *, among: Collection[date]) -> set[date]:
    """Which of ``among`` already have a run."""
    found = db.scalars(select(RiskRun.run_date).where(RiskRun.run_date.in_(list(among))))
    return set(found)


def stored_alerts(db: Session, *, run_date: date) -> set[tuple[str, str, str]]:
    """(rule, entity kind, entity key) of the alerts already stored for ``run_date``."""
    rows = db.execute(
        select(RiskAlert.rule, RiskAlert.entity_kind, RiskAlert.entity_key).where(
            RiskAlert.run_date == run_date
        )
    )
    return {(rule, kind, key) for rule, kind, key in rows}


def insert_alerts(db: Session, *, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert alerts in one batched statement; their ids, in the order of ``rows``."""
    if not rows:
        return []
    ids = db.scalars(
        insert(RiskAlert).returning(RiskAlert.id, sort_by_parameter_order=True), list(rows)
    )
    return list(ids)


def alert_counts_by_rule(db: Session, *, run_date: date) -> dict[str, int]:
    rows = db.execute(
        select(RiskAlert.rule, func.count())
        .where(RiskAlert.run_date == run_date)
        .group_by(RiskAlert.rule)
    )
    return {rule: count for rule, count in rows}


def bump_run(db: Session, *, run_id: int, values: dict[str, Any]) -> None:
    """Record a re-run of a date on its row (``runs`` + 1, this run's figures)."""
    db.execute(
        update(RiskRun)
        .where(RiskRun.id == run_id)
        .values(runs=RiskRun.runs + 1, **values)
        .execution_options(synchronize_session=False)
    )
