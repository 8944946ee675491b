"""The benchmark's people: households of genuine patients (some sharing one phone), their
accounts and bindings, and how often each books in the week. Pure apart from the rows it
hands to a :class:`~fairslot.bench.riskweek.data.Sink`."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Final

from fairslot.bench.riskweek.data import (
    DEPARTMENTS,
    NAMES,
    WINDOW_CHANNEL,
    Fmt,
    Shape,
    Sink,
    Supply,
    local_epoch,
    weighted,
)
from fairslot.crypto import Protector, mask_account
from fairslot.patients.identity import Sex, mask_name
from fairslot.patients.idgen import REGION_CODES, make_resident_id


@dataclass(slots=True)
class AccountInfo:
    id: int
    channel: int
    device: str | None
    ip: str
    wifi: str | None
    card_hash: str
    card_masked: str


@dataclass(slots=True)
class PersonInfo:
    id: int
    key: str
    sex: str
    age: int
    account: AccountInfo
    phone_hash: str
    homes: tuple[int, ...]  # department ids this person consults
    family: int  # household id; 0 for a planted identity

    @property
    def account_id(self) -> int:
        return self.account.id


@dataclass
class People:
    persons: list[PersonInfo] = field(default_factory=list)
    accounts: list[AccountInfo] = field(default_factory=list)
    # households whose members share one phone (and a home network): must not be flagged
    shared_phone_families: list[list[PersonInfo]] = field(default_factory=list)
    bindings: int = 0
    issued: set[str] = field(default_factory=set)


class Population:
    """Writes people and accounts (and, when told their times, bindings); hands out ids and
    hashed identifiers."""

    def __init__(
        self, shape: Shape, *, sink: Sink, fmt: Fmt, rng: random.Random, protector: Protector
    ) -> None:
        self.shape, self.sink, self.fmt, self.rng, self.protector = shape, sink, fmt, rng, protector
        self.people = People()
        self.created_at = local_epoch(shape.first_day - timedelta(days=60), time(10))
        self.created = fmt.ts(self.created_at)
        self._phones = 0
        self._cards = 0
        self._positions: dict[str, int] = {}

    def hash(self, value: str, purpose: str) -> str:
        return self.protector.keyed_hash(value, purpose=purpose)

    def phone(self) -> tuple[str, str]:
        self._phones += 1
        e164 = f"+8613{self._phones:09d}"
        return e164, self.hash(e164, "phone")

    def account(
        self,
        *,
        phone: tuple[str, str],
        channel: int | None = None,
        device: str | None = None,
        ip: str | None = None,
        wifi: str | None = None,
        created: float | None = None,
    ) -> AccountInfo:
        """A new account on ``phone``, registered at ``created`` (default: long before the
        window, with everyone else)."""
        rng = self.rng
        e164, phone_hash = phone
        position = self._positions.get(phone_hash, 0) + 1
        self._positions[phone_hash] = position
        self._cards += 1
        card = f"6222{self._cards:012d}"
        account_id = len(self.people.accounts) + 1
        channel = channel or rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5, 6))
        account = AccountInfo(
            id=account_id,
            channel=channel,
            device=None
            if channel == WINDOW_CHANNEL
            else device or f"dev-{rng.getrandbits(48):012x}",
            ip=ip or f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            wifi=wifi,
            card_hash=self.hash(card, "payment_account"),
            card_masked=mask_account(card),
        )
        self.people.accounts.append(account)
        self.sink.row(
            "accounts",
            (str(account_id), phone_hash, self.protector.encrypt(e164), str(position),
             str(channel), None, "0", self.created if created is None else self.fmt.ts(created)),
        )  # fmt: skip
        return account

    def person(
        self,
        *,
        account: AccountInfo,
        phone: tuple[str, str],
        sex: str | None = None,
        age: int | None = None,
        homes: tuple[int, ...] = (),
        family: int = 0,
        supply: Supply | None = None,
    ) -> PersonInfo:
        rng = self.rng
        sex = sex or rng.choice(("female", "male"))
        age = rng.randrange(18, 90) if age is None else age
        birth = self.shape.report_day.replace(year=self.shape.report_day.year - age) - timedelta(
            days=rng.randrange(1, 360)
        )
        while True:
            number = make_resident_id(
                rng=rng, sex=Sex(sex), birth_date=birth, region=rng.choice(REGION_CODES)
            )
            if number not in self.people.issued:
                self.people.issued.add(number)
                break
        person = PersonInfo(
            id=len(self.people.persons) + 1,
            key=self.hash(number, "resident_id"),
            sex=sex,
            age=age,
            account=account,
            phone_hash=phone[1],
            homes=homes or (self.home_departments(supply, sex=sex, age=age) if supply else ()),
            family=family,
        )
        self.people.persons.append(person)
        name = rng.choice(NAMES)
        self.sink.row(
            "patients",
            (str(person.id), self.protector.encrypt(name), mask_name(name), person.key,
             self.protector.encrypt(number),
             number[-4:], sex, birth.isoformat(), phone[1], self.protector.encrypt(phone[0]),
             None, "0", self.created),
        )  # fmt: skip
        return person

    def bind(self, person: PersonInfo, *, at: float) -> None:
        """The person's binding to their account, made at ``at``. Written once the week is
        simulated (``requests.RequestLog.bind_everyone``): whether a household bound
        its patients in the window depends on when it first books."""
        self.people.bindings += 1
        self.sink.row(
            "bindings",
            (str(self.people.bindings), str(person.account.id), str(person.id), "self",
             self.fmt.ts(at)),
        )  # fmt: skip

    def home_departments(self, supply: Supply, *, sex: str, age: int) -> tuple[int, ...]:
        """One to three departments of one hospital this person consults, fit for them."""
        rng = self.rng
        hospital = rng.randrange(1, self.shape.hospitals + 1)
        fits = [
            d
            for d in supply.departments[
                (hospital - 1) * len(DEPARTMENTS) : hospital * len(DEPARTMENTS)
            ]
            if d.sex in ("any", sex) and (d.max_age is None) == (age > 14)
        ]
        weights = list(_cumulative([d.popularity for d in fits]))
        count = rng.choices((1, 2, 3), weights=(50, 35, 15))[0]
        return tuple(sorted({weighted(rng, fits, weights).id for _ in range(count)}))


def _cumulative(values: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for value in values:
        total += value
        out.append(total)
    return out


def build_households(population: Population, supply: Supply) -> None:
    """The genuine patients: households of one to four, most on one account; one in five
    families shares one phone between two accounts and every member (the pattern the
    rings must not flag), at one home network."""
    rng = population.rng
    household = 0
    while len(population.people.persons) < population.shape.patients:
        household += 1
        size = rng.choices((1, 2, 3, 4), weights=(60, 20, 12, 8))[0]
        home_ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        wifi = f"wifi-{rng.getrandbits(40):010x}" if rng.random() < 0.4 else None
        phone = population.phone()
        if size > 1 and rng.random() < 0.2:
            accounts = [
                population.account(phone=phone, ip=home_ip, wifi=wifi or f"wifi-{household}")
                for _ in range(2)
            ]
            members = []
            for i in range(size):
                members.append(
                    population.person(
                        account=accounts[i % 2],
                        phone=phone,
                        age=rng.randrange(3, 14) if i >= 2 else None,
                        family=household,
                        supply=supply,
                    )
                )
            population.people.shared_phone_families.append(members)
            continue
        account = population.account(phone=phone, ip=home_ip, wifi=wifi)
        for i in range(size):
            own = phone if i == 0 or rng.random() < 0.5 else population.phone()
            population.person(
                account=account,
                phone=own,
                age=rng.randrange(1, 14) if i >= 2 else None,
                family=household,
                supply=supply,
            )


# Genuine patients' bookings in a week: most book once, a few up to five times (the
# platform's limits: one per department-day, two a day, five upcoming).
WEEKLY_BOOKINGS: Final = ((1, 70), (2, 22), (3, 6), (4, 2))


def genuine_picks(people: People, rng: random.Random, count: int) -> list[PersonInfo]:
    """``count`` bookers, each genuine patient as often as the week's draw says, shuffled."""
    genuine = [p for p in people.persons if p.family]
    sizes, weights = zip(*WEEKLY_BOOKINGS, strict=True)
    picks: list[PersonInfo] = []
    while len(picks) < count:
        for person in genuine:
            # A patient back in one clinic twice in a week is a follow-up; more visits than
            # that go to the other clinics they attend.
            drawn = rng.choices(sizes, weights=weights)[0]
            picks.extend([person] * min(drawn, len(person.homes) + 1))
            if len(picks) >= count:
                break
    rng.shuffle(picks)
    return picks[:count]


def department_demand(people: People) -> dict[int, float]:
    """How the people's visits spread over departments (each person's over their clinics)."""
    demand: dict[int, float] = {}
    for person in people.persons:
        for home in person.homes:
            demand[home] = demand.get(home, 0.0) + 1 / len(person.homes)
    return demand
