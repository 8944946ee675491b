"""Which case an alert belongs to. Pure: no I/O.

Alerts group by *subject*: the flagged ring that contains the alert's entity, if any (a
ring is judged as a whole, so its members' alerts are reviewed together), else the entity
itself. A ring's own alert is about the ring. At most one case per subject is open at a
time; a subject hit again after its case was closed gets a new case (``cases/intake.py``),
unless the hit brings nothing the closed case did not already show (:func:`already_reviewed`).

A ring's id is a hash of its members, so a ring that gains a member tomorrow has a new id;
it continues the open case of the ring it shares patients with (:func:`continuing_case`)
instead of opening a second case on the same people.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final

RING: Final = "ring"


@dataclass(frozen=True, kw_only=True)
class Subject:
    kind: str  # an alert entity kind (patient, phone, ...) or "ring"
    key: str  # the entity's stored key, or the ring id
    label: str  # masked, for people
    members: frozenset[str] = frozenset()  # a ring's patients (keys)


def subject_of(
    *,
    entity_kind: str,
    entity_key: str,
    entity_label: str,
    rings: Mapping[tuple[str, str], Subject],
) -> Subject:
    """The subject of an alert on ``(entity_kind, entity_key)``.

    ``rings`` maps each member ``(entity kind, stored key)`` of a flagged ring, and the ring
    itself (``("ring", ring id)``), to that ring's subject.
    """
    ring = rings.get((entity_kind, entity_key))
    if ring is not None:
        return ring
    return Subject(kind=entity_kind, key=entity_key, label=entity_label)


def continuing_case(subject: Subject, *, open_rings: Mapping[int, Collection[str]]) -> int | None:
    """The open ring case (by id) that a ring with no open case of its own continues: the
    one sharing the most patients with it (the oldest on a tie), or None."""
    if subject.kind != RING or not subject.members:
        return None
    best = max(
        (
            (len(subject.members.intersection(members)), -case_id)
            for case_id, members in open_rings.items()
        ),
        default=(0, 0),
    )
    return -best[1] if best[0] > 0 else None


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """The bookings and ledger events behind one alert, or behind a whole case."""

    booking_ids: frozenset[str] = frozenset()
    event_ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, *, booking_ids: Collection[str], event_ids: Collection[int]) -> Evidence:
        return cls(booking_ids=frozenset(booking_ids), event_ids=frozenset(event_ids))

    def __or__(self, other: Evidence) -> Evidence:
        return Evidence(
            booking_ids=self.booking_ids | other.booking_ids,
            event_ids=self.event_ids | other.event_ids,
        )


def already_reviewed(new: Evidence, *, reviewed: Evidence) -> bool:
    """True when every booking and event behind a new alert was already in a case a reviewer
    closed on the same subject.

    The window slides one day at a time, so yesterday's evidence is hit again for six more
    days; a subject dismissed (or blacklisted) on that evidence must not come back to the
    queue until something new happens.
    """
    return new.booking_ids <= reviewed.booking_ids and new.event_ids <= reviewed.event_ids
