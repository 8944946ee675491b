"""Rotating a hospital's API key when it leaked, from the staff API or the CLI; audited in
the same transaction (never the key itself). The old key is refused from the next request
on: hospital keys are looked up in the database on every request, with no memo."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import Hospital
from fairslot.staff import audit
from fairslot.staff.audit import StaffActor


def rotate_key(
    db: Session, *, code: str, actor: StaffActor, now: datetime, reason: str | None = None
) -> tuple[Hospital, str]:
    """A new API key for the hospital (returned once, stored as a hash); 404
    ``hospital_not_found``."""
    hospital = hospitals.get_hospital(db, code=code)
    key = hospitals.rotate_hospital_key(db, hospital=hospital)
    audit.record(
        db,
        actor=actor,
        action="hospital.rotate_key",
        target_kind="hospital",
        target_id=hospital.code,
        now=now,
        reason=(reason or "").strip() or None,
        data={"hospital_id": hospital.id},
    )
    return hospital, key
