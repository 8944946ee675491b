"""What schedulers (hospital staff with the ``scheduler`` role) do through the staff API
and the console: import a schedule on a hospital's behalf, withdraw a session and change a
hospital's release policy. Each is audited in the same transaction as the change. They
act on sessions, so they live with the schedules, above the hospitals they belong to.
Services only flush; the edge commits."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime, time

from sqlalchemy.orm import Session

from fairslot.context import RequestContext
from fairslot.errors import InvalidInput
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import Hospital
from fairslot.schedules import release_change, withdrawal
from fairslot.schedules import service as schedules
from fairslot.schedules.formats import ScheduleDocument
from fairslot.schedules.release import ReleasePolicy
from fairslot.schedules.schemas import ImportReport, Outcome, WithdrawalReport
from fairslot.staff import audit
from fairslot.staff.audit import StaffActor

# The audit row lists the rejected sessions by id, up to this many.
MAX_AUDITED_REJECTIONS = 50


def import_schedule(
    db: Session,
    *,
    hospital: Hospital,
    doc: ScheduleDocument,
    actor: StaffActor,
    now: datetime,
    rng: random.Random | None = None,
    late_release_minutes: tuple[int, int] = (5, 60),
    source: Mapping[str, str] | None = None,
) -> ImportReport:
    """Import a schedule document for ``hospital`` (the document must name it), exactly as
    the hospital's own push would; audited with the counts and ``source`` (e.g. the file's
    name and digest)."""
    report = schedules.import_schedule(
        db,
        doc=doc,
        now=now,
        ctx=RequestContext(actor=f"staff:{actor.username}"[:64]),
        as_hospital=hospital,
        rng=rng,
        late_release_minutes=late_release_minutes,
    )
    rejected = [s.session_id for s in report.sessions if s.outcome == Outcome.REJECTED]
    audit.record(
        db,
        actor=actor,
        action="schedule.import",
        target_kind="hospital",
        target_id=hospital.code,
        now=now,
        data={
            **{k: getattr(report, k) for k in ("created", "updated", "unchanged", "withdrawn")},
            "rejected": report.rejected,
            "rejected_sessions": rejected[:MAX_AUDITED_REJECTIONS],
            "departments": report.departments.model_dump(),
            "doctors": report.doctors.model_dump(),
            **dict(source or {}),
        },
    )
    return report


def withdraw_session(
    db: Session,
    *,
    hospital: Hospital,
    his_session_id: str,
    reason: str,
    actor: StaffActor,
    now: datetime,
) -> WithdrawalReport:
    if not reason.strip():
        raise InvalidInput("Give the reason for the withdrawal.", code="reason_required")
    report = withdrawal.withdraw_session(
        db,
        hospital=hospital,
        his_session_id=his_session_id,
        now=now,
        ctx=RequestContext(actor=f"staff:{actor.username}"[:64]),
        reason=reason.strip(),
    )
    audit.record(
        db,
        actor=actor,
        action="session.withdraw",
        target_kind="session",
        target_id=f"{hospital.code}/{his_session_id}",
        now=now,
        reason=reason.strip(),
        data=report.model_dump(mode="json"),
    )
    return report


def change_release_policy(
    db: Session,
    *,
    hospital: Hospital,
    actor: StaffActor,
    now: datetime,
    reason: str,
    days_ahead: int | None = None,
    push_time: time | None = None,
    release_time: time | None = None,
    booking_close_minutes: int | None = None,
) -> int:
    if not reason.strip():
        raise InvalidInput("Give the reason for the policy change.", code="reason_required")
    before = hospitals.policy_of(hospital)
    recomputed = release_change.update_release_policy(
        db,
        hospital=hospital,
        now=now,
        days_ahead=days_ahead,
        push_time=push_time,
        release_time=release_time,
        booking_close_minutes=booking_close_minutes,
    )
    after = hospitals.policy_of(hospital)
    audit.record(
        db,
        actor=actor,
        action="hospital.policy",
        target_kind="hospital",
        target_id=hospital.code,
        now=now,
        reason=reason.strip(),
        data={"before": _plain(before), "after": _plain(after), "sessions_recomputed": recomputed},
    )
    return recomputed


def _plain(policy: ReleasePolicy) -> dict[str, str]:
    return {name: str(value) for name, value in asdict(policy).items()}
