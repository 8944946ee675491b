"""The slot radar's answer, recalled for a moment (``fairslot/memo.py``): at release time
thousands of polls a second ask exactly this. One answer per (department, dates, title,
channel) and process, for ``memo.AVAILABILITY_FOR`` of the platform clock; the API's poll
is also answered from the answer's JSON, rendered once per lifetime instead of validated
and serialised per poll."""

from __future__ import annotations

import threading
from datetime import date, datetime

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from fairslot.availability.schemas import SessionAvailabilityView
from fairslot.availability.service import availability
from fairslot.hospitals.models import DoctorTitle
from fairslot.memo import Memo

AvailabilityKey = tuple[int, date, date, str | None, int]
_AS_JSON = TypeAdapter(list[SessionAvailabilityView])


class Recalled:
    """One answer: its sessions, and their JSON as the API sends it (rendered on first
    use, once)."""

    def __init__(self, sessions: list[SessionAvailabilityView]) -> None:
        self.sessions = sessions
        self._json: bytes | None = None
        self._lock = threading.Lock()

    def json(self) -> bytes:
        with self._lock:
            if self._json is None:
                self._json = _AS_JSON.dump_json(self.sessions)
            return self._json


AvailabilityMemo = Memo[AvailabilityKey, Recalled]


def key_of(
    *,
    department_id: int,
    date_from: date,
    date_to: date,
    title: DoctorTitle | None,
    channel_id: int,
) -> AvailabilityKey:
    """The memo's key of one poll (what the poll lane looks up too, ``api/poll_lane.py``)."""
    return (department_id, date_from, date_to, title.value if title else None, channel_id)


def recalled(
    db: Session,
    memo: AvailabilityMemo,
    *,
    department_id: int,
    date_from: date,
    date_to: date,
    title: DoctorTitle | None,
    channel_id: int,
    now: datetime,
    batch_window_default: int,
) -> Recalled:
    """The answer to a poll, from ``memo`` while it is fresh, else read and kept."""
    key = key_of(
        department_id=department_id,
        date_from=date_from,
        date_to=date_to,
        title=title,
        channel_id=channel_id,
    )
    found = memo.get(key, now=now)
    if found is None:
        found = Recalled(
            availability(
                db,
                department_id=department_id,
                date_from=date_from,
                date_to=date_to,
                title=title,
                now=now,
                channel_id=channel_id,
                batch_window_default=batch_window_default,
            )
        )
        memo.put(key, found, now=now)
    return found
