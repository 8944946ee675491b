"""What the patient pages must show the moment the demo starts, whatever the time of day:
a draw whose intent window is open now, a session that is full with patients waiting (候补),
and a release batch about to open. Through the real services, as the hospitals' systems,
their administrators and other families would have made them; run after the past's replay
(``demo/past.py``), whose households chose from what they were shown. Only flushes.

- **An open draw.** Intents for a draw open at the push (00:00 China time) and the draw runs
  at the release (00:30), so a demo started at 15:00 would have no draw to enter. The
  example hospital therefore opens its draw windows a day early (``intent_lead_minutes``,
  the hospital's own setting, ``allocation/service.py::draw_window``): day+8's draw, run at
  tomorrow's 00:30, takes intents all of today. Its drawn department gets a day+8 session
  if its doctors' week gave it none (a Sunday).
- **A full session with a waitlist.** A small released session of an everyone-may-book
  department in the next three days is booked and paid slot by slot by other families
  (WeChat accounts, one patient each), and two more patients join its waitlist.
- **A release batch about to open.** The example hospital asks for a release
  batch in Dermatology (``allocation/modes.py::override``, as its administrator would):
  its next release (00:30) is a batch, shown on the pages with its opening countdown; a
  hold in the batch's window enters it (:func:`open_release_batch`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from fairslot.allocation import modes
from fairslot.allocation.states import AllocationMode
from fairslot.availability import service as availability
from fairslot.availability import upcoming
from fairslot.bookings import service as bookings
from fairslot.bookings.errors import SlotUnavailable
from fairslot.bookings.policy import booking_policy
from fairslot.channels import repository as channels_repo
from fairslot.channels.models import Channel
from fairslot.config import Settings
from fairslot.context import RequestContext, edge_context
from fairslot.crypto import Protector
from fairslot.demo import catalog
from fairslot.demo.supply import DAYS_RELEASED
from fairslot.errors import DomainError
from fairslot.hospitals import repository as hospitals_repo
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import Hospital
from fairslot.patients import service as patients
from fairslot.patients.identity import Sex
from fairslot.patients.idgen import REGION_CODES, make_resident_id
from fairslot.schedules import service as schedules
from fairslot.schedules.formats import ScheduleDocument, SessionSpec
from fairslot.schedules.states import Period
from fairslot.schedules.views import local_today
from fairslot.waitlist import service as waitlist

# Day+8's draw (pushed at tomorrow's 00:00, drawn at 00:30) opens 25 hours before its push:
# from 23:00 yesterday, so it is open whenever today the demo starts.
DRAW_LEAD_MINUTES = 25 * 60
DRAW_DEPARTMENT = "OPH"  # Ophthalmology: drawn in the catalog
BATCH_DEPARTMENT = "DER"  # Dermatology: first-come in the catalog, anyone may book
OPEN_DEPARTMENTS = ("NEU", "GAS")  # no sex or age limit: anyone may wait for them
WAITING = 2
MAX_FILL = 40  # a session bigger than this is not worth filling for a demo


@dataclass
class PagesDemo:
    """What :func:`seed_pages` made (filled in after the past's replay)."""

    draw_session_id: int | None = None  # a draw session whose intent window is open now
    draw_department: str = ""
    draw_closes_at: datetime | None = None  # the release: the draw runs then
    full_session_id: int | None = None  # a full session with patients waiting
    full_department: str = ""
    waiting: int = 0
    release_batch_session_id: int | None = None  # a session opening in a release batch
    release_batch_department: str = ""
    release_batch_opens_at: datetime | None = None


def seed_pages(
    db: Session,
    *,
    pages: PagesDemo,
    hospital: Hospital,
    staff: Sequence[catalog.PlannedDoctor],
    now: datetime,
    rng: random.Random,
    protector: Protector,
    settings: Settings,
) -> None:
    """Run after the past's replay (whose households chose from what they were shown: a
    session filled before it would change their past). Fills ``pages`` in."""
    today = local_today(hospital, now)
    pages.draw_session_id, pages.draw_closes_at = _open_draw(
        db, hospital=hospital, staff=staff, today=today, now=now
    )
    pages.draw_department = _department_name(db, hospital, DRAW_DEPARTMENT)
    wechat = channels_repo.by_code(db, "wechat")
    if wechat is not None:
        pages.full_session_id, pages.full_department, pages.waiting = _full_session(
            db,
            hospital=hospital,
            channel=wechat,
            today=today,
            now=now,
            rng=rng,
            protector=protector,
            settings=settings,
        )
    open_release_batch(db, pages=pages, hospital=hospital, now=now)


def _department_name(db: Session, hospital: Hospital, code: str) -> str:
    found = hospitals_repo.department_by_code(db, hospital_id=hospital.id, code=code)
    return found.name if found else code


# -- the open draw -----------------------------------------------------------------------


def _open_draw(
    db: Session,
    *,
    hospital: Hospital,
    staff: Sequence[catalog.PlannedDoctor],
    today: date,
    now: datetime,
) -> tuple[int | None, datetime | None]:
    """Open the hospital's draw windows a day early; returns day+8's drawn session (pushed
    now if the doctors' week gave the department none that day) and its release."""
    # The hospital's own setting, changed as its administrator would.
    hospitals.set_intent_lead(db, hospital=hospital, minutes=DRAW_LEAD_MINUTES)
    day = today + timedelta(days=DAYS_RELEASED)
    department_id = _department_id(db, hospital, DRAW_DEPARTMENT)
    if department_id is None:
        return None, None
    coming = [
        u
        for u in upcoming.upcoming(
            db, department_id=department_id, date_from=day, date_to=day, now=now
        )
    ]
    if not coming:
        doctor = next(d for d in staff if d.department.code == DRAW_DEPARTMENT)
        _push_draw_session(db, hospital=hospital, doctor=doctor, day=day, now=now)
        coming = upcoming.upcoming(
            db, department_id=department_id, date_from=day, date_to=day, now=now
        )
    if not coming:
        return None, None
    first = min(coming, key=lambda u: (u.opens_at, u.session_id))
    return first.session_id, first.opens_at


def _department_id(db: Session, hospital: Hospital, code: str) -> int | None:
    found = hospitals_repo.department_by_code(db, hospital_id=hospital.id, code=code)
    return found.id if found else None


def _push_draw_session(
    db: Session, *, hospital: Hospital, doctor: catalog.PlannedDoctor, day: date, now: datetime
) -> None:
    """The drawn department's first doctor sits on day+8's morning too (one more push)."""
    start, end = catalog.PERIODS[Period.MORNING]
    spec = SessionSpec(
        his_session_id=f"{doctor.code}-{day:%Y%m%d}-am-pages",
        department=DRAW_DEPARTMENT,
        doctor=doctor.code,
        session_date=day,
        period=Period.MORNING,
        local_start=start,
        local_end=end,
        fee=Decimal(catalog.FEES[doctor.title]),
        capacity=4,
    )
    report = schedules.import_schedule(
        db,
        doc=ScheduleDocument(hospital=hospital.code, sessions=(spec,)),
        now=now,
        ctx=RequestContext(actor=f"hospital:{hospital.code}"),
        as_hospital=hospital,
    )
    if report.rejected:
        raise RuntimeError(f"the demo's draw session was rejected: {report.sessions}")


# -- the full session with its waitlist --------------------------------------------------


def _full_session(
    db: Session,
    *,
    hospital: Hospital,
    channel: Channel,
    today: date,
    now: datetime,
    rng: random.Random,
    protector: Protector,
    settings: Settings,
) -> tuple[int | None, str, int]:
    """Book every slot of a small session soon, then put patients on its waitlist."""
    candidates = []
    for code in OPEN_DEPARTMENTS:
        department_id = _department_id(db, hospital, code)
        if department_id is None:
            continue
        candidates += [
            s
            for s in availability.availability(
                db,
                department_id=department_id,
                date_from=today + timedelta(days=1),
                date_to=today + timedelta(days=3),
                title=None,
                now=now,
                channel_id=channel.id,
            )
            if s.free > 0 and s.capacity <= MAX_FILL
        ]
    if not candidates:
        return None, "", 0
    chosen = min(candidates, key=lambda s: (s.free, s.starts_at, s.session_id))
    session_id = chosen.session_id
    people = _People(db, channel=channel, today=today, now=now, rng=rng, protector=protector)
    rules = booking_policy(settings)
    while True:
        try:
            slot_id = bookings.first_free_slot(
                db, session_id=session_id, now=now, channel_id=channel.id
            )
        except SlotUnavailable:
            break
        account_id, patient_id, ctx = people.next(settings)
        held = bookings.hold(
            db,
            account_id=account_id,
            patient_id=patient_id,
            slot_id=slot_id,
            now=now,
            ctx=ctx,
            policy=rules,
            rng=rng,
        )
        bookings.confirm(
            db,
            booking_id=held.id,
            account_id=account_id,
            payment_account=f"wxpay-demo-{account_id}",
            payment_reference=f"WX-DEMO-FULL-{account_id}",
            now=now,
            ctx=ctx,
            protector=protector,
        )
    waiting = 0
    for _ in range(WAITING):
        account_id, patient_id, ctx = people.next(settings)
        try:
            waitlist.join(
                db,
                account_id=account_id,
                patient_id=patient_id,
                session_id=session_id,
                payment_account=f"wxpay-demo-{account_id}",
                payment_reference=f"WX-DEMO-WAIT-{account_id}",
                now=now,
                ctx=ctx,
                policy=rules,
                rng=rng,
                protector=protector,
            )
        except DomainError:
            continue  # e.g. a window-reserved slot still free: the session is not full
        waiting += 1
    return session_id, chosen.department_name, waiting


class _People:
    """Other families, one WeChat account and one adult patient each."""

    def __init__(
        self,
        db: Session,
        *,
        channel: Channel,
        today: date,
        now: datetime,
        rng: random.Random,
        protector: Protector,
    ) -> None:
        self.db, self.channel, self.today, self.now = db, channel, today, now
        self.rng, self.protector = rng, protector
        self.count = 0

    def next(self, settings: Settings) -> tuple[int, int, RequestContext]:
        self.count += 1
        n, rng = self.count, self.rng
        phone = f"13{rng.randint(5, 9)}{rng.randrange(10**8):08d}"
        account = patients.register_account(
            self.db,
            phone=phone,
            channel_id=self.channel.id,
            external_ref=f"demo-pages-{n}",
            now=self.now,
            protector=self.protector,
            max_per_phone=settings.max_accounts_per_phone,
        )
        sex = rng.choice([Sex.MALE, Sex.FEMALE])
        born = date(self.today.year - rng.randint(20, 70), 1, 1) + timedelta(
            days=rng.randrange(365)
        )
        patient = patients.bind_patient(
            self.db,
            account=account,
            name=catalog.person_name(rng),
            id_number=make_resident_id(
                rng=rng, sex=sex, birth_date=born, region=rng.choice(REGION_CODES[:5])
            ),
            phone=phone,
            relation="self",
            now=self.now,
            protector=self.protector,
            max_bound=settings.max_patients_per_account,
        )
        ctx = edge_context(
            protector=self.protector,
            actor="patient",
            channel_id=self.channel.id,
            account_id=account.id,
            device_id=f"demo-pages-phone-{n}",
            ip=f"198.51.100.{n % 250 + 1}",
            user_agent="MicroMessenger/8.0 (demo)",
        )
        return account.id, patient.id, ctx


# -- the release batch ---------------------------------------------------------------------


def open_release_batch(db: Session, *, pages: PagesDemo, hospital: Hospital, now: datetime) -> None:
    """The hospital switches a department to release batches; ``pages`` learns the first
    session that will open in one."""
    department = hospitals_repo.department_by_code(
        db, hospital_id=hospital.id, code=BATCH_DEPARTMENT
    )
    if department is None:
        return
    modes.override(
        db,
        department_id=department.id,
        hospital_id=hospital.id,
        mode=AllocationMode.RELEASE_BATCH,
        actor=f"hospital:{hospital.code}",
        now=now,
    )
    coming = upcoming.upcoming(
        db,
        department_id=department.id,
        date_from=now.date() - timedelta(days=1),
        date_to=now.date() + timedelta(days=DAYS_RELEASED + 2),
        now=now,
    )
    pages.release_batch_department = department.name
    if coming:
        first = min(coming, key=lambda u: (u.opens_at, u.session_id))
        pages.release_batch_session_id = first.session_id
        pages.release_batch_opens_at = first.opens_at
