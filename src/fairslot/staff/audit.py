"""The staff audit log: every staff action, written in the same transaction as the action.

Services that act for a member of staff take a :class:`StaffActor` and call :func:`record`
next to the change itself, so an action and its audit row commit or roll back together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role


@dataclass(frozen=True)
class StaffActor:
    """Who acts. ``staff_id`` is None for IT working on the server through the CLI
    (``username`` is then ``cli:<name given with --by>``)."""

    username: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    staff_id: int | None = None

    def has(self, role: Role) -> bool:
        return role in self.roles


def cli_actor(by: str) -> StaffActor:
    """IT on the server: the CLI is trusted with every role; the name is recorded."""
    return StaffActor(username=f"cli:{by.strip()[:60]}", roles=frozenset(Role))


def record(
    db: Session,
    *,
    actor: StaffActor,
    action: str,
    target_kind: str,
    target_id: str | int,
    now: datetime,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> StaffAction:
    row = StaffAction(
        at=now,
        staff_id=actor.staff_id,
        actor=actor.username[:64],
        action=action,
        target_kind=target_kind,
        target_id=str(target_id)[:64],
        reason=(reason or None) and reason[:1000],
        data=data or {},
    )
    db.add(row)
    db.flush()
    return row
