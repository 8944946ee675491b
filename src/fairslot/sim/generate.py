"""Draws a release-day scenario from its parameters and a seed. Pure: no I/O.

The same parameters and seed give the same hospitals, sessions, people, devices and
plans: every random choice comes from one generator seeded with the seed alone.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta

from fairslot.patients.identity import Sex
from fairslot.patients.idgen import REGION_CODES, make_resident_id
from fairslot.sim.scenario import (
    EXPERT_CLINICS,
    EXPERT_TITLE,
    ORDINARY_CLINICS,
    AccountSpec,
    Broker,
    Deal,
    DepartmentSpec,
    Device,
    DoctorSpec,
    GrabProgram,
    Household,
    Klass,
    Person,
    Scenario,
    ScenarioParams,
    SessionSpec,
    WaveWorker,
    Wish,
)

FAMILY_RELATIONS = ("self", "spouse", "child", "parent")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国文辉"


def build_scenario(params: ScenarioParams, *, seed: int) -> Scenario:
    """The scenario ``params`` describe, drawn from ``seed`` alone."""
    if not 1 <= params.scarce_departments <= len(EXPERT_CLINICS):
        raise ValueError(f"scarce_departments must be 1..{len(EXPERT_CLINICS)}")
    rng = random.Random(f"fairslot-sim:{seed}")
    people = _People(rng)
    departments, doctors, sessions = _supply(params, people)
    experts = [d.code for d in departments if d.scarce]
    ordinary = [(d.hospital, d.code) for d in departments if not d.scarce]
    households = tuple(
        _household(i, params, people, experts=experts, ordinary=ordinary)
        for i in range(params.genuine_households)
    )
    programs = tuple(_grab_program(i, params, people, experts) for i in range(params.grab_programs))
    programs += tuple(
        _rotation(i, params, people, experts) for i in range(params.rotation_operators)
    )
    programs += tuple(_proxy(i, params, people, experts) for i in range(params.proxy_operators))
    programs += tuple(_radar(i, params, people, experts) for i in range(params.radar_programs))
    organisers = tuple(people.payment("org") for _ in range(max(1, params.wave_payment_accounts)))
    wave = tuple(
        WaveWorker(
            key=f"w{i:03d}",
            account=people.account(f"w{i:03d}", [people.person(f"w{i:03d}", Klass.HUMAN_WAVE)]),
            device=people.device("phone"),
            payment_account=organisers[i % len(organisers)],
            department=experts[i % len(experts)],
            react_s=rng.uniform(1.0, 4.0),
        )
        for i in range(params.wave_workers)
    )
    brokers = tuple(_broker(i, params, people, experts) for i in range(params.brokers))
    return Scenario(
        params=params,
        seed=seed,
        departments=departments,
        doctors=doctors,
        sessions=sessions,
        persons=dict(people.persons),
        households=households,
        grab_programs=programs,
        wave=wave,
        brokers=brokers,
    )


def day_two(scenario: Scenario) -> Scenario:
    """The people of the next release day: the same identities and wishes; the scalpers
    rotate some identifiers, as they do once something of theirs is blocked.

    Grab software (and the radar, and the 代挂 operator) comes back with fresh phone numbers
    for its accounts, fresh devices, proxies and payment accounts; the identity-rotation
    operator with fresh identities, phones and devices but its old payment account and home
    network; a broker with a fresh device and payment account; the wave's organisers pay
    from fresh payment accounts (each hired person keeps their own phone). Genuine patients
    change nothing.
    """
    rng = random.Random(f"fairslot-sim:{scenario.seed}:day2")
    people = _People(rng)
    people.avoid(scenario.persons.values())
    programs = tuple(
        _rotated(program, people)
        if program.tactic == Klass.ROTATION
        else replace(
            program,
            accounts=tuple(replace(a, phone=people.phone()) for a in program.accounts),
            devices=tuple(people.device("bot") for _ in program.devices),
            proxies=tuple(people.ip() for _ in program.proxies),
            payment_accounts=tuple(people.payment("bot") for _ in program.payment_accounts),
        )
        for program in scenario.grab_programs
    )
    organisers = {w.payment_account: people.payment("org") for w in scenario.wave}
    wave = tuple(replace(w, payment_account=organisers[w.payment_account]) for w in scenario.wave)
    brokers = tuple(
        replace(b, device=people.device("pc"), payment_account=people.payment("brk"))
        for b in scenario.brokers
    )
    return replace(
        scenario,
        grab_programs=programs,
        wave=wave,
        brokers=brokers,
        persons=dict(scenario.persons) | people.persons,
    )


def _rotated(program: GrabProgram, people: _People) -> GrabProgram:
    """Identity rotation's day 2: new people on new phones and devices; the payment
    account and the home network (Wi-Fi and address) are the ones of day 1."""
    home = program.devices[0]
    old = [p for account in program.accounts for p in account.persons]
    fresh = [
        people.person(f"{p}-r", Klass.ROTATION, relation="self" if n % 2 == 0 else "relative")
        for n, p in enumerate(old)
    ]
    accounts = tuple(
        people.account(f"{a.key}-r", fresh[n * 2 : n * 2 + 2])
        for n, a in enumerate(program.accounts)
    )
    devices = tuple(
        replace(people.device("phone"), ip=home.ip, wifi_id=home.wifi_id) for _ in program.devices
    )
    return replace(
        program,
        accounts=accounts,
        devices=devices,
        targets={new.key: program.targets[p] for p, new in zip(old, fresh, strict=True)},
    )


def _supply(
    params: ScenarioParams, people: _People
) -> tuple[tuple[DepartmentSpec, ...], tuple[DoctorSpec, ...], tuple[SessionSpec, ...]]:
    departments = [
        DepartmentSpec(0, code, name, specialty, scarce=True)
        for code, name, specialty in EXPERT_CLINICS[: params.scarce_departments]
    ] + [
        DepartmentSpec(h, code, name, spec, scarce=False)
        for h, code, name, spec in ORDINARY_CLINICS
    ]
    doctors: list[DoctorSpec] = []
    sessions: list[SessionSpec] = []
    for dep in departments:
        titles = [EXPERT_TITLE] * params.scarce_doctors if dep.scarce else ["chief", "attending"]
        for n, title in enumerate(titles, start=1):
            doctor = DoctorSpec(dep.hospital, f"{dep.code}{n:02d}", people.name(), title, dep.code)
            doctors.append(doctor)
            periods = [("am", "08:00", "12:00")]
            if not dep.scarce:
                periods.append(("pm", "14:00", "17:00"))
            for period, start, end in periods:
                sessions.append(
                    SessionSpec(
                        hospital=dep.hospital,
                        department=dep.code,
                        doctor=doctor.code,
                        period=period,
                        start=start,
                        end=end,
                        fee="100.00" if dep.scarce else "20.00",
                        capacity=params.scarce_capacity if dep.scarce else params.ordinary_capacity,
                        scarce=dep.scarce,
                    )
                )
    return tuple(departments), tuple(doctors), tuple(sessions)


def _household(
    index: int,
    params: ScenarioParams,
    people: _People,
    *,
    experts: list[str],
    ordinary: list[tuple[int, str]],
) -> Household:
    rng = people.rng
    key = f"h{index:03d}"
    size = rng.randint(2, 4) if rng.random() < params.family_share else 1
    members = [
        people.person(f"{key}-{m}", Klass.GENUINE, relation=FAMILY_RELATIONS[m])
        for m in range(size)
    ]
    # A family shares the phone of whoever holds the account.
    members = [replace(p, phone=members[0].phone) for p in members]
    for member in members:
        people.persons[member.key] = member
    account = people.account(key, members)
    day = params.day_minutes * 60
    wishes: list[Wish] = []
    for member in members:
        scarce = rng.random() < params.scarce_wish_share
        if scarce:
            early = rng.random() < params.early_share
            arrive = rng.uniform(-28 * 60, -60) if early else rng.uniform(60, 0.5 * day)
            hospital, department, title = 0, rng.choice(experts), EXPERT_TITLE
        else:
            arrive = rng.uniform(-10 * 60, 0.6 * day)
            (hospital, department), title = rng.choice(ordinary), None
        wishes.append(
            Wish(
                person=member.key,
                scarce=scarce,
                hospital=hospital,
                department=department,
                title=title,
                arrive_s=round(arrive, 1),
                cancel_after_s=(
                    round(rng.uniform(10 * 60, 60 * 60), 1)
                    if rng.random() < params.cancel_share
                    else None
                ),
                shows_up=rng.random() >= params.no_show_share,
                accepts_alternative=rng.random() < params.accept_alternative_share,
            )
        )
    wishes.sort(key=lambda w: w.arrive_s)
    return Household(
        key=key,
        account=account,
        device=people.device("phone", home=True),
        payment_account=people.payment("pay"),
        wishes=tuple(wishes),
    )


def _grab_program(
    index: int, params: ScenarioParams, people: _People, experts: list[str]
) -> GrabProgram:
    key = f"g{index}"
    persons = [
        people.person(
            f"{key}-{n:03d}", Klass.GRAB_BOT, relation="self" if n % 4 == 0 else "relative"
        )
        for n in range(params.identities_per_program)
    ]
    # Four identities per account, each account on a fresh phone number (rotation).
    accounts = tuple(
        people.account(f"{key}-a{a:02d}", persons[a * 4 : a * 4 + 4])
        for a in range((len(persons) + 3) // 4)
    )
    return GrabProgram(
        key=key,
        accounts=accounts,
        devices=tuple(people.device("bot") for _ in range(params.devices_per_program)),
        proxies=tuple(people.ip() for _ in range(params.proxies_per_program)),
        payment_accounts=tuple(people.payment("bot") for _ in range(len(accounts))),
        targets={p.key: experts[n % len(experts)] for n, p in enumerate(persons)},
    )


def _rotation(
    index: int, params: ScenarioParams, people: _People, experts: list[str]
) -> GrabProgram:
    """An identity-rotation operator: two identities per account, a phone per account, all
    on one home Wi-Fi and address, all paid from one payment account."""
    key = f"r{index}"
    persons = [
        people.person(
            f"{key}-{n:03d}", Klass.ROTATION, relation="self" if n % 2 == 0 else "relative"
        )
        for n in range(params.identities_per_rotation)
    ]
    accounts = tuple(
        people.account(f"{key}-a{a:02d}", persons[a * 2 : a * 2 + 2])
        for a in range((len(persons) + 1) // 2)
    )
    home = people.device("phone", home=True)
    devices = tuple(
        replace(people.device("phone"), ip=home.ip, wifi_id=home.wifi_id) for _ in accounts
    )
    payment = people.payment("rot")
    return GrabProgram(
        key=key,
        accounts=accounts,
        devices=devices,
        proxies=(home.ip,),
        payment_accounts=tuple(payment for _ in accounts),
        targets={p.key: experts[n % len(experts)] for n, p in enumerate(persons)},
        tactic=Klass.ROTATION,
    )


def _proxy(index: int, params: ScenarioParams, people: _People, experts: list[str]) -> GrabProgram:
    """A 代挂 operator: each buyer's own account (the buyer's phone) and payment account,
    all driven from the operator's two PCs on one office network."""
    key = f"p{index}"
    persons = [
        people.person(f"{key}-{n:03d}", Klass.PROXY_BOOKED) for n in range(params.buyers_per_proxy)
    ]
    office = people.device("pc", home=True)
    return GrabProgram(
        key=key,
        accounts=tuple(people.account(f"{key}-a{n:02d}", [p]) for n, p in enumerate(persons)),
        devices=tuple(
            replace(people.device("pc"), ip=office.ip, wifi_id=office.wifi_id) for _ in range(2)
        ),
        proxies=(office.ip,),
        payment_accounts=tuple(people.payment("pay") for _ in persons),
        targets={p.key: experts[n % len(experts)] for n, p in enumerate(persons)},
        tactic=Klass.PROXY_BOOKED,
    )


def _radar(index: int, params: ScenarioParams, people: _People, experts: list[str]) -> GrabProgram:
    """A slot radar: one account, two devices on one address, polling all day."""
    key = f"s{index}"
    persons = [
        people.person(f"{key}-{n:03d}", Klass.RADAR, relation="self" if n == 0 else "relative")
        for n in range(params.identities_per_radar)
    ]
    accounts = tuple(
        people.account(f"{key}-a{a:02d}", persons[a * 4 : a * 4 + 4])
        for a in range((len(persons) + 3) // 4)
    )
    address = people.ip()
    return GrabProgram(
        key=key,
        accounts=accounts,
        devices=tuple(replace(people.device("bot"), ip=address) for _ in range(2)),
        proxies=(address,),
        payment_accounts=tuple(people.payment("bot") for _ in accounts),
        targets={p.key: experts[n % len(experts)] for n, p in enumerate(persons)},
        tactic=Klass.RADAR,
        radar_only=True,
    )


def _broker(index: int, params: ScenarioParams, people: _People, experts: list[str]) -> Broker:
    key = f"b{index}"
    rng = people.rng
    deals = []
    accounts = []
    for n in range(params.deals_per_broker):
        throwaway = people.person(f"{key}-t{n}", Klass.BROKER)
        buyer = people.person(f"{key}-c{n}", Klass.BUYER, relation="other")
        accounts.append(people.account(f"{key}-a{n}", [throwaway, buyer]))
        deals.append(
            Deal(
                throwaway=throwaway.key,
                buyer=buyer.key,
                department=experts[(index + n) % len(experts)],
                sell_after_s=round(rng.uniform(10 * 60, 40 * 60), 1),
            )
        )
    return Broker(
        key=key,
        accounts=tuple(accounts),
        device=people.device("pc"),
        payment_account=people.payment("brk"),
        deals=tuple(deals),
    )


class _People:
    """Draws unique names, ID numbers, phones, devices and addresses from one generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.persons: dict[str, Person] = {}
        self._ids: set[str] = set()
        self._phones: set[str] = set()
        self._serial = 0

    def avoid(self, persons: Iterable[Person]) -> None:
        """Never draw these people's ID numbers or phones again."""
        for person in persons:
            self._ids.add(person.id_number)
            self._phones.add(person.phone)

    def name(self) -> str:
        return self.rng.choice(_SURNAMES) + "".join(
            self.rng.choice(_GIVEN) for _ in range(self.rng.randint(1, 2))
        )

    def person(self, key: str, klass: Klass, *, relation: str = "self") -> Person:
        sex = self.rng.choice((Sex.FEMALE, Sex.MALE))
        while True:
            birth = date(1950, 1, 1) + timedelta(days=self.rng.randrange(365 * 65))
            number = make_resident_id(
                rng=self.rng, sex=sex, birth_date=birth, region=self.rng.choice(REGION_CODES)
            )
            if number not in self._ids:
                self._ids.add(number)
                break
        person = Person(key, klass, self.name(), number, self.phone(), relation)
        self.persons[key] = person
        return person

    def phone(self) -> str:
        while True:
            phone = f"13{self.rng.randint(5, 9)}{self.rng.randrange(10**8):08d}"
            if phone not in self._phones:
                self._phones.add(phone)
                return phone

    def account(self, key: str, members: list[Person]) -> AccountSpec:
        if not 1 <= len(members) <= 4:
            raise ValueError("an account books for one to four patients")
        channel = self.rng.choice(("wechat", "alipay"))
        return AccountSpec(key, members[0].phone, channel, tuple(m.key for m in members))

    def ip(self) -> str:
        return ".".join(
            str(part)
            for part in (
                self.rng.choice((36, 58, 101, 112, 183)),
                *self.rng.sample(range(1, 255), 3),
            )
        )

    def device(self, kind: str, *, home: bool = False) -> Device:
        self._serial += 1
        tag = f"{self.rng.getrandbits(40):010x}"
        agents = {
            "phone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4) MicroMessenger/8.0",
            "pc": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0",
            "bot": "okhttp/4.12.0",
        }
        return Device(
            device_id=f"{kind}-{tag}",
            ip=self.ip(),
            wifi_id=f"wifi-{tag[:6]}" if home else None,
            user_agent=agents[kind],
        )

    def payment(self, prefix: str) -> str:
        return f"{prefix}-{self.rng.getrandbits(48):012x}"
