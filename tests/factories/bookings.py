"""A patient's bookings as the services make them, for tests that arrange them: hold,
confirm (pay), book (both), cancel, join a waitlist. Each commits, as a request would; the
request's context is the world's (``World.ctx``), with any identifiers a test overrides."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from factories.world import World
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.channels.models import ChannelKind
from fairslot.patients.models import Account, Patient
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SlotState
from fairslot.waitlist import service as waitlist
from fairslot.waitlist.models import WaitlistEntry

PAYER = "6222020000001234"  # a bank card, the same for every booking unless a test says


def hold(world: World, account: Account, patient: Patient, slot_id: str, **ctx: Any) -> Booking:
    booking = bookings.hold(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        slot_id=slot_id,
        now=world.now(),
        ctx=world.ctx(account, **ctx),
        policy=world.policy,
        rng=world.platform.rng,
    )
    world.db.commit()
    return booking


def confirm(world: World, account: Account, booking: Booking, payer: str = PAYER) -> Booking:
    confirmed = bookings.confirm(
        world.db,
        booking_id=booking.id,
        account_id=account.id,
        payment_account=payer,
        payment_reference=f"pay-{booking.id[:8]}",
        now=world.now(),
        ctx=world.ctx(account),
        protector=world.platform.protector,
    )
    world.db.commit()
    return confirmed


def book(
    world: World,
    account: Account,
    patient: Patient,
    slot_id: str,
    *,
    payer: str = PAYER,
    **ctx: Any,
) -> Booking:
    """Held and paid."""
    return confirm(world, account, hold(world, account, patient, slot_id, **ctx), payer=payer)


def cancel(
    world: World,
    account: Account,
    booking: Booking,
    kind: ChannelKind = ChannelKind.WECHAT,
    rng: random.Random | None = None,
) -> Booking:
    cancelled = bookings.cancel(
        world.db,
        booking_id=booking.id,
        account_id=account.id,
        now=world.now(),
        ctx=world.ctx(account),
        channel_kind=kind,
        policy=world.policy,
        rng=rng or world.platform.rng,
    )
    world.db.commit()
    return cancelled


def cancel_and_cool(world: World, account: Account, booking: Booking) -> dt.datetime:
    """Cancel ``booking``; returns when its slot's drawn cooling ends."""
    cancel(world, account, booking)
    world.db.expire_all()
    slot = world.db.get(Slot, booking.slot_id)
    world.db.commit()
    assert slot is not None and slot.state == SlotState.COOLING and slot.reopen_at is not None
    return slot.reopen_at


def join(
    world: World,
    account: Account,
    patient: Patient,
    session: ClinicSession,
    *,
    payer: str = "alipay:wait@example",
) -> WaitlistEntry:
    """Join a full session's waitlist from the patient's own device, pre-authorised."""
    entry = waitlist.join(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        session_id=session.id,
        payment_account=payer,
        payment_reference=f"pre-auth-{patient.id}",
        now=world.now(),
        ctx=world.ctx(account, device_id=f"device-{patient.id}"),
        policy=world.policy,
        rng=world.platform.rng,
        protector=world.platform.protector,
    )
    world.db.commit()
    return entry
