"""Searching the audit log (``staff/audit_log.py``) on SQLite and PostgreSQL: each filter,
action families, words of the reason in any letter case (``%`` and ``_`` taken literally),
and paging older and newer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from fairslot.bootstrap import Platform
from fairslot.clock import ManualClock
from fairslot.staff import audit
from fairslot.staff.audit import StaffActor
from fairslot.staff.audit_log import AuditFilter, search

WANG = StaffActor(username="wang")
LI = StaffActor(username="li")


def record(
    db: Session,
    clock: ManualClock,
    actor: StaffActor,
    action: str,
    *,
    kind: str = "case",
    target: str = "1",
    reason: str | None = None,
) -> int:
    clock.advance(timedelta(minutes=1))
    row = audit.record(
        db,
        actor=actor,
        action=action,
        target_kind=kind,
        target_id=target,
        now=clock.now(),
        reason=reason,
    )
    return row.id


def test_each_filter_narrows_the_log(db: Session, platform: Platform, clock: ManualClock) -> None:
    start = clock.now()
    login = record(db, clock, WANG, "staff.login", kind="staff", target="7")
    roles = record(db, clock, LI, "staff.roles", kind="staff", target="7", reason="Night SHIFT")
    confirm = record(db, clock, WANG, "case.confirm", target="42", reason="ring of 5")
    odd = record(db, clock, LI, "case.dismiss", target="43", reason="100% genuine_patient")
    db.commit()

    def ids(**where: Any) -> list[int]:
        return [r.id for r in search(db, where=AuditFilter(**where)).rows]

    assert ids() == [odd, confirm, roles, login]
    assert ids(actor="wang") == [confirm, login]
    assert ids(action="staff.roles") == [roles]
    assert ids(action="staff.") == [roles, login]
    assert ids(action="staff") == []  # a family ends in a dot
    assert ids(target_kind="case", target_id="42") == [confirm]
    assert ids(text="night shift") == [roles]
    assert ids(text="100%") == [odd]
    assert ids(text="_") == [odd]
    assert ids(text="%") == [odd]
    after_first = start + timedelta(minutes=1, seconds=30)
    assert ids(since=after_first, until=start + timedelta(minutes=3, seconds=30)) == [
        confirm,
        roles,
    ]


def test_pages_go_older_and_newer(db: Session, platform: Platform, clock: ManualClock) -> None:
    made = [record(db, clock, WANG, "case.view", target=str(n)) for n in range(7)]
    db.commit()
    newest = list(reversed(made))
    everything = AuditFilter(action="case.view")

    first = search(db, where=everything, limit=3)
    assert [r.id for r in first.rows] == newest[:3]
    assert first.newer is None and first.older == newest[2]

    second = search(db, where=everything, before_id=first.older, limit=3)
    assert [r.id for r in second.rows] == newest[3:6]
    assert second.newer == newest[3] and second.older == newest[5]

    last = search(db, where=everything, before_id=second.older, limit=3)
    assert [r.id for r in last.rows] == newest[6:]
    assert last.older is None and last.newer == newest[6]

    back = search(db, where=everything, after_id=last.newer, limit=3)
    assert [r.id for r in back.rows] == newest[3:6]
    assert back.older == newest[5] and back.newer == newest[3]

    top = search(db, where=everything, after_id=back.newer, limit=3)
    assert [r.id for r in top.rows] == newest[:3]
    assert top.newer is None
