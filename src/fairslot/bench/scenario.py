"""The release-day world of the benchmark, seeded through the real services.

Two steps, because the release instant is a real wall-clock moment that the server's
system clock reaches during the run:

1. :func:`seed_world` — before the server starts: the booking channels, a tertiary
   hospital with a scarce first-come department (a few expert sessions of a few slots
   each), an ordinary department of the same specialty and title (what the alternatives
   of a refused hold point to), a twin of the scarce department that only the raw-limit
   measurement touches, and thousands of people, each with an account bound to them.
2. :func:`push_release` — once the server and the clients are ready: the hospital's
   release time is set to an instant a moment ahead and its system pushes the sessions
   of release day + 7, exactly as a HIS pushes them before a release. Nothing is
   visible before that instant; at it, every client fires.

Only flushes; the caller commits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.availability.repository import slots_of_session
from fairslot.channels import service as channels
from fairslot.channels.models import ChannelKind
from fairslot.config import Settings
from fairslot.context import RequestContext
from fairslot.crypto import Protector
from fairslot.demo.catalog import person_name
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import DoctorTitle
from fairslot.hospitals.schemas import DepartmentIn, DoctorIn
from fairslot.patients import service as patients
from fairslot.patients.identity import Sex
from fairslot.patients.idgen import REGION_CODES, make_resident_id
from fairslot.schedules import release_change
from fairslot.schedules import repository as schedules_repo
from fairslot.schedules import service as schedules
from fairslot.schedules.formats import ScheduleDocument, SessionSpec
from fairslot.schedules.states import Period

SCARCE = "EXP"  # the expert clinic everybody wants
ORDINARY = "GEN"  # same specialty and title, plenty of room: the alternatives
RAW = "RAW"  # the scarce clinic's twin, claimed only by the raw-limit measurement
AMPLE = "AMP"  # a first-come clinic of plenty: the phase of successful holds and confirms
ANCHOR = "ANC"  # slots claimed only by the hand-written anchor (``bench/anchor.py``)
SESSION_CAPACITY = 500  # the most slots one session may have (schedules.formats)
SPECIALTY = "stomatology"
_CHANNELS = (("app", ChannelKind.HOSPITAL_APP), ("wx", ChannelKind.WECHAT))


@dataclass(frozen=True)
class WorldSize:
    identities: int
    scarce_sessions: int = 4
    slots_per_session: int = 10
    ordinary_sessions: int = 2
    ordinary_capacity: int = 30
    ample_slots: int = 0  # successful holds one run may make
    anchor_slots: int = 0  # claims the anchor may win

    @property
    def anchor_departments(self) -> list[str]:
        """A patient may occupy one slot per department and day (a unique index), so the
        anchor's slots are spread over departments of at most one slot per identity."""
        count = -(-self.anchor_slots // max(1, self.identities)) if self.anchor_slots else 0
        return [f"{ANCHOR}{n}" for n in range(count)]

    def anchor_share(self, n: int) -> int:
        """Slots of the ``n``-th anchor department."""
        per = min(self.identities, self.anchor_slots)
        return max(0, min(per, self.anchor_slots - n * per))

    @property
    def scarce_slots(self) -> int:
        return self.scarce_sessions * self.slots_per_session


@dataclass(frozen=True)
class Identity:
    """One person as a channel relays them: their account, device and network."""

    account_id: int
    patient_id: int
    channel_key: str
    device_id: str
    ip: str


@dataclass(frozen=True)
class World:
    hospital_code: str
    size: WorldSize
    identities: tuple[Identity, ...]
    raw_channel_id: int


@dataclass(frozen=True)
class Release:
    """What the push at the release instant made: the targets of the burst."""

    release_at: datetime
    session_date: date
    department_id: int
    scarce_session_ids: tuple[int, ...]
    all_session_ids: tuple[int, ...]
    raw_slot_ids: tuple[str, ...]
    ample_session_ids: tuple[int, ...] = ()
    ample_slot_ids: tuple[tuple[str, ...], ...] = ()  # per ample session, in its order
    anchor_slot_ids: tuple[tuple[str, ...], ...] = ()  # per anchor department


def seed_world(
    db: Session,
    *,
    token: str,
    size: WorldSize,
    now: datetime,
    rng: random.Random,
    protector: Protector,
    settings: Settings,
) -> World:
    """Channels, the hospital (no sessions yet) and ``size.identities`` bound people.

    ``token`` makes codes and phone numbers unique to the run, so a database that already
    holds a run's world can take another.
    """
    keys: list[tuple[int, str]] = []
    for code, kind in _CHANNELS:
        channel, key = channels.create_channel(
            db, code=f"bench-{code}-{token}", name=f"bench {code}", kind=kind, now=now
        )
        keys.append((channel.id, key))
    hospital_code = f"BENCH-{token}"
    hospital, _ = hospitals.create_hospital(
        db, code=hospital_code, name="口腔医院 (bench)", grade="三级甲等", city="北京"
    )
    hospitals.upsert_departments(
        db,
        hospital=hospital,
        specs=[
            DepartmentIn(code=SCARCE, name="口腔颌面外科专家门诊", specialty=SPECIALTY),
            DepartmentIn(code=ORDINARY, name="口腔科普通门诊", specialty=SPECIALTY),
            DepartmentIn(code=RAW, name="raw-limit twin", specialty="rawlimit"),
            DepartmentIn(code=AMPLE, name="口腔科普通门诊 (bench plenty)", specialty="ample"),
            *(
                DepartmentIn(code=code, name=f"anchor claims {code}", specialty="anchor")
                for code in size.anchor_departments
            ),
        ],
    )
    hospitals.upsert_doctors(
        db,
        hospital=hospital,
        specs=[
            DoctorIn(code=code, name=person_name(rng), title=DoctorTitle.CHIEF, department=dept)
            for dept, code, _ in _doctor_codes(size)
        ],
    )
    issued: set[str] = set()
    identities = tuple(
        _person(
            db,
            n=n,
            token=token,
            channel=keys[n % len(keys)],
            now=now,
            rng=rng,
            protector=protector,
            settings=settings,
            issued=issued,
        )
        for n in range(size.identities)
    )
    return World(
        hospital_code=hospital_code, size=size, identities=identities, raw_channel_id=keys[0][0]
    )


def push_release(db: Session, *, world: World, now: datetime, release_at: datetime) -> Release:
    """Set the hospital's release time to ``release_at`` (in the future) and push the
    sessions that release then: the day ``days_ahead`` after it."""
    if release_at <= now:
        raise ValueError("the release instant must lie ahead of the push")
    hospital = hospitals.get_hospital(db, code=world.hospital_code)
    local = release_at.astimezone(ZoneInfo(hospital.timezone))
    release_change.update_release_policy(
        db, hospital=hospital, now=now, push_time=time(0, 0), release_time=local.time()
    )
    day = local.date() + timedelta(days=hospital.days_ahead)
    specs = [
        SessionSpec(
            his_session_id=f"{code}-{day:%Y%m%d}",
            department=dept,
            doctor=code,
            session_date=day,
            period=Period.MORNING,
            local_start=time(8, 0),
            local_end=time(12, 0),
            fee=Decimal("100.00") if dept != ORDINARY else Decimal("20.00"),
            capacity=capacity,
        )
        for dept, code, capacity in _doctor_codes(world.size)
    ]
    report = schedules.import_schedule(
        db,
        doc=ScheduleDocument(hospital=hospital.code, sessions=tuple(specs)),
        now=now,
        ctx=RequestContext(actor=f"hospital:{hospital.code}"),
    )
    if report.rejected:  # the plan is ours: a rejection is a bug in it
        raise RuntimeError(f"bench sessions rejected: {report.sessions}")
    sessions = schedules_repo.sessions_by_his_ids(
        db, hospital_id=hospital.id, his_session_ids=[s.his_session_id for s in specs]
    )
    by_department: dict[str, list[int]] = {}
    for spec in specs:
        by_department.setdefault(spec.department, []).append(sessions[spec.his_session_id].id)

    def slots(dept: str) -> tuple[str, ...]:
        return tuple(
            slot.id
            for session_id in by_department.get(dept, [])
            for slot in slots_of_session(db, session_id)
        )

    scarce = by_department[SCARCE]
    return Release(
        release_at=release_at,
        session_date=day,
        department_id=sessions[specs[0].his_session_id].department_id,
        scarce_session_ids=tuple(scarce),
        all_session_ids=tuple(s.id for s in sessions.values()),
        raw_slot_ids=slots(RAW),
        ample_session_ids=tuple(by_department.get(AMPLE, ())),
        ample_slot_ids=tuple(
            tuple(slot.id for slot in slots_of_session(db, session_id))
            for session_id in by_department.get(AMPLE, [])
        ),
        anchor_slot_ids=tuple(slots(code) for code in world.size.anchor_departments),
    )


def _doctor_codes(size: WorldSize) -> list[tuple[str, str, int]]:
    """(department, doctor code, slots) of every doctor, one session each; scarce first."""
    scarce = size.slots_per_session
    return (
        [(SCARCE, f"{SCARCE}-{n}", scarce) for n in range(1, size.scarce_sessions + 1)]
        + [
            (ORDINARY, f"{ORDINARY}-{n}", size.ordinary_capacity)
            for n in range(1, size.ordinary_sessions + 1)
        ]
        + [(RAW, f"{RAW}-{n}", scarce) for n in range(1, size.scarce_sessions + 1)]
        # two at least: the holds by slot take the even sessions, by session the odd
        + _plenty(AMPLE, size.ample_slots, sessions_at_least=2)
        + [
            spec
            for n, code in enumerate(size.anchor_departments)
            for spec in _plenty(code, size.anchor_share(n))
        ]
    )


def _plenty(dept: str, slots: int, *, sessions_at_least: int = 1) -> list[tuple[str, str, int]]:
    """Sessions of ``dept`` with ``slots`` slots in all, as few as the capacity limit
    allows but at least ``sessions_at_least``, filled evenly."""
    if slots <= 0:
        return []
    sessions = max(sessions_at_least, -(-slots // SESSION_CAPACITY))
    per = -(-slots // sessions)
    return [
        (dept, f"{dept}-{n + 1}", min(per, slots - n * per))
        for n in range(sessions)
        if slots - n * per > 0
    ]


def _person(
    db: Session,
    *,
    n: int,
    token: str,
    channel: tuple[int, str],
    now: datetime,
    rng: random.Random,
    protector: Protector,
    settings: Settings,
    issued: set[str],
) -> Identity:
    """An adult with a phone of their own, an account on ``channel`` and that account
    bound to them; their own device and network (the rate limits count each)."""
    channel_id, channel_key = channel
    phone = f"139{(int(token, 16) * 7919 + n) % 10**8:08d}"
    while True:
        id_number = make_resident_id(
            rng=rng,
            sex=rng.choice((Sex.FEMALE, Sex.MALE)),
            birth_date=date(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365)),
            region=rng.choice(REGION_CODES),
        )
        if id_number not in issued:
            issued.add(id_number)
            break
    account = patients.register_account(
        db,
        phone=phone,
        channel_id=channel_id,
        external_ref=f"bench-{token}-{n}",
        now=now,
        protector=protector,
        max_per_phone=settings.max_accounts_per_phone,
    )
    patient = patients.bind_patient(
        db,
        account=account,
        name=person_name(rng),
        id_number=id_number,
        phone=phone,
        now=now,
        protector=protector,
        max_bound=settings.max_patients_per_account,
    )
    return Identity(
        account_id=account.id,
        patient_id=patient.id,
        channel_key=channel_key,
        device_id=f"bench-{token}-device-{n}",
        ip=f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}",
    )
