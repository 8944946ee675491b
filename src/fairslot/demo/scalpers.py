"""A small scalper history for the demo, and yesterday's anomaly batch over it.

Yesterday morning a scalper with one phone opened an account on WeChat and another on
Alipay, bound five bought identities and booked each into the example hospital's
cardiology through the booking services, paying every booking with one card, a few
minutes apart as a person would. The batch for yesterday then finds the card paying five
bookings in one department and opens a case, so the demo's review queue and its daily
report (printed as curl examples) have something to show.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.bookings import service as bookings
from fairslot.bookings.policy import booking_policy
from fairslot.channels.models import Channel
from fairslot.config import Settings
from fairslot.context import edge_context
from fairslot.crypto import Protector
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import Hospital
from fairslot.patients import service as patients
from fairslot.patients.identity import Sex
from fairslot.patients.idgen import REGION_CODES, make_resident_id
from fairslot.risk.batch import BatchReport
from fairslot.risk.daily import run_configured
from fairslot.schedules import repository as schedules_repo
from fairslot.schedules.formats import SessionSpec
from fairslot.schedules.release import is_released, session_times

DEMO_ACTOR: Final = "demo"
SCALPER_DEPARTMENT: Final = "CAR"
SCALPER_CARD: Final = "6222020000009999"
IDENTITIES: Final = 5  # the paper's threshold: five paid bookings on one card, one department
# Yesterday from 09:00 local, one identity every 12 minutes: a person's pace, not a script's.
FIRST_BOOKING: Final = time(9, 0)
BETWEEN_BOOKINGS: Final = timedelta(minutes=12)
SECONDS_TO_PAY: Final = timedelta(seconds=40)
_CHANNEL_OF: Final = ("wechat", "wechat", "wechat", "alipay", "alipay")


@dataclass(frozen=True)
class ScalperHistory:
    bookings: int
    report: BatchReport


def booking_times(day: date, *, zone: ZoneInfo, count: int) -> list[datetime]:
    """When the scalper held each booking on the local ``day`` (UTC)."""
    first = datetime.combine(day, FIRST_BOOKING, tzinfo=zone)
    return [(first + n * BETWEEN_BOOKINGS).astimezone(ZoneInfo("UTC")) for n in range(count)]


def seed_scalper(
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
) -> ScalperHistory:
    """Yesterday's scalper bookings, then yesterday's batch (as the worker runs it)."""
    yesterday = today - timedelta(days=1)
    moments = booking_times(yesterday, zone=ZoneInfo(hospital.timezone), count=IDENTITIES)
    sessions = _sessions(db, hospital=hospital, specs=specs, first=today, at=moments[0])
    phone = f"139{rng.randrange(10**8):08d}"
    accounts = {
        code: patients.register_account(
            db,
            phone=phone,
            channel_id=channels[code].id,
            external_ref=f"demo-scalper-{code}",
            now=moments[0] - timedelta(hours=1),
            protector=protector,
            max_per_phone=settings.max_accounts_per_phone,
        )
        for code in ("wechat", "alipay")
    }
    booked = 0
    for n, (at, code) in enumerate(zip(moments, _CHANNEL_OF, strict=True)):
        account = accounts[code]
        patient = patients.bind_patient(
            db,
            account=account,
            name=f"王{'伟芳娜敏静'[n]}",
            id_number=make_resident_id(
                rng=rng,
                sex=Sex.FEMALE if n % 2 else Sex.MALE,
                birth_date=date(1970 + 5 * n, 6, 1),
                region=rng.choice(REGION_CODES),
            ),
            phone=phone,
            relation="other",
            now=at - timedelta(minutes=5),
            protector=protector,
            max_bound=settings.max_patients_per_account,
        )
        ctx = edge_context(
            protector=protector,
            actor="patient",
            channel_id=channels[code].id,
            account_id=account.id,
            device_id="demo-scalper-phone",
            ip="198.51.100.66",
        )
        session_id = sessions[n % len(sessions)]
        booking = bookings.hold(
            db,
            account_id=account.id,
            patient_id=patient.id,
            slot_id=bookings.first_free_slot(
                db, session_id=session_id, now=at, channel_id=channels[code].id
            ),
            now=at,
            ctx=ctx,
            policy=booking_policy(settings),
            rng=rng,
        )
        bookings.confirm(
            db,
            booking_id=booking.id,
            account_id=account.id,
            payment_account=SCALPER_CARD,
            payment_reference=f"DEMO-SCALPER-{n + 1}",
            now=at + SECONDS_TO_PAY,
            ctx=ctx,
            protector=protector,
        )
        booked += 1
    db.flush()
    report = run_configured(
        db, day=yesterday, now=now, settings=settings, actor=DEMO_ACTOR, protector=protector
    )
    return ScalperHistory(bookings=booked, report=report)


def _sessions(
    db: Session, *, hospital: Hospital, specs: Sequence[SessionSpec], first: date, at: datetime
) -> list[int]:
    """Cardiology sessions from ``first`` on that were already released at ``at``."""
    policy = hospitals.policy_of(hospital)
    wanted = sorted(
        (
            spec
            for spec in specs
            if spec.department == SCALPER_DEPARTMENT
            and spec.session_date >= first
            and is_released(
                session_times(
                    policy,
                    session_date=spec.session_date,
                    local_start=spec.local_start,
                    local_end=spec.local_end,
                ).release_at,
                at,
            )
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
    if not found:  # the catalog always runs cardiology at the example hospital
        raise RuntimeError("no released cardiology session for the demo's scalper")
    return found
