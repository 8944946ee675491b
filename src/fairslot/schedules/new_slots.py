"""The slots a push adds to a session, and the ledger rows that say so. Pure: no I/O.

Built as plain rows, not ORM objects: a city push adds 100,000 slots at once, and the
import writes them with one executemany per chunk (``repository.insert_slots``,
``ledger.service.record_many``) instead of one unit-of-work object per slot and row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from fairslot.db.base import new_guid
from fairslot.ledger.events import Entry, EventKind
from fairslot.schedules.release import slot_windows
from fairslot.schedules.reservations import assign_reserved
from fairslot.schedules.states import Period, SlotState


class NewSlot(NamedTuple):
    """A ``slots`` row as the push writes it (its fields are the table's columns)."""

    id: str
    session_id: int
    number: int
    starts_at: datetime
    ends_at: datetime
    state: SlotState
    reopen_at: datetime | None
    version: int
    # Late supply has no separate "released" event: its re-release is its release.
    release_logged: bool
    reserved_channel_id: int | None
    reserved_until: datetime | None


@dataclass(frozen=True)
class Reserving:
    """A channel that keeps back ``share`` of every session, until ``return_minutes``
    before the session starts."""

    channel_id: int
    share: Decimal
    return_minutes: int


@dataclass(frozen=True)
class PushedSession:
    """What the slots and the ``pushed`` rows of one session need to know about it."""

    id: int
    hospital_code: str
    his_session_id: str
    session_date: date
    period: Period
    starts_at: datetime
    ends_at: datetime
    release_at: datetime
    closes_at: datetime


def new_slots(
    session: PushedSession,
    *,
    numbers: range,
    reserving: Sequence[Reserving],
    late_reopen_at: Callable[[], datetime] | None,
) -> list[NewSlot]:
    """Slots ``numbers`` of ``session``, spread over its time, the reserved shares kept
    back. ``late_reopen_at`` (supply pushed after its release): every slot cools until the
    time it draws, one draw per slot in number order."""
    windows = slot_windows(
        starts_at=session.starts_at, ends_at=session.ends_at, capacity=len(numbers)
    )
    reserved = assign_reserved(
        list(numbers), shares=[(channel.channel_id, channel.share) for channel in reserving]
    )
    returns = {
        channel.channel_id: session.starts_at - timedelta(minutes=channel.return_minutes)
        for channel in reserving
    }
    state = SlotState.OPEN if late_reopen_at is None else SlotState.COOLING
    return [
        NewSlot(
            id=new_guid(),
            session_id=session.id,
            number=number,
            starts_at=starts_at,
            ends_at=ends_at,
            state=state,
            reopen_at=None if late_reopen_at is None else late_reopen_at(),
            version=1,
            release_logged=late_reopen_at is not None,
            reserved_channel_id=reserved.get(number),
            reserved_until=returns.get(reserved[number]) if number in reserved else None,
        )
        for number, (starts_at, ends_at) in zip(numbers, windows, strict=True)
    ]


def pushed_entries(session: PushedSession, *, slots: Sequence[NewSlot]) -> Iterator[Entry]:
    """Each slot's ``pushed`` ledger row, followed by its ``cooling`` row if it cools."""
    day, period = session.session_date.isoformat(), session.period.value
    release_at = session.release_at.isoformat()
    for slot in slots:
        data: dict[str, Any] = {
            "hospital": session.hospital_code,
            "session_id": session.his_session_id,
            "number": slot.number,
            "date": day,
            "period": period,
            "starts_at": slot.starts_at.isoformat(),
            "release_at": release_at,
        }
        if slot.reserved_channel_id is not None:
            data["reserved_channel_id"] = slot.reserved_channel_id
        yield Entry(slot_id=slot.id, kind=EventKind.PUSHED, data=data)
        if slot.state == SlotState.COOLING and slot.reopen_at is not None:
            reopen = {"reopen_at": slot.reopen_at.isoformat(), "reason": "late_supply"}
            yield Entry(slot_id=slot.id, kind=EventKind.COOLING, data=reopen)
