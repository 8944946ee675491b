"""The scalpers planted in the benchmark's week, and what the batch should say about them.

Each pattern is planted ``max(1, bookings // 100 000)`` times (ten times in a million):
one card paying for many identities in one department, cancel-and-rebook transfers inside
one account, rings of identities sharing devices and a card, a man booking gynaecology, one
identity spread over many departments, a serial canceller, and grab software that lost
every race (it booked nothing: only the gate's request records link its identities).
Families sharing a phone are part of the genuine population
(``people.build_households``) and must stay unflagged.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import NamedTuple

from fairslot.bench.riskweek.data import (
    DepartmentInfo,
    Shape,
    Supply,
    local_epoch,
)
from fairslot.bench.riskweek.people import AccountInfo, PersonInfo, Population
from fairslot.bench.riskweek.requests import RequestLog
from fairslot.bench.riskweek.simulation import Request, Simulation
from fairslot.gate.velocity import Reason


@dataclass
class Planted:
    """One planted scalper: the alerts (rule, entity kind, stored key) that catch it, or,
    for a ring, its patients (caught when a ring alert holds most of them); and every
    entity it used, so that alerts on them are not counted against the genuine patients."""

    pattern: str
    expected: list[tuple[str, str, str]] = field(default_factory=list)
    ring_patients: set[str] = field(default_factory=set)
    bookings: int = 0
    entities: set[tuple[str, str]] = field(default_factory=set)

    def uses(
        self, person: PersonInfo, population: Population, *, device: str | None = None
    ) -> None:
        account = person.account
        self.entities |= {
            ("patient", person.key),
            ("account", f"account:{account.id}"),
            ("phone", person.phone_hash),
            ("payment_account", account.card_hash),
            ("network", population.hash(account.ip, "network")),
        }
        for used in {device, account.device} - {None}:
            self.entities.add(("device", population.hash(str(used), "device")))


class _Site(NamedTuple):
    """Where a pattern is planted: the week, its people, one hospital's departments."""

    sim: Simulation
    population: Population
    shape: Shape
    departments: list[DepartmentInfo]
    rng: random.Random


def plant_all(
    sim: Simulation, population: Population, supply: Supply, shape: Shape, rng: random.Random
) -> list[Planted]:
    planted: list[Planted] = []
    for i in range(_instances(shape)):
        hospital = 1 + i % shape.hospitals
        departments = [d for d in supply.departments if d.hospital == hospital]
        site = _Site(sim, population, shape, departments, rng)
        planted += [planter(site, i) for planter in _PLANTERS]
    return planted


def _instances(shape: Shape) -> int:
    return max(1, shape.bookings // 100_000)


def _plant(sim: Simulation, plan: Planted, population: Population, request: Request) -> None:
    """Plant one request and note what it uses (a transfer's buyer books too)."""
    for person in (request.person, request.buyer):
        if person is not None:
            plan.uses(person, population, device=request.device)
            plan.bookings += 1
    if request.payer is not None:
        plan.entities.add(("payment_account", request.payer[0]))
    if request.ip is not None:
        plan.entities.add(("network", population.hash(request.ip, "network")))
    sim.plant(request)


def _rush(shape: Shape, day: date, rng: random.Random) -> float:
    """Seconds after a release: 00:30 local plus a scripted instant."""
    return local_epoch(day, time(0, 30)) + rng.uniform(0.2, 3.0)


def _day(shape: Shape, index: int) -> date:
    return shape.first_day + timedelta(days=index % shape.days)


def _identity(
    population: Population, *, tag: str, account: AccountInfo | None = None, sex: str = "female"
) -> PersonInfo:
    """A throw-away identity with its own phone (and account, unless one is given)."""
    phone = population.phone()
    if account is None:
        account = population.account(phone=phone, channel=4, device=f"{tag}-dev")
    return population.person(account=account, phone=phone, sex=sex, age=30)


def _card(population: Population, *, series: int, i: int) -> tuple[str, str]:
    """The ``i``-th card of a planted pattern's series: (keyed hash, masked number)."""
    card = f"6229{series * 100_000_000_000 + i:012d}"
    return population.hash(card, "payment_account"), card[:2] + "****" + card[-4:]


def _open_to_a_woman(departments: list[DepartmentInfo]) -> list[DepartmentInfo]:
    """Departments an adult woman may book (no sex or age limit against her)."""
    return [d for d in departments if d.sex in ("any", "female") and d.max_age is None]


def _popular(departments: list[DepartmentInfo], *, draw: bool = True) -> DepartmentInfo:
    return next(d for d in departments if d.draw == draw and d.sex == "any" and d.max_age is None)


def _shared_card(site: _Site, i: int) -> Planted:
    sim, population, shape, departments, rng = site
    payer = _card(population, series=9, i=i)
    target = _popular(departments)
    plan = Planted(
        "shared card, one department",
        [("same_payment_same_department", "payment_account", payer[0])],
    )
    for n in range(7):
        person = _identity(population, tag=f"card{i}-{n}")
        day = _day(shape, n)
        _plant(
            sim,
            plan,
            population,
            Request(
                at=_rush(shape, day, rng),
                person=person,
                department=target.id,
                day=day + timedelta(days=7),
                fate="book",
                payer=payer,
            ),
        )
    return plan


def _transfers(site: _Site, i: int) -> Planted:
    sim, population, shape, departments, rng = site
    phone = population.phone()
    account = population.account(phone=phone, channel=4, device=f"broker{i}-dev")
    identities = [population.person(account=account, phone=phone, sex="female", age=35)]
    identities += [
        population.person(account=account, phone=population.phone(), age=40) for _ in range(3)
    ]
    payer = _card(population, series=8, i=i)
    target = _popular(departments)
    plan = Planted(
        "transfer (cancel and rebook)",
        [("transfer", "account", f"account:{account.id}")],
    )
    for n in range(3):
        day = _day(shape, n * 2)
        at = _rush(shape, day, rng)
        seller, buyer = identities[n], identities[(n + 1) % len(identities)]
        _plant(
            sim,
            plan,
            population,
            Request(
                at=at,
                person=seller,
                department=target.id,
                day=day + timedelta(days=7),
                fate="transfer",
                cancel_at=at + rng.uniform(3600, 20 * 3600),
                buyer=buyer,
                payer=payer,
                device=account.device,
            ),
        )
    return plan


def _ring(site: _Site, i: int) -> Planted:
    sim, population, shape, departments, rng = site
    devices = [f"farm{i}-a", f"farm{i}-b"]
    payer = _card(population, series=7, i=i)
    ip = f"198.51.{i // 250}.{i % 250 + 1}"
    targets = [d for d in departments if d.draw] or departments[:2]
    plan = Planted("ring (devices and a card)")
    for a in range(6):
        phone = population.phone()
        account = population.account(phone=phone, channel=5, device=devices[a % 2], ip=ip)
        for _ in range(2 + a % 2):
            person = population.person(account=account, phone=population.phone(), age=28)
            plan.ring_patients.add(person.key)
            for n in range(3):
                day = _day(shape, rng.randrange(shape.days))
                at = _rush(shape, day, rng)
                cancel = rng.random() < 0.35
                _plant(
                    sim,
                    plan,
                    population,
                    Request(
                        at=at,
                        person=person,
                        department=targets[n % len(targets)].id,
                        day=day + timedelta(days=7),
                        fate="cancel" if cancel else "book",
                        cancel_at=at + rng.uniform(3600, 12 * 3600) if cancel else None,
                        payer=payer,
                        device=devices[a % 2],
                        ip=ip,
                    ),
                )
    return plan


def _sex_mismatch(site: _Site, i: int) -> Planted:
    sim, population, shape, departments, rng = site
    man = _identity(population, tag=f"gyn{i}", sex="male")
    ward = next(d for d in departments if d.sex == "female")
    plan = Planted("man booking gynaecology", [("sex_mismatch", "patient", man.key)])
    for n in range(2):
        day = _day(shape, 1 + n * 2)
        _plant(
            sim,
            plan,
            population,
            Request(
                at=local_epoch(day, time(10)) + rng.uniform(0, 3600),
                person=man,
                department=ward.id,
                day=day + timedelta(days=3),
                fate="book",
            ),
        )
    return plan


def _spread(site: _Site, i: int) -> Planted:
    sim, population, shape, departments, rng = site
    person = _identity(population, tag=f"spread{i}")
    fits = _open_to_a_woman(departments)
    plan = Planted(
        "one identity, many departments", [("patient_across_departments", "patient", person.key)]
    )
    for n, department in enumerate(fits[:6]):
        day = _day(shape, n // 2)
        _plant(
            sim,
            plan,
            population,
            Request(
                at=local_epoch(day, time(9 + n)) + rng.uniform(0, 600),
                person=person,
                department=department.id,
                day=day + timedelta(days=4),
                fate="book",
            ),
        )
    return plan


def _serial_canceller(site: _Site, i: int) -> Planted:
    sim, population, shape, departments, rng = site
    person = _identity(population, tag=f"cancel{i}")
    fits = _open_to_a_woman(departments)
    plan = Planted("serial canceller", [("cancellations_without_visit", "patient", person.key)])
    for n in range(6):
        day = _day(shape, n)
        at = local_epoch(day, time(11)) + rng.uniform(0, 600)
        _plant(
            sim,
            plan,
            population,
            Request(
                at=at,
                person=person,
                department=fits[n % len(fits)].id,
                day=day + timedelta(days=5),
                fate="cancel",
                cancel_at=at + rng.uniform(1800, 6 * 3600),
            ),
        )
    return plan


_PLANTERS = (_shared_card, _transfers, _ring, _sex_mismatch, _spread, _serial_canceller)


def plant_grabbers(
    population: Population, supply: Supply, shape: Shape, rng: random.Random, log: RequestLog
) -> list[Planted]:
    """Grab software that lost every race, planted as often as the other patterns. It books
    nothing, so it is planted once the week is simulated (the bookings stay as they were)
    and only its request records (``log``) tie its identities together."""
    planted = []
    for i in range(_instances(shape)):
        hospital = 1 + i % shape.hospitals
        departments = [d for d in supply.departments if d.hospital == hospital]
        planted.append(_grab_software(population, supply, shape, departments, rng, log, i))
    return planted


def _grab_software(
    population: Population,
    supply: Supply,
    shape: Shape,
    departments: list[DepartmentInfo],
    rng: random.Random,
    log: RequestLog,
    i: int,
) -> Planted:
    """Ten identities on three accounts, registered by a script seconds before a release
    and bound seconds apart (the gate reviews the burst), then at every release of the
    week: two holds each, from the next of six emulated devices and twelve proxies, all
    refused (the account's first one flagged: too soon after registration); a draw intent
    each for the days after. The gate flags a few requests, no more, as it would."""
    devices = [f"emu{i}-{k}" for k in range(6)]
    proxies = [f"198.18.{i // 20}.{i % 20 * 12 + k + 1}" for k in range(12)]
    target = _popular(departments, draw=False)
    start = i % min(3, shape.days)  # a script at work for most of the week
    registered = local_epoch(_day(shape, start), time(0, 30)) - rng.uniform(6, 10)
    plan = Planted("grab software that lost")
    people: list[PersonInfo] = []
    for a in range(3):
        at = registered + a * 0.8
        account = population.account(
            phone=population.phone(), channel=4, device=devices[a], ip=proxies[a], created=at
        )
        log.bind_at(account, at=at + 0.5, spacing=(0.4, 1.2))
        for _ in range(4 if a < 2 else 2):
            person = population.person(account=account, phone=population.phone(), age=30)
            plan.uses(person, population)
            plan.ring_patients.add(person.key)
            people.append(person)
    plan.entities |= {("device", population.hash(d, "device")) for d in devices}
    plan.entities |= {("network", population.hash(ip, "network")) for ip in proxies}
    first_hold: set[int] = set()
    for d in range(start, shape.days):
        release = local_epoch(_day(shape, d), time(0, 30))
        if d > start:  # the draw's intents, before its release
            for n, person in enumerate(people):
                log.record(
                    release - 1800 + rng.uniform(1, 60),
                    "intent",
                    account=person.account,
                    patient_key=person.key,
                    device=devices[(n + d) % 6],
                    ip=proxies[(n * 5 + d) % 12],
                )
        wanted = supply.by_department_day.get((target.id, _day(shape, d) + timedelta(days=7)), [])
        for attempt in range(2):
            for n, person in enumerate(people):
                fast = person.account.id not in first_hold
                first_hold.add(person.account.id)
                session = supply.sessions[wanted[n % len(wanted)]] if wanted else None
                slot = session.slot_ids[0] if session is not None and attempt else None
                log.record(
                    release + rng.uniform(0.05, 0.4) + attempt * 0.6,
                    "hold",
                    account=person.account,
                    patient_key=person.key,
                    device=devices[(n + attempt + 2 * d) % 6],
                    ip=proxies[(n * 3 + attempt + 2 * d) % 12],
                    outcome="slot_taken" if slot else "session_full",
                    slot_id=slot,
                    decision="review" if fast else "allow",
                    reasons=Reason.FAST_FIRST_HOLD.value if fast else Reason.NO_BROWSE.value,
                )
    return plan
