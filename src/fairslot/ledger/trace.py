"""A slot's history as staff read it: every ledger row in order, with who acted, through
which channel, for whom (masked) and from which device, network and payment account
(keyed hashes, shortened — the same keys the blacklist stores, so they can be compared),
and the state replayed from the ledger alone next to the stored one.

Read-only: events the clock has made due but nobody has written yet (a release, a
re-release) are listed as due, not written — the sweeper writes them. Reading a trace is
audited (``slot.trace``): it says who booked the slot.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.crypto import Protector
from fairslot.errors import NotFound
from fairslot.ledger import repository as repo
from fairslot.ledger.events import EventKind
from fairslot.ledger.models import SlotEvent
from fairslot.ledger.replay import LedgerCorrupt, replay
from fairslot.patients.identity import mask_person
from fairslot.patients.models import Patient
from fairslot.schedules.states import SlotState
from fairslot.staff import audit
from fairslot.staff.audit import StaffActor

SHORT = 10  # hex characters of a keyed hash: enough to compare, short enough to read


class SlotNotFound(NotFound):
    code = "slot_not_found"


class BookingNotFound(NotFound):
    code = "booking_not_found"


@dataclass(frozen=True)
class TraceEvent:
    number: int
    event_id: int
    kind: EventKind
    at: datetime
    recorded_at: datetime
    actor: str
    channel: str | None
    account_id: int | None
    booking_id: str | None
    patient: str | None  # masked name and ID tail, else the patient key shortened
    device: str | None
    network: str | None
    payment: str | None
    details: list[tuple[str, str]]


@dataclass(frozen=True)
class DueEvent:
    kind: EventKind  # released or re_released
    at: datetime


@dataclass(frozen=True)
class SlotTrace:
    slot_id: str
    number: int
    state: SlotState
    starts_at: datetime
    ends_at: datetime
    reopen_at: datetime | None
    hold_expires_at: datetime | None
    reserved_channel: str | None
    session_id: int
    his_session_id: str
    session_date: date
    period: str
    release_at: datetime
    hospital_code: str
    hospital_name: str
    department_name: str
    doctor_name: str
    doctor_title: str
    zone: str
    events: list[TraceEvent]
    due: list[DueEvent]
    replayed: SlotState | None
    replayed_reopen_at: datetime | None
    replay_error: str | None

    @property
    def replay_matches(self) -> bool:
        return self.replay_error is None and self.replayed == self.state


def slot_of_booking(db: Session, *, booking_id: str) -> str:
    """The GUID of a booking's slot (404 ``booking_not_found``)."""
    slot_id = repo.slot_of_booking(db, booking_id.strip())
    if slot_id is None:
        raise BookingNotFound("No booking has this id.")
    return slot_id


def trace_slot(
    db: Session, *, slot_id: str, protector: Protector, actor: StaffActor, now: datetime
) -> SlotTrace:
    place = repo.slot_place(db, slot_id.strip())
    if place is None:
        raise SlotNotFound("No slot has this GUID.")
    slot, session, department, doctor, hospital = place
    rows = repo.history(db, slot.id)
    people = repo.patients_of_bookings(db, {e.booking_id for e in rows if e.booking_id})
    channel_ids = {e.channel_id for e in rows if e.channel_id is not None}
    if slot.reserved_channel_id is not None:
        channel_ids.add(slot.reserved_channel_id)
    channels = repo.channel_names(db, channel_ids)
    zone = ZoneInfo(hospital.timezone)
    try:
        replayed = replay((e.kind, e.data) for e in rows)
        state, reopen_at, error = replayed.state, replayed.reopen_at, None
    except LedgerCorrupt as exc:
        state, reopen_at, error = None, None, str(exc)
    audit.record(
        db, actor=actor, action="slot.trace", target_kind="slot", target_id=slot.id, now=now
    )
    return SlotTrace(
        slot_id=slot.id,
        number=slot.number,
        state=slot.state,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        reopen_at=slot.reopen_at,
        hold_expires_at=slot.hold_expires_at,
        reserved_channel=(
            channels.get(slot.reserved_channel_id) if slot.reserved_channel_id else None
        ),
        session_id=session.id,
        his_session_id=session.his_session_id,
        session_date=session.session_date,
        period=session.period.value,
        release_at=session.release_at,
        hospital_code=hospital.code,
        hospital_name=hospital.name,
        department_name=department.name,
        doctor_name=doctor.name,
        doctor_title=doctor.title.value,
        zone=hospital.timezone,
        events=[
            _event(n, e, people=people, channels=channels, protector=protector, zone=zone)
            for n, e in enumerate(rows, start=1)
        ],
        due=_due(
            rows, state=slot.state, reopen_at=slot.reopen_at, release_at=session.release_at, now=now
        ),
        replayed=state,
        replayed_reopen_at=reopen_at,
        replay_error=error,
    )


def _due(
    rows: list[SlotEvent],
    *,
    state: SlotState,
    reopen_at: datetime | None,
    release_at: datetime,
    now: datetime,
) -> list[DueEvent]:
    """What the clock has made true that the ledger does not say yet."""
    due = []
    kinds = {e.kind for e in rows}
    if release_at <= now and EventKind.RELEASED not in kinds:
        due.append(DueEvent(kind=EventKind.RELEASED, at=release_at))
    if state == SlotState.COOLING and reopen_at is not None and reopen_at <= now:
        due.append(DueEvent(kind=EventKind.RE_RELEASED, at=reopen_at))
    return due


def _event(
    number: int,
    e: SlotEvent,
    *,
    people: dict[str, Patient],
    channels: dict[int, str],
    protector: Protector,
    zone: ZoneInfo,
) -> TraceEvent:
    patient = people.get(e.booking_id) if e.booking_id else None
    networks = [
        f"{label} {shown}"
        for label, shown in (
            ("ip", e.ip_label or (_short(e.ip_key) if e.ip_key else None)),
            ("wifi", _short(e.wifi_key) if e.wifi_key else None),
        )
        if shown
    ]
    return TraceEvent(
        number=number,
        event_id=e.id,
        kind=e.kind,
        at=e.at,
        recorded_at=e.recorded_at,
        actor=e.actor,
        channel=(channels.get(e.channel_id, str(e.channel_id)) if e.channel_id else None),
        account_id=e.account_id,
        booking_id=e.booking_id,
        patient=(
            mask_person(patient.name_masked, patient.id_last4)
            if patient is not None
            else (_short(e.patient_key) if e.patient_key else None)
        ),
        device=_short(e.device_key) if e.device_key else None,
        network=" · ".join(networks) or None,
        payment=_short(e.payment_account_hash) if e.payment_account_hash else None,
        details=_details(e.data, zone=zone),
    )


def _short(value: str) -> str:
    return value[:SHORT] + "…" if len(value) > SHORT else value


def _details(data: dict[str, Any], *, zone: ZoneInfo) -> list[tuple[str, str]]:
    """The event's data as (key, text): instants in the hospital's zone, to the second."""
    shown = []
    for key, value in sorted((data or {}).items()):
        text = str(value)
        if key.endswith("_at") and isinstance(value, str):
            with suppress(ValueError):  # not an instant after all: shown as it is
                local = datetime.fromisoformat(value).astimezone(zone)
                text = local.strftime("%Y-%m-%d %H:%M:%S")
        shown.append((key, text))
    return shown
