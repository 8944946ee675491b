"""A confirmation's three writes as one PostgreSQL statement (issue 14), as a hold's are
(``hold_statement.py``)::

    WITH moved AS (UPDATE bookings SET status = 'booked', … WHERE id = :booking_id
                   AND status = 'held' AND expires_at > :now RETURNING slot_id),
         taken AS (UPDATE slots SET state = 'booked', … FROM moved
                   WHERE slots.id = moved.slot_id AND slots.state = 'held' RETURNING id),
         logged AS (INSERT INTO slot_events (…) SELECT taken.id, … FROM taken)
    SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM taken)

Each write is the compare-and-set it was as a statement of its own: the slot moves only
if the booking did, the ``booked`` row is written only if the slot moved, and the counts
say which one found its row changed (the caller refuses, and its transaction is rolled
back). SQLite runs the three one after the other (``repository.confirm_writes``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, insert, select, update

from fairslot.bookings.hold_statement import EVENT_COLUMNS
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.ledger.models import SlotEvent
from fairslot.schedules.models import Slot
from fairslot.schedules.states import SlotState


def event_parameters(prefix: str, row: dict[str, Any]) -> dict[str, object]:
    """A ledger row's (``ledger.entry_row``) parameters for :func:`event_values`."""
    return {f"{prefix}_{key}": value for key, value in row.items() if key != "slot_id"}


def event_values(prefix: str, *, slot_id: Any) -> list[ColumnElement[Any]]:
    """A ledger row's columns (:data:`EVENT_COLUMNS`) as bound parameters named
    ``<prefix>_<column>``, labelled; ``slot_id`` (the moved slot's column) instead."""
    return [
        (
            slot_id
            if key == "slot_id"
            else bindparam(f"{prefix}_{key}", type_=SlotEvent.__table__.c[key].type)
        ).label(key)
        for key in EVENT_COLUMNS
    ]


@cache
def statement() -> Select[Any]:
    """Built once, with named parameters: ``booking_id``, ``now``, the payment's
    (``payment_account_hash``, ``payment_account_masked``, ``payment_reference``) and the
    ``booked`` row's columns (``e_<column>``; its ``slot_id`` is the booking's)."""
    moved = (
        update(Booking)
        .where(
            Booking.id == bindparam("booking_id"),
            Booking.status == BookingStatus.HELD,
            Booking.expires_at > bindparam("now"),
        )
        .values(
            status=BookingStatus.BOOKED,
            version=Booking.version + 1,
            booked_at=bindparam("now"),
            payment_account_hash=bindparam("payment_account_hash"),
            payment_account_masked=bindparam("payment_account_masked"),
            payment_reference=bindparam("payment_reference"),
        )
        .returning(Booking.slot_id)
        .cte("moved")
    )
    taken = (
        update(Slot)
        .where(Slot.id == moved.c.slot_id, Slot.state == SlotState.HELD)
        .values(state=SlotState.BOOKED, version=Slot.version + 1, hold_expires_at=None)
        .returning(Slot.id)
        .cte("taken")
    )
    logged = (
        insert(SlotEvent)
        .from_select(
            list(EVENT_COLUMNS),
            select(*event_values("e", slot_id=taken.c.id)).select_from(taken),
        )
        .cte("logged")
    )
    return select(
        select(func.count()).select_from(moved).scalar_subquery().label("moved"),
        select(func.count()).select_from(taken).scalar_subquery().label("taken"),
    ).add_cte(logged)
