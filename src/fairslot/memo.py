"""Short-lived per-process memos for the release-burst hot path (issue 5).

At release time thousands of requests a second ask the same few questions ("is this
session full?", "what is free in this clinic today?", "what is like this session?"). A
memo keeps an answer for a fraction of a second of the platform clock, so one process
asks the database once per lifetime instead of once per request.

What a memo may and may not do: it only ever serves **reads** and **refusals**. A claim
always goes to the database (``bookings/repository.py::claim_and_insert``), so a stale
memo can at worst refuse a hold that the database would also have refused a moment before,
or show a slot that is gone (the claim then answers ``slot_taken``); it can never sell a slot
twice. A slot that comes back (a cancellation's or an expired hold's cooling ends, a
re-release, added capacity) is seen at the latest one lifetime later — two for a radar's
poll answered while the fresh answer is being read (``api/poll_lane.py``). Memos live in
one process: each uvicorn worker keeps its own; a process's own holds and cancellations
clear them at once (``bootstrap.py::HotMemos.changed``).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# How long each hot-path answer is trusted, in platform-clock time.
SOLD_OUT_FOR = timedelta(milliseconds=200)
AVAILABILITY_FOR = timedelta(milliseconds=250)
ALTERNATIVES_FOR = timedelta(seconds=1)
CHANNEL_FOR = timedelta(seconds=1)


class Memo(Generic[K, V]):
    """A value per key, trusted for ``ttl`` of the clock's time; safe across threads.

    At most ``max_entries`` keys are kept: past that the memo forgets everything (the
    next asks go to the database), which bounds memory without bookkeeping.
    """

    def __init__(self, *, ttl: timedelta, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self._max = max_entries
        self._values: dict[K, tuple[datetime, V]] = {}
        self._reading: dict[K, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: K, *, now: datetime, grace: timedelta = timedelta(0)) -> V | None:
        """The value kept for ``key`` if younger than its lifetime (plus ``grace``, for a
        caller that may use a lapsed answer while another reads the fresh one)."""
        with self._lock:
            found = self._values.get(key)
        if found is None:
            return None
        at, value = found
        # A clock moved back (tests, the simulator's clock) does not extend a lifetime.
        return value if at <= now < at + self.ttl + grace else None

    def put(self, key: K, value: V, *, now: datetime) -> None:
        with self._lock:
            if len(self._values) >= self._max:
                self._values.clear()
            self._values[key] = (now, value)

    def forget(self, key: K) -> None:
        with self._lock:
            self._values.pop(key, None)

    def reading(self, key: K) -> threading.Lock:
        """The lock one reader of ``key`` holds while the others wait for its answer
        (hold it, ask :meth:`get` again, read, :meth:`put`): a lapsed key is read once,
        not by every request that found it lapsed at the same moment."""
        with self._lock:
            found = self._reading.get(key)
            if found is None:
                if len(self._reading) >= self._max:
                    self._reading.clear()  # a held lock lives on with its holders
                found = self._reading[key] = threading.Lock()
            return found

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


# -- within one transaction ------------------------------------------------------------

_IN_TRANSACTION = "fairslot.memo.in_transaction"


def remember_in_transaction(db: Session, key: Hashable, value: object) -> None:
    """Keep ``value`` for the rest of ``db``'s current transaction: a later step of the
    same request that needs the same rows recalls them instead of reading them again
    (the hold's session, department and zone, read once by the release-batch check).

    Unlike the memos above this is not a cache across requests: what is recalled was read
    in this very transaction, so it is exactly as fresh as reading it again would be
    under READ COMMITTED for the facts it is used for (a session's times and department,
    a department's rules). Any later transaction of the session recalls nothing."""
    transaction = db.get_transaction()
    found = db.info.get(_IN_TRANSACTION)
    kept: dict[Hashable, object] = {}
    if found is not None and found[0] is transaction:
        kept = found[1]
    kept[key] = value
    db.info[_IN_TRANSACTION] = (transaction, kept)


def recall_in_transaction(db: Session, key: Hashable) -> Any:
    """What :func:`remember_in_transaction` kept under ``key`` in the current
    transaction of ``db``; None in any other transaction."""
    found = db.info.get(_IN_TRANSACTION)
    transaction = db.get_transaction()
    if found is None or transaction is None or found[0] is not transaction:
        return None
    return found[1].get(key)


def hold_place_key(*, slot_id: str | None, session_id: int | None) -> Hashable:
    """The key a hold's place (``availability.repository.HoldPlace``) is kept under: by
    session when the hold names one (it then claims any free slot of it), else by slot."""
    return (
        ("hold_place", None, session_id)
        if session_id is not None
        else ("hold_place", slot_id, None)
    )
