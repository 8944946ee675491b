"""Arrangements for draws through the services: a world whose department draws, a patient
entering a session's draw from a device, the worker's pass, an entry read again."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from factories.supply import create_doctor
from factories.world import World, make_world
from fairslot.allocation import service as allocation
from fairslot.allocation.models import Intent
from fairslot.allocation.screening_ports import CaseDesk
from fairslot.allocation.states import AllocationMode
from fairslot.allocation.worker import DrawReport, run_due_draws
from fairslot.bootstrap import Platform
from fairslot.patients.models import Account, Patient
from fairslot.schedules.models import ClinicSession


def draw_world(db: Session, platform: Platform) -> World:
    """:func:`make_world` with its department allocated by draw, and a doctor of it."""
    world = make_world(db, platform)
    world.department = world.department_(allocation_mode=AllocationMode.DRAW)
    world.doctor = create_doctor(db, hospital=world.hospital, department=world.department)
    db.commit()
    return world


def register(
    world: World,
    account: Account,
    patient: Patient,
    target: ClinicSession | allocation.IntentTarget,
    *,
    device: str,
    ip: str | None = None,
    wifi: str | None = None,
    payment: str = "",
) -> tuple[Intent, bool]:
    """``patient`` of ``account`` enters the draw of ``target`` (a session, or what they
    accept) from ``device`` (and ``ip``, else the world's; ``wifi``), pre-authorising
    ``payment`` (else a card of their own); committed. The entry, and whether it is new."""
    if isinstance(target, ClinicSession):
        target = allocation.IntentTarget(session_id=target.id)
    network: dict[str, Any] = {"ip": ip} if ip is not None else {}
    found, created = allocation.register_intent(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        target=target,
        payment_account=payment or f"62220200{patient.id:08d}",
        payment_reference=f"pre-{patient.id}",
        now=world.now(),
        ctx=world.ctx(account, device_id=device, wifi_id=wifi, **network),
        policy=world.policy,
        protector=world.platform.protector,
    )
    world.db.commit()
    return found, created


def enter(
    world: World,
    account: Account,
    patient: Patient,
    session: ClinicSession,
    *,
    device: str,
    ip: str | None = None,
    payment: str = "",
) -> Intent:
    """:func:`register`'s entry."""
    found, _ = register(world, account, patient, session, device=device, ip=ip, payment=payment)
    return found


def run_worker(world: World, desk: CaseDesk | None = None) -> DrawReport:
    """The worker's pass over due draws, screening through ``desk`` (else the platform's);
    committed."""
    report = run_due_draws(
        world.db,
        now=world.now(),
        policy=world.policy,
        rng=world.platform.rng,
        protector=world.platform.protector,
        desk=world.platform.screening_desk if desk is None else desk,
    )
    world.db.commit()
    return report


def reread(world: World, intent_id: str) -> Intent:
    """The entry as it stands in the database now."""
    world.db.expire_all()
    found = world.db.get(Intent, intent_id)
    assert found is not None
    return found
