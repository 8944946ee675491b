"""Queries of the pre-draw screening's case filing (``cases/draw_screening.py``): the
review alert behind a held group's case, and the case it may join."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fairslot.cases.models import Case
from fairslot.risk.models import RiskAlert


def alert_for(
    db: Session, *, run_date: date, rule: str, entity_kind: str, entity_key: str
) -> tuple[int, int | None] | None:
    """(alert id, case id) of a stored alert, if there is one."""
    row = db.execute(
        select(RiskAlert.id, RiskAlert.case_id).where(
            RiskAlert.run_date == run_date,
            RiskAlert.rule == rule,
            RiskAlert.entity_kind == entity_kind,
            RiskAlert.entity_key == entity_key,
        )
    ).one_or_none()
    return None if row is None else (int(row[0]), row[1])


def get_case(db: Session, case_id: int) -> Case | None:
    return db.get(Case, case_id, populate_existing=True)


def insert_alert(db: Session, *, values: dict[str, Any]) -> int:
    return int(db.scalars(insert(RiskAlert).returning(RiskAlert.id), [values]).one())
