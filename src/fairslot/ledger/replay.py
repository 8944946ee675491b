"""Rebuild a slot's state from its ledger alone. Pure: no I/O.

Used by tests (replay must equal the stored state) and by ``fairslot slot trace``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fairslot.ledger.events import EventKind
from fairslot.schedules.states import SlotState, can_transition

_TARGET: dict[EventKind, SlotState | None] = {
    EventKind.PUSHED: SlotState.OPEN,
    EventKind.RELEASED: None,  # visibility follows the clock; the state is unchanged
    EventKind.HELD: SlotState.HELD,
    EventKind.HOLD_EXPIRED: None,  # followed by COOLING
    EventKind.HOLD_RELEASED: None,  # followed by COOLING or RETIRED
    EventKind.BOOKED: SlotState.BOOKED,
    EventKind.CANCELLED: None,  # followed by COOLING or RETIRED
    EventKind.COOLING: SlotState.COOLING,
    EventKind.RETIRED: SlotState.RETIRED,
    EventKind.RE_RELEASED: SlotState.OPEN,
    EventKind.CHECKED_IN: SlotState.ATTENDED,
    EventKind.NO_SHOW: SlotState.NO_SHOW,
    EventKind.WITHDRAWN: SlotState.WITHDRAWN,
}


@dataclass(frozen=True)
class Replayed:
    state: SlotState
    reopen_at: datetime | None


class LedgerCorrupt(ValueError):
    pass


def replay(events: Iterable[tuple[EventKind, Mapping[str, Any]]]) -> Replayed:
    state: SlotState | None = None
    reopen_at: datetime | None = None
    for kind, data in events:
        target = _TARGET[kind]
        if kind == EventKind.PUSHED:
            if state is not None:
                raise LedgerCorrupt("a slot is pushed only once")
            state = SlotState.OPEN
            continue
        if state is None:
            raise LedgerCorrupt(f"{kind.value} before the slot was pushed")
        if target is None:
            continue
        if not can_transition(state, target):
            raise LedgerCorrupt(f"{kind.value} is not allowed from {state.value}")
        state = target
        reopen_at = datetime.fromisoformat(data["reopen_at"]) if kind == EventKind.COOLING else None
    if state is None:
        raise LedgerCorrupt("empty ledger")
    return Replayed(state=state, reopen_at=reopen_at)
