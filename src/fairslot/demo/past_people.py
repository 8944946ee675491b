"""The people of the demo's past: households that joined the platform in the last two
weeks, each with one account on its channel, its own phone, device, network and payment
account, and one to three real-name patients. Pure: drawn from a seeded generator.

Nothing is shared between households (a household shares one phone, one device and one
network, as families do), so the daily batch sees each household on its own: no ring, no
shared device or card. The numbers stay clear of the other demo people's: the family's
135–139 numbers, the scalper's 139, the cancelling patient's 158/159 and the phone
number IT blocked.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, TypeVar

from fairslot.demo import catalog
from fairslot.hospitals.kinds import SexRestriction
from fairslot.patients.identity import Sex, age_on
from fairslot.patients.idgen import REGION_CODES, make_resident_id

# How the households reach the platform (the window and the phone line serve the elderly).
CHANNEL_MIX: Final = (
    ("wechat", 12),
    ("alipay", 8),
    ("hospital_app", 7),
    ("third_party", 3),
    ("phone", 2),
)
# Who lives together: (relation of each member to the account holder, "self" first).
SHAPES: Final = (
    (("self",), 10),
    (("self", "spouse"), 7),
    (("self", "child"), 8),
    (("self", "spouse", "child"), 5),
    (("self", "parent"), 3),
)
HOUSEHOLDS: Final = 33
T = TypeVar("T")
_PREFIXES: Final = ("133", "150", "151", "152", "176", "177", "186", "187", "188")
_PAYMENT: Final = {"wechat": "wxpay", "alipay": "alipay"}
_AGENTS: Final = {
    "wechat": "MicroMessenger/8.0.50",
    "alipay": "AlipayClient/10.6.0",
    "hospital_app": "PUH-App/3.2 (Android 14)",
    "third_party": "HealthHub/5.1 (iOS 17)",
    "phone": "114-IVR/2.0",
    "window": "Window-Terminal/1.4",
}


@dataclass(frozen=True)
class Person:
    key: str  # "h07-2": household and member
    name: str
    id_number: str
    sex: Sex
    birth_date: date
    relation: str

    def may_see(self, department: catalog.DemoDepartment, day: date) -> bool:
        """The department's sex and age rule, as the booking rules read it."""
        if department.sex is SexRestriction.FEMALE and self.sex is not Sex.FEMALE:
            return False
        if department.sex is SexRestriction.MALE and self.sex is not Sex.MALE:
            return False
        age = age_on(self.birth_date, day)
        if department.min_age is not None and age < department.min_age:
            return False
        return department.max_age is None or age <= department.max_age


@dataclass(frozen=True)
class Household:
    key: str  # "h07"
    channel: str  # the channel its account was opened through
    phone: str
    device: str
    ip: str
    payment: str  # the payment account it pays with
    user_agent: str
    people: tuple[Person, ...]


def households(rng: random.Random, *, today: date, count: int = HOUSEHOLDS) -> list[Household]:
    channels = _deck(rng, CHANNEL_MIX, count)
    shapes = _deck(rng, SHAPES, count)
    phones: set[str] = set()
    found = []
    for n, (channel, shape) in enumerate(zip(channels, shapes, strict=True)):
        key = f"h{n + 1:02d}"
        phone = _phone(rng, phones)
        found.append(
            Household(
                key=key,
                channel=channel,
                phone=phone,
                device=f"{channel.replace('_', '-')}-{rng.getrandbits(32):08x}",
                ip=f"100.{64 + n}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                payment=f"{_PAYMENT.get(channel, 'unionpay')}-{rng.getrandbits(40):010x}",
                user_agent=_AGENTS[channel],
                people=_members(rng, key=key, shape=shape, today=today),
            )
        )
    return found


def walk_in(
    rng: random.Random,
    *,
    key: str,
    today: date,
    device: str,
    ip: str,
    department: catalog.DemoDepartment | None = None,
) -> Household:
    """An elderly person who books at the registration window (the desk's terminal and
    network, the person's own phone and account), for themself or, for a children's
    clinic, for a grandchild."""
    sex = {SexRestriction.FEMALE: Sex.FEMALE, SexRestriction.MALE: Sex.MALE}.get(
        department.sex if department else SexRestriction.ANY, rng.choice((Sex.MALE, Sex.FEMALE))
    )
    young = department is not None and department.max_age is not None
    return Household(
        key=key,
        channel="window",
        phone=_phone(rng, set()),
        device=device,
        ip=ip,
        payment=f"cash-{key}",
        user_agent=_AGENTS["window"],
        people=_members(
            rng,
            key=key,
            shape=("self", "relative") if young else ("self",),
            today=today,
            elderly=True,
            sex=sex,
        ),
    )


def _deck(rng: random.Random, mix: tuple[tuple[T, int], ...], count: int) -> list[T]:
    """``count`` items in the mix's proportions, shuffled (not drawn: the mix holds)."""
    total = sum(weight for _, weight in mix)
    deck = [item for item, weight in mix for _ in range(round(weight * count / total))]
    while len(deck) < count:
        deck.append(mix[0][0])
    deck = deck[:count]
    rng.shuffle(deck)
    return deck


def _phone(rng: random.Random, taken: set[str]) -> str:
    while True:
        phone = f"{rng.choice(_PREFIXES)}{rng.randrange(10**8):08d}"
        if phone not in taken:
            taken.add(phone)
            return phone


def _members(
    rng: random.Random,
    *,
    key: str,
    shape: tuple[str, ...],
    today: date,
    elderly: bool = False,
    sex: Sex | None = None,
) -> tuple[Person, ...]:
    head_sex = sex or rng.choice((Sex.MALE, Sex.FEMALE))
    head_age = rng.randint(66, 82) if elderly else rng.randint(24, 58)
    people = []
    for n, relation in enumerate(shape, 1):
        if relation == "self":
            sex, age = head_sex, head_age
        elif relation == "spouse":
            sex = Sex.FEMALE if head_sex is Sex.MALE else Sex.MALE
            age = max(22, head_age + rng.randint(-4, 4))
        elif relation in ("child", "relative"):  # a relative: a grandchild in their care
            sex, age = rng.choice((Sex.MALE, Sex.FEMALE)), rng.randint(2, 11)
        else:  # a parent the household looks after
            sex, age = rng.choice((Sex.MALE, Sex.FEMALE)), head_age + rng.randint(24, 30)
        # Ages are far from every department's limit (a child is at most 12, an adult at
        # least 22), so a birthday during these weeks changes nothing.
        birth = today - timedelta(days=365 * age + rng.randrange(365))
        people.append(
            Person(
                key=f"{key}-{n}",
                name=catalog.person_name(rng),
                id_number=make_resident_id(
                    rng=rng, sex=sex, birth_date=birth, region=rng.choice(REGION_CODES[:5])
                ),
                sex=sex,
                birth_date=birth,
                relation=relation,
            )
        )
    return tuple(people)
