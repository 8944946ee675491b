"""What pre-draw screening needs from the review cases, handed down to it.

Cases sit above allocation ("Domains have a direction", ``pyproject.toml``), yet screening
reads the open cases as facts about a draw's entrants and files its held entries for
review. So allocation states here what it needs (:class:`CaseDesk`), the cases domain
implements it (``cases/draw_screening.py``), and the composition root hands it down:
``bootstrap.Platform.screening_desk``, passed by the worker command to
``worker.run_due_draws`` and on to ``drawing.run_draw`` and ``screening_service``. Only
plain values cross: no case type is known down here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True, kw_only=True)
class Witness:
    """A device or payment account that ties a held ring together beyond a household
    (``screening.witnesses``), filed as a review alert of its own in the ring's case so
    the reviewer sees each identifier as separate evidence and may block it."""

    kind: str  # the alert's entity kind: "device" or "payment_account"
    key: str  # the stored key (the keyed hash the gate looks up)
    label: str  # masked
    accounts: int  # how many of the ring's accounts it served
    patients: int  # how many of the ring's patients it served


@dataclass(frozen=True, kw_only=True)
class HeldGroup:
    """Entries of one draw held for review together: a ring's (a ring is reviewed as a
    whole) or one patient's. Filed as one review alert of ``rule`` on its subject."""

    rule: str
    score: float
    ring_id: str | None  # the screening's ring, None for one patient
    key: str  # the subject's stored key: the ring's within its draw, or the patient's
    label: str  # masked
    members: frozenset[str] = frozenset()  # a ring's patients (stored keys)
    explanation: str
    details: Mapping[str, Any]
    # An open case an entrant was held for: the group is reviewed there while it is open.
    concerned_case: int | None = None
    witnesses: tuple[Witness, ...] = ()  # a ring's; filed as alerts in the group's case


class CaseDesk(Protocol):
    """The review cases as screening sees them. Every method only reads or flushes in
    ``db``: the edge commits."""

    def open_cases_of(
        self, db: Session, *, subjects: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        """The open case (its id) of each ``(subject kind, stored key)`` that has one."""
        ...

    def open_ring_members(self, db: Session) -> dict[int, frozenset[str]]:
        """Every open ring case (its id) with the patients (stored keys) it names."""
        ...

    def file_held_group(self, db: Session, *, group: HeldGroup, now: datetime, actor: str) -> int:
        """The case (its id) the group is reviewed in, its review alert stored and filed
        (once a day per subject: a second filing the same day finds the first)."""
        ...
