"""The histories — the slot ledger, the case ledger and the staff audit log — refuse
UPDATE and DELETE in the database itself, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy import table as sql_table
from sqlalchemy.exc import DBAPIError

from factories.staff import create_staff
from factories.world import make_world
from fairslot.cases import ledger
from fairslot.cases.models import Case
from fairslot.cases.states import CaseEventKind, CaseStatus
from fairslot.staff.roles import Role


@pytest.fixture
def histories(db, platform) -> None:
    world = make_world(db, platform)
    world.session()  # pushes slots: `pushed` rows in slot_events
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=world.now())  # audit row
    case = Case(
        subject_kind="phone",
        subject_key="k",
        subject_label="138***00",
        status=CaseStatus.OPEN,
        opened_at=world.now(),
        updated_at=world.now(),
    )
    db.add(case)
    db.flush()
    ledger.append(db, case=case, kind=CaseEventKind.OPENED, at=world.now(), actor="t")
    db.commit()


@pytest.mark.parametrize("table", ["slot_events", "case_events", "staff_actions"])
@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET at = at", "DELETE FROM {table}"], ids=["update", "delete"]
)
def test_a_history_table_refuses_changes(db, histories, table: str, statement: str) -> None:
    count = select(func.count()).select_from(sql_table(table))
    assert db.execute(count).scalar_one() > 0
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text(statement.format(table=table)))
    db.rollback()
    assert db.execute(count).scalar_one() > 0
