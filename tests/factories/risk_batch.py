"""Histories for the anomaly batch, built through the booking services.

Every person books from their own device, network and payment account unless a scene says
otherwise: the world's default context puts everyone on one device, which would link the
whole test population into one ring.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from factories.demand import create_account, create_patient, phone_number
from factories.world import World
from fairslot.audit import service as audit
from fairslot.audit.service import PendingRecord
from fairslot.bookings import attendance
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.channels.models import ChannelKind
from fairslot.context import RequestContext
from fairslot.patients.identity import Sex
from fairslot.patients.models import Account, Patient
from fairslot.risk.batch import BatchReport, run_batch
from fairslot.risk.settings import ring_settings, risk_settings
from fairslot.schedules.models import ClinicSession

SHANGHAI = ZoneInfo("Asia/Shanghai")
# tests/conftest.py START is 2026-11-22 08:00 in Shanghai: the batch's report date.
REPORT_DAY = dt.date(2026, 11, 22)

_serial = itertools.count(1)


@dataclass
class Person:
    account: Account
    patient: Patient
    device: str
    ip: str
    wifi: str | None
    payer: str


class Scenes:
    def __init__(self, world: World) -> None:
        self.world = world
        self.db = world.db

    def account(self, *, phone: str | None = None) -> Account:
        self.db.commit()
        account = create_account(
            self.db,
            self.world.platform,
            channel_id=self.world.channel.id,
            phone=phone or phone_number(),
        )
        self.db.commit()
        return account

    def person(
        self,
        *,
        account: Account | None = None,
        phone: str | None = None,
        sex: Sex = Sex.FEMALE,
        device: str | None = None,
        ip: str | None = None,
        wifi: str | None = None,
        payer: str | None = None,
    ) -> Person:
        n = next(_serial)
        account = account or self.account()
        patient = create_patient(
            self.db,
            self.world.platform,
            account=account,
            sex=sex,
            phone=phone or phone_number(),
        )
        self.db.commit()
        return Person(
            account=account,
            patient=patient,
            device=device or f"device-{n}",
            ip=ip or f"10.{n // 250}.{n % 250}.{n % 7 + 1}",
            wifi=wifi,
            payer=payer or f"62220200{n:08d}",
        )

    def ctx(self, person: Person) -> RequestContext:
        return self.world.ctx(
            person.account, device_id=person.device, ip=person.ip, wifi_id=person.wifi
        )

    def hold(
        self, person: Person, session: ClinicSession, *, slot_id: str | None = None
    ) -> Booking:
        slot_id = slot_id or bookings.first_free_slot(
            self.db, session_id=session.id, now=self.world.now(), channel_id=self.world.channel.id
        )
        booking = bookings.hold(
            self.db,
            account_id=person.account.id,
            patient_id=person.patient.id,
            slot_id=slot_id,
            now=self.world.now(),
            ctx=self.ctx(person),
            policy=self.world.policy,
            rng=self.world.platform.rng,
        )
        self.db.commit()
        return booking

    def book(
        self, person: Person, session: ClinicSession, *, slot_id: str | None = None
    ) -> Booking:
        """Hold and pay."""
        booking = self.hold(person, session, slot_id=slot_id)
        booked = bookings.confirm(
            self.db,
            booking_id=booking.id,
            account_id=person.account.id,
            payment_account=person.payer,
            payment_reference=f"pay-{booking.id[:8]}",
            now=self.world.now(),
            ctx=self.ctx(person),
            protector=self.world.platform.protector,
        )
        self.db.commit()
        return booked

    def cancel(self, person: Person, booking: Booking) -> Booking:
        cancelled = bookings.cancel(
            self.db,
            booking_id=booking.id,
            account_id=person.account.id,
            now=self.world.now(),
            ctx=self.ctx(person),
            channel_kind=ChannelKind.WECHAT,
            policy=self.world.policy,
            rng=self.world.platform.rng,
        )
        self.db.commit()
        return cancelled

    def check_in(self, booking: Booking) -> None:
        attendance.check_in(
            self.db,
            hospital_id=self.world.hospital.id,
            booking_id=booking.id,
            now=self.world.now(),
            ctx=RequestContext(actor=f"hospital:{self.world.hospital.code}"),
        )
        self.db.commit()

    def refused_hold(self, person: Person, *, decision: str | None = None) -> None:
        """A hold refused on a full session, as the gate records it; ``decision`` is the
        gate's verdict on the request (``review`` when it came faster than a person)."""
        self.request(person, action="hold", outcome="session_full", decision=decision)

    def request(
        self, person: Person, *, action: str, outcome: str = "ok", decision: str | None = None
    ) -> None:
        """One request record for ``person``, as the API writes it."""
        flagged = decision in ("review", "block")
        audit.write(
            self.db,
            pending=PendingRecord(
                action=action,
                at=self.world.now(),
                ctx=self.ctx(person),
                account_id=person.account.id,
                patient_key=person.patient.id_hash,
                decision=decision,
                reasons="fast_after_registration" if flagged else None,
            ),
            outcome=outcome,
        )
        self.db.commit()

    def run(self, day: dt.date = REPORT_DAY) -> BatchReport:
        """The batch for ``day`` in its own transaction, as the command runs it."""
        platform = self.world.platform
        self.db.commit()
        with platform.sessions() as db:
            report = run_batch(
                db,
                day=day,
                now=platform.clock.now(),
                settings=risk_settings(platform.settings),
                ring_settings=ring_settings(platform.settings),
                actor="test",
                protector=platform.protector,
                zone=SHANGHAI,
            )
            db.commit()
        return report

    def local(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI).astimezone(dt.UTC)
