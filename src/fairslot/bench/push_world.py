"""The world of the schedule-push benchmark (``fairslot bench push``): two booking channels
with reserved shares, a hospital, and the one document its system pushes.

The document names its departments and doctors too (a HIS push usually does), so the
push upserts them before its sessions, as a real one would. Only flushes; the caller
commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from fairslot.channels import service as channels
from fairslot.channels.models import ChannelKind
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import DoctorTitle, Hospital
from fairslot.hospitals.schemas import DepartmentIn, DoctorIn
from fairslot.schedules.formats import MAX_CAPACITY, ScheduleDocument, SessionSpec
from fairslot.schedules.states import Period
from fairslot.schedules.views import local_today

# Two channels keep a share back, so the push assigns reserved slots as in a city.
CHANNEL_SHARES = (("app", Decimal("0.100"), 120), ("wx", Decimal("0.050"), 60))
_HOURS = {Period.MORNING: (time(8, 0), time(12, 0)), Period.AFTERNOON: (time(13, 30), time(17, 30))}


@dataclass(frozen=True)
class PushShape:
    """``sessions`` sessions of ``slots`` slots each, spread over ``doctors`` doctors (one
    morning and one afternoon a day each) in ``departments`` departments. ``late``: the
    sessions' release time has passed (late supply: every slot cools before its release)."""

    sessions: int = 200
    slots: int = 500
    doctors: int = 20
    departments: int = 4
    late: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.slots <= MAX_CAPACITY:
            raise ValueError(f"slots per session must be between 1 and {MAX_CAPACITY}")
        if self.sessions < 1 or self.doctors < 1 or self.departments < 1:
            raise ValueError("sessions, doctors and departments must be at least 1")

    @property
    def total_slots(self) -> int:
        return self.sessions * self.slots


def seed_hospital(db: Session, *, token: str, now: datetime) -> Hospital:
    """The reserving channels and the hospital (no departments, doctors or sessions)."""
    for code, share, return_minutes in CHANNEL_SHARES:
        channels.create_channel(
            db,
            code=f"push-{code}-{token}",
            name=f"push bench {code}",
            kind=ChannelKind.HOSPITAL_APP if code == "app" else ChannelKind.WECHAT,
            reserved_share=share,
            reserve_return_minutes=return_minutes,
            now=now,
        )
    hospital, _ = hospitals.create_hospital(
        db, code=f"PUSH-{token}", name="市第一人民医院 (push bench)", grade="三级甲等", city="福州"
    )
    return hospital


def document(*, hospital: Hospital, shape: PushShape, now: datetime) -> ScheduleDocument:
    """The push: every doctor's mornings and afternoons, day after day, until ``shape``
    has its sessions; from the first day already released (``late``) or the first not."""
    today = local_today(hospital, now)
    first = today + timedelta(days=1 if shape.late else hospital.days_ahead + 1)
    departments = [f"DEP{n:02d}" for n in range(shape.departments)]
    doctors = [
        DoctorIn(
            code=f"DR{n:04d}",
            name=f"医生{n}",
            title=DoctorTitle.ATTENDING if n % 3 else DoctorTitle.CHIEF,
            department=departments[n % len(departments)],
        )
        for n in range(shape.doctors)
    ]
    return ScheduleDocument(
        hospital=hospital.code,
        departments=tuple(
            DepartmentIn(code=code, name=f"门诊{code}", specialty="internal")
            for code in departments
        ),
        doctors=tuple(doctors),
        sessions=tuple(
            _session(n, doctors=doctors, first=first, slots=shape.slots)
            for n in range(shape.sessions)
        ),
    )


def _session(n: int, *, doctors: list[DoctorIn], first: date, slots: int) -> SessionSpec:
    doctor = doctors[n % len(doctors)]
    half_day = n // len(doctors)
    period = Period.MORNING if half_day % 2 == 0 else Period.AFTERNOON
    start, end = _HOURS[period]
    return SessionSpec(
        his_session_id=f"PB-{n:06d}",
        department=doctor.department,
        doctor=doctor.code,
        session_date=first + timedelta(days=half_day // 2),
        period=period,
        local_start=start,
        local_end=end,
        fee=Decimal("50.00") if doctor.title == DoctorTitle.CHIEF else Decimal("20.00"),
        capacity=slots,
    )
