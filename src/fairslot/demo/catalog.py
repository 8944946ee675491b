"""Realistic demo data: four hospitals of different grades in one city, a dozen
departments (some restricted by sex or age), doctors of mixed titles with their weekly
clinics, the booking channels, a few people and one member of staff per role. Pure: data,
and plans drawn from a seeded random generator; ``seed.py`` stores them through the
services."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from fairslot.channels.models import ChannelKind
from fairslot.hospitals.kinds import DoctorTitle, SexRestriction
from fairslot.patients.identity import Sex
from fairslot.schedules.formats import SessionSpec
from fairslot.schedules.states import Period
from fairslot.staff.roles import Role


@dataclass(frozen=True)
class DemoHospital:
    code: str
    name: str
    grade: str
    city: str


@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name: str
    specialty: str
    sex: SexRestriction = SexRestriction.ANY
    min_age: int | None = None
    max_age: int | None = None
    scarce: bool = False  # expert clinics whose slots go in seconds
    drawn: bool = False  # allocated by a release draw instead of first-come


HOSPITALS = [
    DemoHospital("PUH1", "协和教学医院 Peking Union Teaching Hospital", "三级甲等", "北京"),
    DemoHospital("BJCH", "北京市中心医院 Beijing Central Hospital", "三级甲等", "北京"),
    DemoHospital("CYDH", "朝阳区医院 Chaoyang District Hospital", "二级甲等", "北京"),
    DemoHospital(
        "HDCH", "海淀社区卫生服务中心 Haidian Community Health Centre", "一级甲等", "北京"
    ),
]

DEPARTMENTS = [
    DemoDepartment("GYN", "妇科 Gynaecology", "gynecology", SexRestriction.FEMALE, scarce=True),
    DemoDepartment("OBS", "产科 Obstetrics", "obstetrics", SexRestriction.FEMALE, min_age=14),
    DemoDepartment("AND", "男科 Andrology", "andrology", SexRestriction.MALE),
    DemoDepartment("PED", "儿科 Paediatrics", "pediatrics", max_age=14, scarce=True),
    DemoDepartment("CAR", "心内科 Cardiology", "cardiology", scarce=True),
    DemoDepartment("NEU", "神经内科 Neurology", "neurology"),
    DemoDepartment("GAS", "消化内科 Gastroenterology", "gastroenterology"),
    DemoDepartment("DER", "皮肤科 Dermatology", "dermatology"),
    DemoDepartment("OPH", "眼科 Ophthalmology", "ophthalmology", scarce=True, drawn=True),
    DemoDepartment("ORT", "骨科 Orthopaedics", "orthopedics"),
    DemoDepartment("ENT", "耳鼻喉科 Otolaryngology", "otolaryngology"),
    DemoDepartment("STO", "口腔科 Stomatology", "stomatology", scarce=True, drawn=True),
    DemoDepartment("GEN", "全科 General Medicine", "general"),
]

# Which departments each hospital runs (the community centre is small).
HOSPITAL_DEPARTMENTS = {
    "PUH1": [d.code for d in DEPARTMENTS],
    "BJCH": ["GYN", "OBS", "AND", "PED", "CAR", "NEU", "GAS", "OPH", "ORT", "STO", "GEN"],
    "CYDH": ["GYN", "PED", "CAR", "DER", "ORT", "ENT", "GEN"],
    "HDCH": ["GEN", "PED", "DER"],
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红梅志文斌"

TITLE_MIX = [
    DoctorTitle.CHIEF,
    DoctorTitle.ASSOCIATE_CHIEF,
    DoctorTitle.ATTENDING,
    DoctorTitle.ATTENDING,
    DoctorTitle.RESIDENT,
]

FEES = {
    DoctorTitle.CHIEF: "100.00",
    DoctorTitle.ASSOCIATE_CHIEF: "60.00",
    DoctorTitle.ATTENDING: "50.00",
    DoctorTitle.RESIDENT: "50.00",
}


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


# Doctors per department by hospital grade; a tertiary hospital's scarce (expert)
# departments have one more.
DOCTORS_PER_DEPARTMENT = {"三级甲等": 3, "二级甲等": 2, "一级甲等": 1}
# The titles a hospital of each grade employs besides the head of a tertiary department
# (a chief physician, or an associate chief in a department that is not scarce); a
# community centre has no chief physicians.
GRADE_TITLES = {
    "三级甲等": TITLE_MIX[1:],
    "二级甲等": [
        DoctorTitle.ASSOCIATE_CHIEF,
        DoctorTitle.ATTENDING,
        DoctorTitle.ATTENDING,
        DoctorTitle.RESIDENT,
    ],
    "一级甲等": [DoctorTitle.ATTENDING, DoctorTitle.RESIDENT],
}
# Half-days a week a doctor holds a clinic: experts are rare, residents see most patients.
HALF_DAYS_PER_WEEK = {
    DoctorTitle.CHIEF: 2,
    DoctorTitle.ASSOCIATE_CHIEF: 3,
    DoctorTitle.ATTENDING: 4,
    DoctorTitle.RESIDENT: 5,
}
# Slots per morning session (an afternoon is shorter and has a little fewer).
CAPACITY = {
    DoctorTitle.CHIEF: (10, 15),
    DoctorTitle.ASSOCIATE_CHIEF: (15, 20),
    DoctorTitle.ATTENDING: (20, 25),
    DoctorTitle.RESIDENT: (24, 30),
}
SCARCE_CHIEF_CAPACITY = (8, 10)
# Departments that also hold a Sunday clinic.
SUNDAY_DEPARTMENTS = frozenset({"PED", "GEN"})


@dataclass(frozen=True)
class DemoChannel:
    code: str
    name: str
    kind: ChannelKind
    reserved_share: Decimal = Decimal(0)
    reserve_return_minutes: int = 120


CHANNELS = [
    DemoChannel("hospital_app", "医院App Hospital app", ChannelKind.HOSPITAL_APP),
    DemoChannel("wechat", "微信小程序 WeChat mini-program", ChannelKind.WECHAT),
    DemoChannel("alipay", "支付宝小程序 Alipay mini-program", ChannelKind.ALIPAY),
    DemoChannel("third_party", "第三方平台 Third-party app", ChannelKind.THIRD_PARTY),
    DemoChannel("phone", "114 电话预约 Phone line", ChannelKind.PHONE),
    # The window keeps a fifth of every session for people who come in person (the
    # elderly, those without a smartphone); unused, it returns to the pool 2 h before.
    DemoChannel("window", "挂号窗口 Registration window", ChannelKind.WINDOW, Decimal("0.2"), 120),
]


@dataclass(frozen=True)
class DemoPerson:
    key: str  # how the seed and its accounts refer to the person
    sex: Sex
    age: int
    household: str  # people of one household share one phone number


@dataclass(frozen=True)
class DemoAccount:
    key: str
    channel: str  # the channel the account was opened through
    household: str  # whose phone the account is registered with
    bindings: tuple[tuple[str, str], ...]  # (person key, relation), "self" first


# A family of three sharing one phone (the mother also has her own Alipay account on it:
# two accounts per phone is the limit), an elderly woman who books by phone and a young
# man who uses the hospital's app.
PEOPLE = [
    DemoPerson("father", Sex.MALE, 38, "family"),
    DemoPerson("mother", Sex.FEMALE, 36, "family"),
    DemoPerson("child", Sex.MALE, 6, "family"),
    DemoPerson("grandmother", Sex.FEMALE, 72, "grandmother"),
    DemoPerson("young_man", Sex.MALE, 27, "young_man"),
]
ACCOUNTS = [
    DemoAccount(
        "family",
        "wechat",
        "family",
        (("father", "self"), ("mother", "spouse"), ("child", "child")),
    ),
    DemoAccount("mother", "alipay", "family", (("mother", "self"),)),
    DemoAccount("grandmother", "phone", "grandmother", (("grandmother", "self"),)),
    DemoAccount("young_man", "hospital_app", "young_man", (("young_man", "self"),)),
]


@dataclass(frozen=True)
class DemoStaff:
    username: str
    name: str
    role: Role
    duty: str  # printed next to the account, so a visitor knows whom to log in as


# One member of staff per role: the medical-affairs office reviews cases, IT keeps the
# blacklist and the staff accounts, customer service calls back, a scheduler looks after
# the hospitals' schedules, an auditor reads the audit log and the reports.
STAFF = [
    DemoStaff("reviewer", "王审（医务处 medical affairs）", Role.REVIEWER, "reviews cases"),
    DemoStaff("it_admin", "赵信（信息科 IT）", Role.IT_ADMIN, "blacklist, staff accounts"),
    DemoStaff("service", "孙服（客服 customer service）", Role.CUSTOMER_SERVICE, "follow-up calls"),
    DemoStaff("scheduler", "周排（门诊部 outpatient office）", Role.SCHEDULER, "schedules"),
    DemoStaff("auditor", "郑审计（审计科 audit）", Role.AUDITOR, "audit log, reports"),
]


# --- the plan: who works when (pure, drawn from the seeded generator) ----------------

PERIODS = {
    Period.MORNING: (time(8, 0), time(12, 0)),
    Period.AFTERNOON: (time(13, 30), time(17, 0)),
}
AFTERNOON_CAPACITY = 0.85  # three and a half hours instead of four


@dataclass(frozen=True)
class PlannedDoctor:
    code: str
    name: str
    department: DemoDepartment
    title: DoctorTitle
    week: frozenset[tuple[int, Period]]  # (weekday, period) of the doctor's clinics
    capacity: int  # slots of a morning session


def departments_of(demo: DemoHospital) -> list[DemoDepartment]:
    codes = HOSPITAL_DEPARTMENTS[demo.code]
    return [d for d in DEPARTMENTS if d.code in codes]


def plan_doctors(
    demo: DemoHospital, *, department: DemoDepartment, rng: random.Random
) -> list[PlannedDoctor]:
    """A department's doctors with their titles and weekly clinics. Pure."""
    tertiary = demo.grade.startswith("三级")
    count = DOCTORS_PER_DEPARTMENT[demo.grade] + (1 if tertiary and department.scarce else 0)
    titles = [rng.choice(GRADE_TITLES[demo.grade]) for _ in range(count)]
    if tertiary:
        # A tertiary department is led by an expert; a scarce one by a chief physician.
        titles[0] = (
            DoctorTitle.CHIEF
            if department.scarce
            else rng.choice([DoctorTitle.CHIEF, DoctorTitle.ASSOCIATE_CHIEF])
        )
    weekdays = range(7) if department.code in SUNDAY_DEPARTMENTS else range(6)
    half_days = [(day, period) for day in weekdays for period in PERIODS]
    doctors = []
    for n, title in enumerate(titles, 1):
        low, high = (
            SCARCE_CHIEF_CAPACITY
            if department.scarce and title == DoctorTitle.CHIEF
            else CAPACITY[title]
        )
        week = rng.sample(half_days, HALF_DAYS_PER_WEEK[title])
        doctors.append(
            PlannedDoctor(
                code=f"{department.code}-{n:02d}",
                name=person_name(rng),
                department=department,
                title=title,
                week=frozenset(week),
                capacity=rng.randint(low, high),
            )
        )
    return doctors


def plan_sessions(staff: Sequence[PlannedDoctor], *, days: Iterable[date]) -> list[SessionSpec]:
    """The sessions the doctors' weekly clinics give on ``days``. Pure."""
    specs = []
    for day in days:
        for doctor in staff:
            for period, (start, end) in PERIODS.items():
                if (day.weekday(), period) not in doctor.week:
                    continue
                capacity = doctor.capacity
                if period == Period.AFTERNOON:
                    capacity = max(1, round(capacity * AFTERNOON_CAPACITY))
                specs.append(
                    SessionSpec(
                        his_session_id=f"{doctor.code}-{day:%Y%m%d}-{period.value}",
                        department=doctor.department.code,
                        doctor=doctor.code,
                        session_date=day,
                        period=period,
                        local_start=start,
                        local_end=end,
                        fee=Decimal(FEES[doctor.title]),
                        capacity=capacity,
                    )
                )
    return specs
