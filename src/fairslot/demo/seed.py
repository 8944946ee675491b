"""Seed a demo platform through the real services, as an operator, the hospitals' systems
and the channels would fill it: the channels first (so the window's reserved share applies
to every pushed session), then each hospital with its departments and doctors, its
schedule push for today .. today+7, and the push of day+8, which waits for its release.
Then a few accounts with bound patients, one confirmed booking so the hospital feed
has something to show, and one staff account per role with a development password; last,
what the call desk and the blacklist show (``demo/desk.py``). The release draws are left
to ``demo/past.py``, which replays the last two weeks through the APIs and runs each
draw when it fell due (with that night's intents), then today's.

Deterministic given ``rng`` and ``now``: the same seed gives the same people, doctors and
sessions (API keys, staff passwords and slot and booking GUIDs aside). Only flushes; the
caller commits. Development settings only: the printed passwords must never exist on a
production platform.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.channels import service as channels
from fairslot.channels.models import Channel
from fairslot.config import Settings
from fairslot.crypto import Protector
from fairslot.demo import catalog
from fairslot.demo.desk import seed_desk
from fairslot.demo.pages import PagesDemo
from fairslot.demo.people import book_first, seed_accounts
from fairslot.demo.scalpers import seed_scalper
from fairslot.demo.staff import StaffLogin, require_development, seed_staff
from fairslot.demo.supply import (
    DAYS_RELEASED,
    DemoSummary,
    first_session,
    push,
    release_instant,
    staff_hospital,
)
from fairslot.hospitals import repository as hospitals_repo
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import Hospital
from fairslot.patients.models import Account, Patient
from fairslot.schedules.formats import SessionSpec
from fairslot.schedules.release import is_released, session_times
from fairslot.schedules.states import Period
from fairslot.schedules.views import local_today

EXAMPLE_HOSPITAL = "PUH1"
EXAMPLE_DEPARTMENT = "CAR"  # open to everyone: the curl examples book the father there
FAMILY_BOOKING_DEPARTMENT = "PED"


@dataclass(frozen=True)
class HospitalKey:
    code: str
    name: str
    grade: str
    key: str


@dataclass(frozen=True)
class ChannelKey:
    code: str
    name: str
    kind: str
    reserved_share: Decimal
    key: str


@dataclass(frozen=True)
class DemoExample:
    """What the printed curl examples refer to."""

    hospital: str
    department_id: int
    department_name: str
    date_from: date
    date_to: date
    account_id: int  # the family's WeChat account
    patient_id: int  # the father
    session_id: int | None  # a released cardiology session from tomorrow on
    unreleased_date: date  # day+8
    unreleased_release_at: datetime  # when day+8 is released, in the hospital's zone
    report_date: date  # yesterday: the latest date the daily risk batch can have run for


@dataclass(frozen=True)
class DemoSeed:
    hospitals: list[HospitalKey]
    channels: list[ChannelKey]
    staff: list[StaffLogin]
    summary: DemoSummary
    example: DemoExample
    # Each hospital's doctors with their weekly clinics: the past's pushes follow them.
    clinics: dict[str, tuple[catalog.PlannedDoctor, ...]] = field(default_factory=dict)
    # What the patient pages show at once: an open draw, a full session with a waitlist.
    pages: PagesDemo | None = None


def seed_demo(
    db: Session,
    *,
    now: datetime,
    rng: random.Random,
    protector: Protector,
    settings: Settings,
) -> DemoSeed:
    """Fill an empty, migrated database with the demo platform; returns its keys and
    staff passwords. Refuses production settings."""
    require_development(settings)
    summary = DemoSummary()
    channel_rows, channel_keys = _channels(db, now=now)
    summary.channels = len(channel_rows)

    hospital_keys: list[HospitalKey] = []
    pushed: dict[str, tuple[Hospital, list[SessionSpec]]] = {}
    clinics: dict[str, tuple[catalog.PlannedDoctor, ...]] = {}
    for demo in catalog.HOSPITALS:
        hospital, key = hospitals.create_hospital(
            db, code=demo.code, name=demo.name, grade=demo.grade, city=demo.city
        )
        hospital_keys.append(HospitalKey(demo.code, demo.name, demo.grade, key))
        staff = staff_hospital(db, hospital=hospital, demo=demo, rng=rng, summary=summary)
        clinics[demo.code] = tuple(staff)
        pushed[demo.code] = (hospital, push(db, hospital=hospital, staff=staff, now=now))
        summary.hospitals += 1

    for hospital, specs in pushed.values():
        policy = hospitals.policy_of(hospital)
        for spec in specs:
            if is_released(release_instant(policy, spec), now):
                summary.sessions_released += 1
            else:
                summary.sessions_unreleased += 1
            summary.slots += spec.capacity

    # Ophthalmology and stomatology are drawn: their draws run in the past's replay, each
    # at its release (``demo/past.py``); nothing seeded here books them.
    db.flush()

    hospital, specs = pushed[EXAMPLE_HOSPITAL]
    today = local_today(hospital, now)
    accounts, people = seed_accounts(
        db,
        channels=channel_rows,
        today=today,
        now=now,
        rng=rng,
        protector=protector,
        settings=settings,
    )
    summary.accounts, summary.patients = len(accounts), len(people)

    family_session = first_session(
        db,
        hospital=hospital,
        specs=specs,
        department=FAMILY_BOOKING_DEPARTMENT,
        after=today,
        now=now,
    )
    if family_session is not None:
        book_first(
            db,
            session_id=family_session,
            account=accounts["family"],
            patient=people["child"],
            channel=channel_rows["wechat"],
            now=now,
            protector=protector,
            settings=settings,
            rng=rng,
        )
        summary.bookings += 1

    history = seed_scalper(
        db,
        hospital=hospital,
        specs=specs,
        channels=channel_rows,
        today=today,
        now=now,
        rng=rng,
        protector=protector,
        settings=settings,
    )
    summary.scalper_bookings = history.bookings
    summary.risk_alerts = history.report.new_alerts
    summary.cases_opened = history.report.cases_opened

    logins = seed_staff(db, now=now)
    summary.staff = len(logins)

    desk = seed_desk(
        db,
        hospital=hospital,
        specs=specs,
        channels=channel_rows,
        today=today,
        now=now,
        rng=rng,
        protector=protector,
        settings=settings,
    )
    summary.call_tasks, summary.blacklist_entries = desk.call_tasks, desk.blacklist_entries

    return DemoSeed(
        hospitals=hospital_keys,
        channels=channel_keys,
        staff=logins,
        summary=summary,
        example=_example(
            db,
            hospital=hospital,
            specs=specs,
            account=accounts["family"],
            patient=people["father"],
            today=today,
            now=now,
        ),
        clinics=clinics,
        pages=PagesDemo(),  # filled in after the past's replay (demo/pages.py)
    )


def _example(
    db: Session,
    *,
    hospital: Hospital,
    specs: Sequence[SessionSpec],
    account: Account,
    patient: Patient,
    today: date,
    now: datetime,
) -> DemoExample:
    department = hospitals_repo.department_by_code(
        db, hospital_id=hospital.id, code=EXAMPLE_DEPARTMENT
    )
    assert department is not None  # the example hospital runs every catalog department
    day8 = today + timedelta(days=DAYS_RELEASED)
    start, end = catalog.PERIODS[Period.MORNING]
    return DemoExample(
        hospital=hospital.code,
        department_id=department.id,
        department_name=department.name,
        date_from=today,
        date_to=today + timedelta(days=DAYS_RELEASED - 1),
        account_id=account.id,
        patient_id=patient.id,
        session_id=first_session(
            db, hospital=hospital, specs=specs, department=EXAMPLE_DEPARTMENT, after=today, now=now
        ),
        unreleased_date=day8,
        unreleased_release_at=session_times(
            hospitals.policy_of(hospital), session_date=day8, local_start=start, local_end=end
        ).release_at.astimezone(ZoneInfo(hospital.timezone)),
        report_date=today - timedelta(days=1),
    )


# --- channels --------------------------------------------------------------------------


def _channels(db: Session, *, now: datetime) -> tuple[dict[str, Channel], list[ChannelKey]]:
    rows: dict[str, Channel] = {}
    keys: list[ChannelKey] = []
    for spec in catalog.CHANNELS:
        channel, key = channels.create_channel(
            db,
            code=spec.code,
            name=spec.name,
            kind=spec.kind,
            reserved_share=spec.reserved_share,
            reserve_return_minutes=spec.reserve_return_minutes,
            now=now,
        )
        rows[spec.code] = channel
        keys.append(
            ChannelKey(channel.code, channel.name, channel.kind.value, channel.reserved_share, key)
        )
    return rows, keys
