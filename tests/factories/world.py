"""A small released world to book in: one hospital, a department, a doctor, sessions,
a channel and bound patients. Built through the services, committed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from factories.demand import create_account, create_channel, create_patient
from factories.supply import create_department, create_doctor, create_hospital, import_session
from fairslot.availability.repository import slots_of_session
from fairslot.bookings.policy import BookingPolicy, booking_policy
from fairslot.bootstrap import Platform
from fairslot.channels.models import Channel, ChannelKind
from fairslot.context import RequestContext, device_key, edge_context, network_key
from fairslot.hospitals.models import Department, Doctor, Hospital
from fairslot.patients.identity import Sex
from fairslot.patients.models import Account, Patient
from fairslot.schedules.models import ClinicSession, Slot

# START (tests/conftest.py) is 2026-11-22 08:00 Shanghai: sessions up to 2026-11-29 are
# released (at 00:30 seven days before); 2026-11-30 is released at 2026-11-23 00:30.
RELEASED_DAY = dt.date(2026, 11, 25)
UNRELEASED_DAY = dt.date(2026, 11, 30)


@dataclass
class World:
    db: Session
    platform: Platform
    hospital: Hospital
    department: Department
    doctor: Doctor
    channel: Channel
    channel_key: str
    sessions: list[ClinicSession] = field(default_factory=list)

    @property
    def policy(self) -> BookingPolicy:
        return booking_policy(self.platform.settings)

    def now(self) -> dt.datetime:
        return self.platform.clock.now()

    def ctx(self, account: Account | None = None, **overrides: Any) -> RequestContext:
        values: dict[str, Any] = {
            "actor": "patient",
            "channel_id": self.channel.id,
            "account_id": account.id if account else None,
            "device_id": "device-1",
            "ip": "10.0.0.1",
        }
        values.update(overrides)
        # The raw identifiers a request would carry, hashed as the edge hashes them.
        return edge_context(protector=self.platform.protector, **values)

    def device_key(self, device_id: str) -> str:
        """The stored key of a raw device id."""
        return device_key(device_id, protector=self.platform.protector)

    def network_key(self, value: str) -> str:
        """The stored key of a raw IP address or Wi-Fi id."""
        return network_key(value, protector=self.platform.protector)

    def session(
        self,
        *,
        day: dt.date = RELEASED_DAY,
        capacity: int = 5,
        department: Department | None = None,
        **overrides: Any,
    ) -> ClinicSession:
        self.db.commit()  # end any read snapshot before writing (SQLite WAL)
        department = department or self.department
        doctor = (
            self.doctor
            if department is self.department
            else create_doctor(self.db, hospital=self.hospital, department=department)
        )
        session = import_session(
            self.db,
            hospital=self.hospital,
            department=department,
            doctor=doctor,
            date=day,
            now=self.now(),
            capacity=capacity,
            **overrides,
        )
        self.db.commit()
        self.sessions.append(session)
        return session

    def slots(self, session: ClinicSession) -> list[Slot]:
        slots = list(slots_of_session(self.db, session.id))
        self.db.commit()  # a read must not keep a snapshot open across API calls
        return slots

    def department_(self, **overrides: Any) -> Department:
        self.db.commit()
        department = create_department(self.db, hospital=self.hospital, **overrides)
        self.db.commit()
        return department

    def patient(
        self,
        *,
        account: Account | None = None,
        sex: Sex = Sex.FEMALE,
        birth_date: dt.date = dt.date(1985, 3, 14),
    ) -> tuple[Account, Patient]:
        self.db.commit()
        account = account or create_account(self.db, self.platform, channel_id=self.channel.id)
        patient = create_patient(
            self.db, self.platform, account=account, sex=sex, birth_date=birth_date
        )
        self.db.commit()
        return account, patient


def make_world(
    db: Session, platform: Platform, *, channel_kind: ChannelKind = ChannelKind.WECHAT
) -> World:
    hospital = create_hospital(db)
    department = create_department(db, hospital=hospital)
    doctor = create_doctor(db, hospital=hospital, department=department)
    channel, key = create_channel(db, kind=channel_kind)
    db.commit()
    return World(
        db=db,
        platform=platform,
        hospital=hospital,
        department=department,
        doctor=doctor,
        channel=channel,
        channel_key=key,
    )
