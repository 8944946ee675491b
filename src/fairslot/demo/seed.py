"""Seed a demo platform through the real services, as an operator, the hospitals' systems
and the channels would fill it: the channels first (so the window's reserved share applies
to every pushed session), then each hospital with its departments and doctors, its
schedule push for today .. today+7, and the push of day+8, which waits for its release.
Then a few accounts with bound patients, one confirmed booking so the hospital feed
has something to show, and one staff account per role with a development password.

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

from fairslot.allocation.states import AllocationMode
from fairslot.allocation.worker import run_due_draws
from fairslot.bookings import service as bookings
from fairslot.bookings.policy import booking_policy
from fairslot.channels import service as channels
from fairslot.channels.models import Channel
from fairslot.config import Settings
from fairslot.context import RequestContext
from fairslot.crypto import Protector
from fairslot.demo import catalog
from fairslot.demo.scalpers import seed_scalper
from fairslot.demo.staff import StaffLogin, require_development, seed_staff
from fairslot.hospitals import repository as hospitals_repo
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import DoctorTitle, Hospital
from fairslot.hospitals.schemas import DepartmentIn, DoctorIn
from fairslot.patients import service as patients
from fairslot.patients.idgen import REGION_CODES, make_resident_id
from fairslot.patients.models import Account, Patient
from fairslot.schedules import repository as schedules_repo
from fairslot.schedules import service as schedules
from fairslot.schedules.formats import ScheduleDocument, SessionSpec
from fairslot.schedules.release import ReleasePolicy, is_released, session_times
from fairslot.schedules.states import Period
from fairslot.schedules.views import local_today

DAYS_RELEASED = 8  # today .. today+7: the booking horizon
EXAMPLE_HOSPITAL = "PUH1"
EXAMPLE_DEPARTMENT = "CAR"  # open to everyone: the curl examples book the father there
FAMILY_BOOKING_DEPARTMENT = "PED"
_BEIJING_REGIONS = REGION_CODES[:5]


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


@dataclass
class DemoSummary:
    hospitals: int = 0
    departments: int = 0
    doctors: int = 0
    doctors_by_title: dict[str, int] = field(
        default_factory=lambda: {title.value: 0 for title in DoctorTitle}
    )
    sessions_released: int = 0  # visible now, by the release rule
    sessions_unreleased: int = 0  # pushed, waiting for their release time
    slots: int = 0
    channels: int = 0
    accounts: int = 0
    patients: int = 0
    bookings: int = 0
    staff: int = 0
    # Yesterday's scalper history (``demo/scalpers.py``) and the batch run over it.
    scalper_bookings: int = 0
    risk_alerts: int = 0
    cases_opened: int = 0


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
    for demo in catalog.HOSPITALS:
        hospital, key = hospitals.create_hospital(
            db, code=demo.code, name=demo.name, grade=demo.grade, city=demo.city
        )
        hospital_keys.append(HospitalKey(demo.code, demo.name, demo.grade, key))
        staff = _staff_hospital(db, hospital=hospital, demo=demo, rng=rng, summary=summary)
        pushed[demo.code] = (hospital, _push(db, hospital=hospital, staff=staff, now=now))
        summary.hospitals += 1

    for hospital, specs in pushed.values():
        policy = hospitals.policy_of(hospital)
        for spec in specs:
            if is_released(_release_at(policy, spec), now):
                summary.sessions_released += 1
            else:
                summary.sessions_unreleased += 1
            summary.slots += spec.capacity

    # Ophthalmology and stomatology are drawn: the draws of days already released are due
    # (nobody registered, so they are drawn empty and go on open sale), as the worker would.
    db.flush()
    run_due_draws(db, now=now, policy=booking_policy(settings), rng=rng, protector=protector)

    hospital, specs = pushed[EXAMPLE_HOSPITAL]
    today = local_today(hospital, now)
    accounts, people = _accounts(
        db,
        channels=channel_rows,
        today=today,
        now=now,
        rng=rng,
        protector=protector,
        settings=settings,
    )
    summary.accounts, summary.patients = len(accounts), len(people)

    family_session = _first_session(
        db,
        hospital=hospital,
        specs=specs,
        department=FAMILY_BOOKING_DEPARTMENT,
        after=today,
        now=now,
    )
    if family_session is not None:
        _book(
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
        session_id=_first_session(
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


# --- supply ----------------------------------------------------------------------------


def _staff_hospital(
    db: Session,
    *,
    hospital: Hospital,
    demo: catalog.DemoHospital,
    rng: random.Random,
    summary: DemoSummary,
) -> list[catalog.PlannedDoctor]:
    """Upsert the hospital's departments and doctors; returns the doctors' weekly plan."""
    departments = catalog.departments_of(demo)
    hospitals.upsert_departments(
        db, hospital=hospital, specs=[_department_in(d) for d in departments]
    )
    staff = [
        doctor for d in departments for doctor in catalog.plan_doctors(demo, department=d, rng=rng)
    ]
    hospitals.upsert_doctors(
        db,
        hospital=hospital,
        specs=[
            DoctorIn(code=d.code, name=d.name, title=d.title, department=d.department.code)
            for d in staff
        ],
    )
    summary.departments += len(departments)
    summary.doctors += len(staff)
    for doctor in staff:
        summary.doctors_by_title[doctor.title.value] += 1
    return staff


def _department_in(department: catalog.DemoDepartment) -> DepartmentIn:
    return DepartmentIn(
        code=department.code,
        name=department.name,
        specialty=department.specialty,
        sex_restriction=department.sex,
        min_age=department.min_age,
        max_age=department.max_age,
        allocation_mode=AllocationMode.DRAW if department.drawn else AllocationMode.FIRST_COME,
    )


def _push(
    db: Session, *, hospital: Hospital, staff: Sequence[catalog.PlannedDoctor], now: datetime
) -> list[SessionSpec]:
    """The hospital's two pushes: the booking horizon, then day+8 (not yet released)."""
    today = local_today(hospital, now)
    ctx = RequestContext(actor=f"hospital:{hospital.code}")
    horizon = [today + timedelta(days=n) for n in range(DAYS_RELEASED)]
    pushes = [
        catalog.plan_sessions(staff, days=horizon),
        catalog.plan_sessions(staff, days=[horizon[-1] + timedelta(days=1)]),
    ]
    policy = hospitals.policy_of(hospital)
    by_day: dict[date, list[SessionSpec]] = {}
    for spec in (spec for specs in pushes for spec in specs):
        by_day.setdefault(spec.session_date, []).append(spec)
    for _day, specs in sorted(by_day.items()):
        # The HIS pushed each day at its push time (00:00, seven days ahead), so the demo's
        # past pushes are dated then, before their release; day+8 is pushed early, now.
        pushed_at = min(now, _push_at(policy, specs[0]))
        doc = ScheduleDocument(hospital=hospital.code, sessions=tuple(specs))
        report = schedules.import_schedule(
            db, doc=doc, now=pushed_at, ctx=ctx, as_hospital=hospital
        )
        if report.rejected:  # the plan is ours: a rejection is a bug in it
            reasons = {s.reason for s in report.sessions if s.reason}
            raise RuntimeError(f"demo sessions rejected at {hospital.code}: {reasons}")
    return [spec for specs in pushes for spec in specs]


def _push_at(policy: ReleasePolicy, spec: SessionSpec) -> datetime:
    return session_times(
        policy,
        session_date=spec.session_date,
        local_start=spec.local_start,
        local_end=spec.local_end,
    ).push_at


def _release_at(policy: ReleasePolicy, spec: SessionSpec) -> datetime:
    return session_times(
        policy,
        session_date=spec.session_date,
        local_start=spec.local_start,
        local_end=spec.local_end,
    ).release_at


def _first_session(
    db: Session,
    *,
    hospital: Hospital,
    specs: Sequence[SessionSpec],
    department: str,
    after: date,
    now: datetime,
) -> int | None:
    """The database id of the department's earliest released session after ``after``."""
    policy = hospitals.policy_of(hospital)
    candidates = sorted(
        (
            spec
            for spec in specs
            if spec.department == department
            and spec.session_date > after
            and is_released(_release_at(policy, spec), now)
        ),
        key=lambda spec: (spec.session_date, spec.local_start),
    )
    if not candidates:
        return None
    session = schedules_repo.session_by_his_id(
        db, hospital_id=hospital.id, his_session_id=candidates[0].his_session_id
    )
    return session.id if session is not None else None


# --- people ----------------------------------------------------------------------------


def _accounts(
    db: Session,
    *,
    channels: dict[str, Channel],
    today: date,
    now: datetime,
    rng: random.Random,
    protector: Protector,
    settings: Settings,
) -> tuple[dict[str, Account], dict[str, Patient]]:
    phones = {person.household: "" for person in catalog.PEOPLE}
    for household in phones:
        phones[household] = f"13{rng.randint(5, 9)}{rng.randrange(10**8):08d}"
    identities = {
        person.key: (
            catalog.person_name(rng),
            make_resident_id(
                rng=rng,
                sex=person.sex,
                birth_date=date(today.year - person.age, 1, 1) + timedelta(days=rng.randrange(365)),
                region=rng.choice(_BEIJING_REGIONS),
            ),
        )
        for person in catalog.PEOPLE
    }
    households = {person.key: person.household for person in catalog.PEOPLE}
    accounts: dict[str, Account] = {}
    people: dict[str, Patient] = {}
    for spec in catalog.ACCOUNTS:
        account = patients.register_account(
            db,
            phone=phones[spec.household],
            channel_id=channels[spec.channel].id,
            external_ref=f"demo-{spec.key}",
            now=now,
            protector=protector,
            max_per_phone=settings.max_accounts_per_phone,
        )
        accounts[spec.key] = account
        for person, relation in spec.bindings:
            name, id_number = identities[person]
            people[person] = patients.bind_patient(
                db,
                account=account,
                name=name,
                id_number=id_number,
                phone=phones[households[person]],
                relation=relation,
                now=now,
                protector=protector,
                max_bound=settings.max_patients_per_account,
            )
    return accounts, people


def _book(
    db: Session,
    *,
    session_id: int,
    account: Account,
    patient: Patient,
    channel: Channel,
    now: datetime,
    protector: Protector,
    settings: Settings,
    rng: random.Random,
) -> None:
    """The family books the child into paediatrics through WeChat and pays."""
    ctx = RequestContext(
        actor="patient",
        channel_id=channel.id,
        account_id=account.id,
        device_id="demo-phone-family",
        ip="203.0.113.8",
        wifi_id="demo-home-wifi",
        user_agent="MicroMessenger/8.0 (demo)",
    )
    slot_id = bookings.first_free_slot(db, session_id=session_id, now=now, channel_id=channel.id)
    booking = bookings.hold(
        db,
        account_id=account.id,
        patient_id=patient.id,
        slot_id=slot_id,
        now=now,
        ctx=ctx,
        policy=booking_policy(settings),
        rng=rng,
    )
    bookings.confirm(
        db,
        booking_id=booking.id,
        account_id=account.id,
        payment_account="wxpay-demo-family",
        payment_reference="WX-DEMO-0001",
        now=now,
        ctx=ctx,
        protector=protector,
    )
