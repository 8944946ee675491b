"""A release day for the red-team simulator: what it is made of, frozen. Pure: no I/O.

``generate.build_scenario`` draws one from a seed. Times in a plan are offsets in
simulated seconds from the release instant (the hospitals' release time on the release
day); the runner anchors them to a date.

Two hospitals of the same grade in one city. The first runs a few scarce expert clinics
(chief physicians, demand many times supply) and ordinary clinics; the second runs
ordinary clinics of the same specialties, where a patient who missed an expert slot may
take an alternative.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta


class Klass(enum.StrEnum):
    """Who an identity really is (the simulator knows; the platform has to find out)."""

    GENUINE = "genuine"
    GRAB_BOT = "grab_bot"  # an identity prepared for grab software
    HUMAN_WAVE = "human_wave"  # a hired person booking on the organiser's behalf
    BROKER = "broker"  # a transfer broker's throw-away identity
    BUYER = "buyer"  # the broker's customer, re-booked into the slot
    # An operator who comes back after a block with fresh identities, phones and devices,
    # but the same payment account and home network.
    ROTATION = "identity_rotation"
    # 代挂: a buyer's real identity, booked for them by an operator from its own devices.
    PROXY_BOOKED = "proxy_booked"
    RADAR = "slot_radar"  # an identity a slot radar books when a returned slot shows up


SCALPER_CONTROLLED = frozenset(
    {
        Klass.GRAB_BOT,
        Klass.HUMAN_WAVE,
        Klass.BROKER,
        Klass.ROTATION,
        Klass.PROXY_BOOKED,
        Klass.RADAR,
    }
)

# The tactics the JSON's ``per_tactic`` reports, and the identities of each.
TACTICS: dict[str, frozenset[Klass]] = {
    "grab_bots": frozenset({Klass.GRAB_BOT}),
    "human_wave": frozenset({Klass.HUMAN_WAVE}),
    "brokers": frozenset({Klass.BROKER}),
    "identity_rotation": frozenset({Klass.ROTATION}),
    "proxy_booking": frozenset({Klass.PROXY_BOOKED}),
    "slot_radar": frozenset({Klass.RADAR}),
}

PRESETS = (
    "all",
    "grab_bots",
    "human_wave",
    "brokers",
    "identity_rotation",
    "proxy_booking",
    "slot_radar",
    "first_come",
)

CITY = "北京"
HOSPITAL_ZONE = "Asia/Shanghai"  # the platform's default zone for a new hospital
GRADE = "三级甲等"
DAYS_AHEAD = 7
EXPERT_TITLE = "chief"
# (code, name, specialty) of the expert clinics the first hospital may run.
EXPERT_CLINICS = (
    ("STOX", "口腔专家门诊", "stomatology"),
    ("OPHX", "眼科专家门诊", "ophthalmology"),
)
# Ordinary clinics: (hospital index, code, name, specialty).
ORDINARY_CLINICS = (
    (0, "CAR", "心内科", "cardiology"),
    (0, "GEN", "普通内科", "internal_medicine"),
    (1, "STO", "口腔科", "stomatology"),
    (1, "OPH", "眼科", "ophthalmology"),
    (1, "CAR", "心内科", "cardiology"),
)


@dataclass(frozen=True)
class ScenarioParams:
    """The knobs of a release day (reported as the JSON ``scenario`` object)."""

    name: str = "default"
    scarce_departments: int = 2  # expert clinics: 1 or 2
    scarce_doctors: int = 2  # chief physicians per expert clinic, one session each
    scarce_capacity: int = 4  # slots per expert session
    ordinary_capacity: int = 12  # slots per ordinary session (two doctors, am and pm)
    genuine_households: int = 90
    family_share: float = 0.25  # households that are families on one phone and network
    scarce_wish_share: float = 0.5  # genuine patients who want an expert slot
    early_share: float = 0.7  # of those, the ones ready before the release
    cancel_share: float = 0.1  # genuine bookings cancelled later for real reasons
    no_show_share: float = 0.08  # genuine patients who will not come (attendance phase)
    accept_alternative_share: float = 0.6
    grab_programs: int = 2
    identities_per_program: int = 10
    devices_per_program: int = 6
    proxies_per_program: int = 12
    radar_interval_s: float = 20.0
    wave_workers: int = 8
    wave_payment_accounts: int = 2  # the organisers pay for the hired people
    brokers: int = 3
    deals_per_broker: int = 3
    transfer_patience_s: float = 300.0  # how long a broker tries to re-book for the buyer
    # Identity rotation: operators with their own prepared identities, one payment account
    # and one home network; on day 2 fresh identities, phones and devices, same payment and
    # network.
    rotation_operators: int = 1
    identities_per_rotation: int = 6
    # 代挂: operators booking buyers' real identities (each buyer's own account, phone and
    # payment account) from the operator's few devices and one office network.
    proxy_operators: int = 1
    buyers_per_proxy: int = 6
    # Slot radars: poll availability at machine rate all day, hold whatever returns.
    radar_programs: int = 1
    identities_per_radar: int = 4
    radar_poll_s: float = 5.0
    # The hospital runs its expert clinics first-come on the protected platform too.
    first_come_scarce: bool = False
    lead_minutes: int = 40  # the day starts this long before the release
    day_minutes: int = 150  # and ends this long after it
    speed: float = 200.0  # simulated seconds per real second
    # Around the release, where the race is, time runs slower: the server's real latency
    # times the speed must stay small next to a person's 3-5 s per step.
    release_speed: float = 20.0
    slow_from_s: float = -30.0
    slow_until_s: float = 300.0

    @classmethod
    def quick(cls) -> ScenarioParams:
        """A small, fast day for tests: about ten real seconds per mode."""
        return cls(
            name="quick",
            scarce_departments=1,
            scarce_doctors=2,
            scarce_capacity=4,
            ordinary_capacity=6,
            genuine_households=30,
            scarce_wish_share=0.8,
            early_share=0.9,
            grab_programs=1,
            identities_per_program=8,
            devices_per_program=3,
            proxies_per_program=4,
            radar_interval_s=30.0,
            wave_workers=8,  # a wave is many people: four to each of two organisers
            brokers=1,
            deals_per_broker=3,
            transfer_patience_s=180.0,
            identities_per_rotation=6,
            buyers_per_proxy=6,
            identities_per_radar=2,
            radar_poll_s=5.0,
            lead_minutes=40,
            day_minutes=50,
            speed=600.0,
            release_speed=60.0,
            slow_from_s=-20.0,
            slow_until_s=120.0,
        )

    @classmethod
    def preset(cls, name: str, *, quick: bool = False) -> ScenarioParams:
        """A named scenario (:data:`PRESETS`): ``all`` plays every tactic at once; a tactic's
        name plays that tactic alone against the genuine patients; ``first_come`` plays
        every tactic on a hospital that runs its expert clinics first-come."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; one of {', '.join(PRESETS)}")
        base = cls.quick() if quick else cls()
        label = f"quick-{name}" if quick else name
        if name in ("all", "first_come"):
            return replace(base, name=label, first_come_scarce=name == "first_come")
        alone = {
            "grab_bots": "grab_programs",
            "human_wave": "wave_workers",
            "brokers": "brokers",
            "identity_rotation": "rotation_operators",
            "proxy_booking": "proxy_operators",
            "slot_radar": "radar_programs",
        }
        off = {field: 0 for tactic, field in alone.items() if tactic != name}
        return replace(base, name=label, **off)  # type: ignore[arg-type]

    def as_json(self) -> dict[str, object]:
        return asdict(self)

    def clock_changes(self, release_at: datetime) -> list[tuple[datetime, float]]:
        """Where the simulation clock slows down for the release, and speeds up again."""
        return [
            (release_at + timedelta(seconds=self.slow_from_s), self.release_speed),
            (release_at + timedelta(seconds=self.slow_until_s), self.speed),
        ]


@dataclass(frozen=True)
class DepartmentSpec:
    hospital: int
    code: str
    name: str
    specialty: str
    scarce: bool


@dataclass(frozen=True)
class DoctorSpec:
    hospital: int
    code: str
    name: str
    title: str
    department: str


@dataclass(frozen=True)
class SessionSpec:
    hospital: int
    department: str
    doctor: str
    period: str  # "am" | "pm"
    start: str
    end: str
    fee: str
    capacity: int
    scarce: bool

    def his_id(self, session_date: date) -> str:
        """The hospital system's own id for the session on that date."""
        return f"{session_date:%Y%m%d}-{self.doctor}-{self.period.upper()}"


@dataclass(frozen=True)
class Person:
    key: str
    klass: Klass
    name: str
    id_number: str
    phone: str
    relation: str = "self"


@dataclass(frozen=True)
class Device:
    """What a request is seen from: a phone or PC, an IP, maybe a Wi-Fi network."""

    device_id: str
    ip: str
    wifi_id: str | None
    user_agent: str


@dataclass(frozen=True)
class AccountSpec:
    key: str
    phone: str
    channel: str
    persons: tuple[str, ...]  # at most four (the platform's binding limit)


@dataclass(frozen=True)
class Wish:
    """What a genuine patient came for, and how they behave."""

    person: str
    scarce: bool
    hospital: int
    department: str
    title: str | None
    arrive_s: float  # offset from the release
    cancel_after_s: float | None  # cancels this long after booking, for a real reason
    shows_up: bool
    accepts_alternative: bool


@dataclass(frozen=True)
class Household:
    """One phone, one device and one home network: a single patient or a family."""

    key: str
    account: AccountSpec
    device: Device
    payment_account: str
    wishes: tuple[Wish, ...]


@dataclass(frozen=True)
class GrabProgram:
    """Grab software: prepared identities, rotating devices and proxy IPs, no pauses.

    The same script serves three more tactics (``tactic``): identity rotation (its devices
    on one home Wi-Fi, one address, one payment account), buyer-ID proxying (one account per
    buyer, the operator's few devices and office address) and a slot radar (``radar_only``:
    no intent, no snipe at the release, only polling for returned slots all day).
    """

    key: str
    accounts: tuple[AccountSpec, ...]
    devices: tuple[Device, ...]
    proxies: tuple[str, ...]
    payment_accounts: tuple[str, ...]  # one per account, in order
    targets: dict[str, str] = field(hash=False)  # person -> expert clinic code
    tactic: Klass = Klass.GRAB_BOT
    radar_only: bool = False


@dataclass(frozen=True)
class WaveWorker:
    """A hired person at human pace, primed on the doctor's page at the release."""

    key: str
    account: AccountSpec
    device: Device
    payment_account: str  # the organiser's
    department: str
    react_s: float


@dataclass(frozen=True)
class Deal:
    throwaway: str
    buyer: str
    department: str
    sell_after_s: float  # offset from the release at which the slot is sold on


@dataclass(frozen=True)
class Broker:
    """A transfer broker: books under throw-away identities, cancels, re-books for buyers."""

    key: str
    accounts: tuple[AccountSpec, ...]  # one per deal: the throw-away, later the buyer
    device: Device
    payment_account: str
    deals: tuple[Deal, ...]


@dataclass(frozen=True)
class Scenario:
    params: ScenarioParams
    seed: int
    departments: tuple[DepartmentSpec, ...]
    doctors: tuple[DoctorSpec, ...]
    sessions: tuple[SessionSpec, ...]
    persons: dict[str, Person] = field(hash=False)
    households: tuple[Household, ...]
    grab_programs: tuple[GrabProgram, ...]
    wave: tuple[WaveWorker, ...]
    brokers: tuple[Broker, ...]

    @property
    def scarce_supply(self) -> int:
        return sum(s.capacity for s in self.sessions if s.scarce)

    @property
    def scarce_demand(self) -> int:
        """Identities that will try for an expert slot: genuine wishes and scalper ones."""
        genuine = sum(1 for h in self.households for w in h.wishes if w.scarce)
        scalpers = sum(1 for p in self.persons.values() if p.klass in SCALPER_CONTROLLED)
        return genuine + scalpers

    def session_date(self, release_date: date) -> date:
        return release_date + timedelta(days=DAYS_AHEAD)
