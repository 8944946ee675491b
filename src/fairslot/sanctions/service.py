"""What a block does beyond the gate.

The gate refuses a blocked subject's requests; the platform must not book them on its own
either. Recording a blacklist entry therefore closes, in the same transaction, what the
subject has waiting: their open waitlist entries and their intents in draws not yet run
(issue 13, item 8). A reviewer's confirmation goes one step further and withdraws the
subject's upcoming bookings (issue 11), whose slots cool and return to the waitlist or a
re-release.

This module orchestrates; each domain does its own part through its own service
(``waitlist.service.close_blocked``, ``allocation.service.refuse_blocked``,
``bookings.revocation.withdraw_blocked``), and the blacklist itself imports none of them.
Services only flush; the edge commits.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.allocation import service as allocation
from fairslot.blacklist import service as blacklist
from fairslot.blacklist.gate import blocked_keys
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.bookings import revocation
from fairslot.bookings.models import Booking
from fairslot.bookings.policy import BookingPolicy
from fairslot.context import RequestContext
from fairslot.crypto import Protector
from fairslot.staff.audit import StaffActor
from fairslot.waitlist import service as waitlist


@dataclass(frozen=True)
class Closed:
    waitlist_closed: int
    intents_refused: int


@dataclass(frozen=True)
class Blocked:
    entry: BlacklistEntry
    waitlist_closed: int
    intents_refused: int


def block(
    db: Session,
    *,
    scope: Scope,
    value: str,
    reason: str,
    actor: StaffActor,
    now: datetime,
    protector: Protector,
    days: int | None = None,
    case_ref: str | None = None,
) -> Blocked:
    """Staff block an identifier given in the clear (``blacklist.service.block``) and
    close what its subject has waiting."""
    entry = blacklist.block(
        db,
        scope=scope,
        value=value,
        reason=reason,
        actor=actor,
        now=now,
        protector=protector,
        days=days,
        case_ref=case_ref,
    )
    closed = close_waiting(db, entries=[entry], now=now, protector=protector)
    return Blocked(
        entry=entry,
        waitlist_closed=closed.waitlist_closed,
        intents_refused=closed.intents_refused,
    )


def close_waiting(
    db: Session, *, entries: Collection[BlacklistEntry], now: datetime, protector: Protector
) -> Closed:
    """Close the waitlist entries and refuse the pending draw intents that carry an
    identifier of ``entries`` (each with the reason ``blacklisted``)."""
    if not entries:
        return Closed(waitlist_closed=0, intents_refused=0)
    keys = blocked_keys(entries)
    return Closed(
        waitlist_closed=waitlist.close_blocked(db, blocked=keys, now=now, protector=protector),
        intents_refused=allocation.refuse_blocked(db, blocked=keys, now=now, protector=protector),
    )


def withdraw_bookings(
    db: Session,
    *,
    entries: Collection[BlacklistEntry],
    actor: StaffActor,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector,
) -> list[Booking]:
    """Withdraw the upcoming held and confirmed bookings that carry an identifier of
    ``entries``; the ledger names the staff member who decided it."""
    if not entries:
        return []
    return revocation.withdraw_blocked(
        db,
        blocked=blocked_keys(entries),
        now=now,
        ctx=RequestContext(actor=f"staff:{actor.username}"),
        policy=policy,
        rng=rng,
        protector=protector,
    )
