"""What customer service and IT find on the demo's first morning, made through the real
services (booking, the daily batch, review, the call sample, the blacklist).

- **A flagged call.** Two days ago an elderly woman booked orthopaedics six times and
  cancelled each booking without a visit — three times through her own phone-line
  account, three through her daughter's WeChat account. That day's batch opened a case on
  her; yesterday morning the reviewer asked customer service to call her first. Her case
  waits on the call (``awaiting_call``), so the review queue still shows only the
  scalper's case (``demo/scalpers.py``).
- **The daily sample.** The routine calls drawn from yesterday's confirmed bookings, as
  the worker draws them after the batch.
- **Three blacklist entries by IT:** a phone number the security office reported in the
  outpatient hall (permanent: its owner was blocked by mistake and can have it lifted in
  person), a grab script's network for 30 days, and a grab tool's device blocked for 7 days
  that has since expired.

Runs after ``seed_scalper`` and ``seed_staff``: the day-before-yesterday batch sees only
its own window, so yesterday's report is unchanged. Only flushes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.blacklist import service as blacklist
from fairslot.blacklist.models import Scope
from fairslot.bookings import service as bookings
from fairslot.bookings.policy import booking_policy
from fairslot.cases import review
from fairslot.channels.models import Channel, ChannelKind
from fairslot.config import Settings
from fairslot.context import edge_context
from fairslot.crypto import Protector
from fairslot.demo.supply import release_instant
from fairslot.followup import repository as calls_repo
from fairslot.followup import service as calls
from fairslot.followup.daily import WORKER
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import Hospital
from fairslot.patients import service as patients
from fairslot.patients.identity import Sex
from fairslot.patients.idgen import REGION_CODES, make_resident_id
from fairslot.risk.daily import run_configured
from fairslot.schedules import repository as schedules_repo
from fairslot.schedules.formats import SessionSpec
from fairslot.schedules.release import is_released
from fairslot.staff import repository as staff_repo
from fairslot.staff import service as staff_service
from fairslot.staff.audit import StaffActor

DEMO_ACTOR: Final = "demo"
CANCELLING_DEPARTMENT: Final = "ORT"
CANCELLATIONS: Final = 6  # over the paper's threshold of five: her case outranks none it should
QUESTION: Final = (
    "您前天在骨科预约了 6 次又都取消了，也没有来就诊。请问是您本人预约的吗？"
    "取消的原因是什么？现在还需要看骨科吗？"
)
# A number outside the demo households' 135-139 range, so no demo account is blocked.
MISTAKEN_PHONE: Final = "15810345678"
GRAB_NETWORK: Final = "192.0.2.77"
GRAB_DEVICE: Final = "grab-tool-7f3a9c"


At = Callable[[date, time], datetime]  # a local day and time at the hospital, as UTC


@dataclass(frozen=True)
class DeskSeed:
    call_tasks: int
    blacklist_entries: int


def seed_desk(
    db: Session,
    *,
    hospital: Hospital,
    specs: Sequence[SessionSpec],
    channels: Mapping[str, Channel],
    today: date,
    now: datetime,
    rng: random.Random,
    protector: Protector,
    settings: Settings,
) -> DeskSeed:
    zone = ZoneInfo(hospital.timezone)

    def at(day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=zone).astimezone(ZoneInfo("UTC"))

    reviewer = _actor(db, "reviewer")
    it_admin = _actor(db, "it_admin")
    yesterday, before = today - timedelta(days=1), today - timedelta(days=2)

    _cancelling_patient(
        db,
        hospital=hospital,
        specs=specs,
        channels=channels,
        day=before,
        at=at,
        rng=rng,
        protector=protector,
        settings=settings,
    )
    run_configured(
        db,
        day=before,
        now=at(yesterday, time(1, 0)),
        settings=settings,
        actor=DEMO_ACTOR,
        protector=protector,
    )
    taken_at = at(yesterday, time(10, 0))
    case = review.take_next(
        db, actor=reviewer, now=taken_at, lock_minutes=settings.review_lock_minutes
    )
    if case.subject_kind != "patient":  # the scalper's case must stay in the queue
        raise RuntimeError(f"the demo reviewer took case {case.id} ({case.subject_kind})")
    _, flagged = review.request_calls(
        db,
        case_id=case.id,
        question=QUESTION,
        actor=reviewer,
        now=taken_at + timedelta(minutes=6),
        protector=protector,
    )

    # Yesterday's routine sample, as the worker draws it once the batch has run.
    calls_repo.claim_sample_day(db, day=yesterday.isoformat(), now=now)
    sample = calls.sample(
        db,
        day=yesterday,
        rate=settings.followup_sample_rate,
        limit=settings.followup_sample_max,
        rng=rng,
        now=now,
        tz=hospital.timezone,
        actor=WORKER,
    )

    entries = _blacklist(db, actor=it_admin, today=today, at=at, protector=protector)
    return DeskSeed(call_tasks=len(flagged) + len(sample.created), blacklist_entries=entries)


def _actor(db: Session, username: str) -> StaffActor:
    user = staff_repo.by_username(db, username)
    if user is None:
        raise RuntimeError(f"seed the demo staff before the desk ({username} is missing)")
    return staff_service.actor_of(user)


def _cancelling_patient(
    db: Session,
    *,
    hospital: Hospital,
    specs: Sequence[SessionSpec],
    channels: Mapping[str, Channel],
    day: date,
    at: At,
    rng: random.Random,
    protector: Protector,
    settings: Settings,
) -> None:
    """Six bookings made and cancelled on ``day``, alternating between two accounts."""
    own_phone = f"158{rng.randrange(10**8):08d}"
    daughter_phone = f"159{rng.randrange(10**8):08d}"
    id_number = make_resident_id(
        rng=rng, sex=Sex.FEMALE, birth_date=date(day.year - 68, 3, 9), region=REGION_CODES[0]
    )
    accounts = []
    for code, phone, relation in (
        ("phone", own_phone, "self"),
        ("wechat", daughter_phone, "parent"),
    ):
        account = patients.register_account(
            db,
            phone=phone,
            channel_id=channels[code].id,
            external_ref=f"demo-canceller-{code}",
            now=at(day, time(7, 0)),
            protector=protector,
            max_per_phone=settings.max_accounts_per_phone,
        )
        patient = patients.bind_patient(
            db,
            account=account,
            name="刘桂兰",
            id_number=id_number,
            phone=own_phone,
            relation=relation,
            now=at(day, time(7, 5)),
            protector=protector,
            max_bound=settings.max_patients_per_account,
        )
        accounts.append((account, channels[code]))
    first = at(day, time(8, 30))
    sessions = _released_sessions(db, hospital=hospital, specs=specs, after=day, at=first)
    policy = booking_policy(settings)
    for n in range(CANCELLATIONS):
        account, channel = accounts[n % 2]
        moment = first + n * timedelta(minutes=55)
        ctx = edge_context(
            protector=protector,
            actor="patient",
            channel_id=channel.id,
            account_id=account.id,
            device_id=f"demo-canceller-{channel.code}",
            ip="203.0.113.41",
        )
        booking = bookings.hold(
            db,
            account_id=account.id,
            patient_id=patient.id,
            slot_id=bookings.first_free_slot(
                db, session_id=sessions[n % len(sessions)], now=moment, channel_id=channel.id
            ),
            now=moment,
            ctx=ctx,
            policy=policy,
            rng=rng,
        )
        bookings.confirm(
            db,
            booking_id=booking.id,
            account_id=account.id,
            payment_account=f"demo-canceller-{channel.code}-pay",
            payment_reference=f"DEMO-CANCEL-{n + 1}",
            now=moment + timedelta(minutes=1),
            ctx=ctx,
            protector=protector,
        )
        bookings.cancel(
            db,
            booking_id=booking.id,
            account_id=account.id,
            now=moment + timedelta(minutes=25),
            ctx=ctx,
            channel_kind=ChannelKind(channel.kind),
            policy=policy,
            rng=rng,
        )
    db.flush()


def _released_sessions(
    db: Session, *, hospital: Hospital, specs: Sequence[SessionSpec], after: date, at: datetime
) -> list[int]:
    """Orthopaedics sessions after ``after`` that were on sale at ``at``, earliest first."""
    policy = hospitals.policy_of(hospital)
    wanted = sorted(
        (
            spec
            for spec in specs
            if spec.department == CANCELLING_DEPARTMENT
            and spec.session_date > after + timedelta(days=1)
            and is_released(release_instant(policy, spec), at)
        ),
        key=lambda spec: (spec.session_date, spec.local_start),
    )
    found = []
    for spec in wanted:
        session = schedules_repo.session_by_his_id(
            db, hospital_id=hospital.id, his_session_id=spec.his_session_id
        )
        if session is not None:
            found.append(session.id)
    if not found:  # the example hospital runs every catalog department
        raise RuntimeError("no released orthopaedics session for the demo's call")
    return found


def _blacklist(db: Session, *, actor: StaffActor, today: date, at: At, protector: Protector) -> int:
    entries = (
        (
            Scope.PHONE,
            MISTAKEN_PHONE,
            "保卫科报告：有人在门诊大厅用该手机号联系患者兜售专家号",
            None,
            at(today - timedelta(days=3), time(15, 20)),
        ),
        (
            Scope.NETWORK,
            GRAB_NETWORK,
            "抢号脚本：放号后一分钟内 600 余次余号查询",
            30,
            at(today - timedelta(days=1), time(11, 0)),
        ),
        (
            Scope.DEVICE,
            GRAB_DEVICE,
            "抢号软件的设备指纹，临时封禁 7 天",
            7,
            at(today - timedelta(days=10), time(9, 40)),
        ),
    )
    for scope, value, reason, days, when in entries:
        blacklist.block(
            db,
            scope=scope,
            value=value,
            reason=reason,
            actor=actor,
            now=when,
            protector=protector,
            days=days,
        )
    return len(entries)
