"""The demo's people: accounts on each channel with their bound patients, and the one
confirmed booking the hospital feed shows. Only flushes."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from fairslot.bookings import service as bookings
from fairslot.bookings.policy import booking_policy
from fairslot.channels.models import Channel
from fairslot.config import Settings
from fairslot.context import edge_context
from fairslot.crypto import Protector
from fairslot.demo import catalog
from fairslot.patients import service as patients
from fairslot.patients.idgen import REGION_CODES, make_resident_id
from fairslot.patients.models import Account, Patient

_BEIJING_REGIONS = REGION_CODES[:5]


def seed_accounts(
    db: Session,
    *,
    channels: dict[str, Channel],
    today: date,
    now: datetime,
    rng: random.Random,
    protector: Protector,
    settings: Settings,
) -> tuple[dict[str, Account], dict[str, Patient]]:
    phones = {person.household: "" for person in catalog.PEOPLE}
    for household in phones:
        phones[household] = f"13{rng.randint(5, 9)}{rng.randrange(10**8):08d}"
    identities = {
        person.key: (
            catalog.person_name(rng),
            make_resident_id(
                rng=rng,
                sex=person.sex,
                birth_date=date(today.year - person.age, 1, 1) + timedelta(days=rng.randrange(365)),
                region=rng.choice(_BEIJING_REGIONS),
            ),
        )
        for person in catalog.PEOPLE
    }
    households = {person.key: person.household for person in catalog.PEOPLE}
    accounts: dict[str, Account] = {}
    people: dict[str, Patient] = {}
    for spec in catalog.ACCOUNTS:
        account = patients.register_account(
            db,
            phone=phones[spec.household],
            channel_id=channels[spec.channel].id,
            external_ref=f"demo-{spec.key}",
            now=now,
            protector=protector,
            max_per_phone=settings.max_accounts_per_phone,
        )
        accounts[spec.key] = account
        for person, relation in spec.bindings:
            name, id_number = identities[person]
            people[person] = patients.bind_patient(
                db,
                account=account,
                name=name,
                id_number=id_number,
                phone=phones[households[person]],
                relation=relation,
                now=now,
                protector=protector,
                max_bound=settings.max_patients_per_account,
            )
    return accounts, people


def book_first(
    db: Session,
    *,
    session_id: int,
    account: Account,
    patient: Patient,
    channel: Channel,
    now: datetime,
    protector: Protector,
    settings: Settings,
    rng: random.Random,
) -> None:
    """The family books the child into paediatrics through WeChat and pays."""
    ctx = edge_context(
        protector=protector,
        actor="patient",
        channel_id=channel.id,
        account_id=account.id,
        device_id="demo-phone-family",
        ip="203.0.113.8",
        wifi_id="demo-home-wifi",
        user_agent="MicroMessenger/8.0 (demo)",
    )
    slot_id = bookings.first_free_slot(db, session_id=session_id, now=now, channel_id=channel.id)
    booking = bookings.hold(
        db,
        account_id=account.id,
        patient_id=patient.id,
        slot_id=slot_id,
        now=now,
        ctx=ctx,
        policy=booking_policy(settings),
        rng=rng,
    )
    bookings.confirm(
        db,
        booking_id=booking.id,
        account_id=account.id,
        payment_account="wxpay-demo-family",
        payment_reference="WX-DEMO-0001",
        now=now,
        ctx=ctx,
        protector=protector,
    )
