"""A synthetic city week for the batch benchmark (``fairslot risk bench``): the supply and
the people. Pure apart from the rows it hands to a :class:`Sink`.

Rows are tuples of text (or None) in the column order of :data:`COLUMNS`, written straight
to PostgreSQL ``COPY`` or SQLite ``executemany`` by ``repository.py`` (beside this file,
in ``bench/riskweek/``); no ORM object is built. Everything is drawn from seeded generators,
so a size and a seed always give the same week. The people are made by ``people.py``; the
bookings, the ledger and the planted scalpers by ``simulation.py`` and ``scalpers.py``; the
gate's request records by ``requests.py``.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Protocol, TypeVar
from zoneinfo import ZoneInfo

ZONE: Final = ZoneInfo("Asia/Shanghai")
CHANNEL_KINDS: Final = ("hospital_app", "wechat", "alipay", "third_party", "phone", "window")
WINDOW_CHANNEL: Final = 6  # channel ids are 1..6 in CHANNEL_KINDS order


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "hospitals": _columns(
        "id code name grade city timezone days_ahead push_time release_time "
        "booking_close_minutes api_key_hash intent_lead_minutes"
    ),
    "departments": _columns(
        "id hospital_id code name specialty sex_restriction min_age max_age allocation_mode"
    ),
    "doctors": _columns("id hospital_id department_id code name title"),
    "channels": _columns(
        "id code name kind api_key_hash reserved_share reserve_return_minutes active created_at"
    ),
    "clinic_sessions": _columns(
        "id hospital_id his_session_id department_id doctor_id session_date period local_start "
        "local_end starts_at ends_at push_at release_at closes_at fee capacity status imported_at"
    ),
    "slots": _columns(
        "id session_id number starts_at ends_at state version hold_expires_at reopen_at "
        "release_logged reserved_channel_id reserved_until"
    ),
    "patients": _columns(
        "id name_encrypted name_masked id_hash id_encrypted id_last4 sex birth_date phone_hash "
        "phone_encrypted insurance_encrypted booking_guard created_at"
    ),
    "accounts": _columns(
        "id phone_hash phone_encrypted phone_position channel_id external_ref guard created_at"
    ),
    "bindings": _columns("id account_id patient_id relation created_at"),
    "bookings": _columns(
        "id slot_id session_id department_id session_date patient_id account_id channel_id "
        "status version held_at expires_at booked_at ended_at payment_account_hash "
        "payment_account_masked payment_reference device_key ip_key ip_label wifi_key user_agent"
    ),
    "slot_events": _columns(
        "id slot_id kind at recorded_at actor booking_id patient_key account_id channel_id "
        "device_key ip_key ip_label wifi_key payment_account_hash data"
    ),
    "request_records": _columns(
        "id at action outcome channel_id account_id patient_key booking_id slot_id device_key "
        "ip_key ip_label wifi_key payment_account_hash user_agent decision reasons"
    ),
}
# Foreign keys first.
LOAD_ORDER: Final = tuple(COLUMNS)

Row = tuple[str | None, ...]


class Sink(Protocol):
    def row(self, table: str, values: Row) -> None: ...


# (code, name, specialty, sex restriction, max age, draw mode, popularity)
DEPARTMENTS: Final = (
    ("INT", "内科", "internal", "any", None, False, 10),
    ("CAR", "心内科", "cardiology", "any", None, False, 7),
    ("GAS", "消化内科", "gastroenterology", "any", None, False, 6),
    ("RES", "呼吸内科", "respiratory", "any", None, False, 6),
    ("END", "内分泌科", "endocrinology", "any", None, False, 5),
    ("NEU", "神经内科", "neurology", "any", None, False, 5),
    ("SUR", "普外科", "general_surgery", "any", None, False, 5),
    ("ORT", "骨科", "orthopaedics", "any", None, False, 6),
    ("URO", "泌尿外科", "urology", "any", None, False, 3),
    ("DER", "皮肤科", "dermatology", "any", None, False, 5),
    ("ENT", "耳鼻喉科", "ent", "any", None, False, 4),
    ("OPH", "眼科", "ophthalmology", "any", None, True, 6),
    ("STO", "口腔科", "stomatology", "any", None, True, 6),
    ("ONC", "肿瘤科", "oncology", "any", None, False, 3),
    ("REH", "康复科", "rehabilitation", "any", None, False, 2),
    ("TCM", "中医科", "tcm", "any", None, False, 4),
    ("GYN", "妇科", "gynaecology", "female", None, False, 5),
    ("OBS", "产科", "obstetrics", "female", None, False, 4),
    ("AND", "男科", "andrology", "male", None, False, 2),
    ("PED", "儿科", "paediatrics", "any", 14, False, 8),
)
TITLES: Final = (
    ("chief", 20, "80.00"),
    ("associate_chief", 30, "50.00"),
    ("attending", 40, "25.00"),
)
NAMES: Final = ("王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周杰", "吴霞")
# Share of all bookings made in each local-day offset before the session (0 = same day);
# the last one is the release rush, seven days ahead, in the minutes after 00:30.
OFFSET_WEIGHTS: Final = (0.12, 0.16, 0.13, 0.11, 0.10, 0.09, 0.09, 0.20)


@dataclass(frozen=True)
class Fmt:
    """How a backend wants timestamps and flags as text (UTC, from epoch seconds)."""

    offset: str  # "+00" for PostgreSQL, "" for SQLite (naive UTC, as UTCDateTime stores it)
    true: str
    false: str
    _minutes: dict[int, str] = field(default_factory=dict, compare=False)

    @classmethod
    def postgres(cls) -> Fmt:
        return cls(offset="+00", true="t", false="f")

    @classmethod
    def sqlite(cls) -> Fmt:
        return cls(offset="", true="1", false="0")

    def ts(self, epoch: float) -> str:
        """Cached per minute: formatting millions of timestamps is the generator's hot spot."""
        minute = int(epoch // 60)
        head = self._minutes.get(minute)
        if head is None:
            head = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%d %H:%M:")
            self._minutes[minute] = head
        seconds = epoch - minute * 60
        return f"{head}{seconds:09.6f}{self.offset}"

    def flag(self, value: bool) -> str:
        return self.true if value else self.false


def local_epoch(day: date, at: time) -> float:
    return datetime.combine(day, at, tzinfo=ZONE).timestamp()


def guid(rng: random.Random) -> str:
    s = f"{rng.getrandbits(128):032x}"
    return f"{s[:8]}-{s[8:12]}-4{s[13:16]}-{'89ab'[int(s[16], 16) & 3]}{s[17:20]}-{s[20:]}"


T = TypeVar("T")


def weighted(rng: random.Random, items: Sequence[T], cumulative: Sequence[float]) -> T:
    return items[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


@dataclass(frozen=True)
class Shape:
    """The sizes that follow from the number of bookings and the window's days."""

    bookings: int
    days: int
    seed: int = 20261122
    report_day: date = date(2026, 11, 22)

    @property
    def hospitals(self) -> int:
        return max(1, round(self.bookings / 40_000))

    @property
    def patients(self) -> int:
        return max(50, self.bookings * 3 // 4)

    @property
    def first_day(self) -> date:
        return self.report_day - timedelta(days=self.days - 1)

    @property
    def session_days(self) -> list[date]:
        """Every date a booking made in the window can be for (up to seven days ahead)."""
        return [self.first_day + timedelta(days=i) for i in range(self.days + 7)]

    def demand_share(self, day: date) -> float:
        """Expected share of the window's bookings that are for sessions on ``day``."""
        index = (day - self.first_day).days
        return sum(
            OFFSET_WEIGHTS[index - b] / self.days
            for b in range(self.days)
            if 0 <= index - b < len(OFFSET_WEIGHTS)
        )

    @property
    def run_epoch(self) -> float:
        """When the batch runs: 01:00 local the day after the report day."""
        return local_epoch(self.report_day + timedelta(days=1), time(1, 0))


@dataclass(slots=True)
class SessionInfo:
    id: int
    hospital: int
    department: int
    day: date
    starts: float
    ends: float
    capacity: int
    slot_ids: list[str]
    taken: int = 0  # slots handed out for the first time
    returned: list[int] = field(default_factory=list)  # slot numbers back on sale
    final: dict[int, tuple[str, float | None]] = field(default_factory=dict)


@dataclass(slots=True)
class DepartmentInfo:
    id: int
    hospital: int
    specialty: str
    sex: str
    max_age: int | None
    draw: bool
    popularity: int


@dataclass
class Supply:
    departments: list[DepartmentInfo] = field(default_factory=list)
    sessions: dict[int, SessionInfo] = field(default_factory=dict)
    # (department id, date) -> its sessions
    by_department_day: dict[tuple[int, date], list[int]] = field(default_factory=dict)
    by_day: dict[date, list[int]] = field(default_factory=dict)


def build_supply(shape: Shape, *, sink: Sink, fmt: Fmt) -> Supply:
    """Channels, hospitals and their departments (sessions follow the people's demand)."""
    supply = Supply()
    created = fmt.ts(local_epoch(shape.first_day - timedelta(days=30), time(9)))
    for channel, kind in enumerate(CHANNEL_KINDS, start=1):
        reserved = "0.200" if kind == "window" else "0.000"
        key = hashlib.sha256(f"bench-channel-{channel}".encode()).hexdigest()
        sink.row(
            "channels",
            (str(channel), kind, kind, kind, key, reserved, "120", fmt.true, created),
        )
    for h in range(1, shape.hospitals + 1):
        sink.row(
            "hospitals",
            (str(h), f"B{h:03d}", f"第{h}人民医院", "三级甲等", "福州", "Asia/Shanghai", "7",
             "00:00:00", "00:30:00", "30", None, None),
        )  # fmt: skip
        for code, name, specialty, sex, max_age, draw, popularity in DEPARTMENTS:
            department = DepartmentInfo(
                id=len(supply.departments) + 1,
                hospital=h,
                specialty=specialty,
                sex=sex,
                max_age=max_age,
                draw=draw,
                popularity=popularity,
            )
            supply.departments.append(department)
            sink.row(
                "departments",
                (str(department.id), str(h), code, name, specialty, sex, None,
                 None if max_age is None else str(max_age), "draw" if draw else "first_come"),
            )  # fmt: skip
    return supply


def schedule(
    shape: Shape,
    *,
    supply: Supply,
    demand: Mapping[int, float],
    sink: Sink,
    fmt: Fmt,
    ledger: Ledger,
    rng: random.Random,
) -> None:
    """Doctors and sessions for 1.4 times each department's expected demand on each day
    (``demand``: department id -> weight; popular clinics still fill up, as they do), with
    every slot's ``pushed`` and
    ``released`` ledger rows first, so they precede its bookings by id."""
    total = sum(demand.values()) or 1.0
    peak = max(shape.demand_share(day) for day in shape.session_days)
    doctor_id = session_id = 0
    for department in supply.departments:
        share = demand.get(department.id, 0.0) / total
        doctors = []
        for d in range(max(2, math.ceil(1.4 * shape.bookings * peak * share / 60))):
            doctor_id += 1
            title, capacity, fee = TITLES[d % len(TITLES)]
            doctors.append((doctor_id, capacity, fee))
            sink.row(
                "doctors",
                (str(doctor_id), str(department.hospital), str(department.id),
                 f"DR{doctor_id:05d}", f"医生{doctor_id}", title),
            )  # fmt: skip
        for day in shape.session_days:
            wanted = 1.4 * shape.bookings * shape.demand_share(day) * share
            offered = 0
            for index in range(2 * len(doctors)):
                if offered >= wanted and index:
                    break
                doc, capacity, fee = doctors[index // 2]
                session_id += 1
                _session(supply, sink, fmt, ledger, rng, session_id, department, doc, day,
                         index % 2, capacity, fee)  # fmt: skip
                offered += capacity


def _session(
    supply: Supply,
    sink: Sink,
    fmt: Fmt,
    ledger: Ledger,
    rng: random.Random,
    session_id: int,
    department: DepartmentInfo,
    doctor: int,
    day: date,
    afternoon: int,
    capacity: int,
    fee: str,
) -> None:
    start, end = (time(14), time(17)) if afternoon else (time(8), time(12))
    starts, ends = local_epoch(day, start), local_epoch(day, end)
    release_day = day - timedelta(days=7)
    push_at, release_at = local_epoch(release_day, time(0)), local_epoch(release_day, time(0, 30))
    slot_ids = [guid(rng) for _ in range(capacity)]
    session = SessionInfo(
        id=session_id,
        hospital=department.hospital,
        department=department.id,
        day=day,
        starts=starts,
        ends=ends,
        capacity=capacity,
        slot_ids=slot_ids,
    )
    supply.sessions[session_id] = session
    supply.by_department_day.setdefault((department.id, day), []).append(session_id)
    supply.by_day.setdefault(day, []).append(session_id)
    sink.row(
        "clinic_sessions",
        (str(session_id), str(department.hospital), f"S{session_id:07d}", str(department.id),
         str(doctor), day.isoformat(), "pm" if afternoon else "am", start.isoformat(),
         end.isoformat(), fmt.ts(starts), fmt.ts(ends), fmt.ts(push_at), fmt.ts(release_at),
         fmt.ts(starts - 1800), fee, str(capacity), "active", fmt.ts(push_at)),
    )  # fmt: skip
    for number, slot_id in enumerate(slot_ids, start=1):
        for kind, at in (("pushed", push_at), ("released", release_at)):
            ledger.row(slot_id=slot_id, kind=kind, at=at, data=f'{{"number": {number}}}')


class Ledger:
    """Writes ``slot_events`` rows with ascending ids, the order a slot's history is read in."""

    def __init__(self, sink: Sink, fmt: Fmt) -> None:
        self.sink, self.fmt, self.last_id = sink, fmt, 0

    def row(
        self,
        *,
        slot_id: str,
        kind: str,
        at: float,
        actor: str = "system",
        booking_id: str | None = None,
        patient_key: str | None = None,
        account_id: int | None = None,
        channel_id: int | None = None,
        device: str | None = None,
        ip: str | None = None,
        wifi: str | None = None,
        payment: str | None = None,
        data: str = "{}",
    ) -> None:
        self.last_id += 1
        stamp = self.fmt.ts(at)
        self.sink.row(
            "slot_events",
            (str(self.last_id), slot_id, kind, stamp, stamp, actor, booking_id, patient_key,
             None if account_id is None else str(account_id),
             None if channel_id is None else str(channel_id), device, ip, wifi, payment, data),
        )  # fmt: skip


def write_slots(supply: Supply, *, sink: Sink, fmt: Fmt) -> None:
    """Every slot in the state its last booking left it (written after the bookings are
    simulated; loaded before them, as the foreign keys want)."""
    for session in supply.sessions.values():
        step = (session.ends - session.starts) / session.capacity
        for number, slot_id in enumerate(session.slot_ids, start=1):
            state, back_at = session.final.get(number, ("open", None))
            reopen = fmt.ts(back_at) if state == "cooling" and back_at is not None else None
            starts = session.starts + (number - 1) * step
            sink.row(
                "slots",
                (slot_id, str(session.id), str(number), fmt.ts(starts), fmt.ts(starts + step),
                 state, "1", None, reopen, fmt.true, None, None),
            )  # fmt: skip
