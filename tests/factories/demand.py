"""Factories for the demand side: channels, accounts and real-name patients.

They go through the services (so the data is what production would store) and only
flush; a test commits what it arranges when another session must see it.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from fairslot.bootstrap import Platform
from fairslot.channels import service as channels
from fairslot.channels.models import Channel, ChannelKind
from fairslot.patients import service as patients
from fairslot.patients.identity import Sex
from fairslot.patients.idgen import REGION_CODES, make_resident_id
from fairslot.patients.models import Account, Patient

FACTORY_NOW = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
NAMES = ("王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周杰", "吴霞")

_serial = itertools.count(1)
_rng = random.Random(20261122)
_issued: set[str] = set()


def resident_id(*, sex: Sex = Sex.FEMALE, birth_date: date = date(1985, 3, 14)) -> str:
    """A valid resident ID never handed out before in this test run."""
    while True:
        number = make_resident_id(
            rng=_rng, sex=sex, birth_date=birth_date, region=_rng.choice(REGION_CODES)
        )
        if number not in _issued:
            _issued.add(number)
            return number


def phone_number() -> str:
    """A fresh valid mainland mobile number, in the form a patient would type it."""
    return f"138{next(_serial) % 10**8:08d}"


def create_channel(db: Session, **overrides: Any) -> tuple[Channel, str]:
    n = next(_serial)
    values: dict[str, Any] = {
        "code": f"channel-{n}",
        "name": f"Channel {n}",
        "kind": ChannelKind.THIRD_PARTY,
        "reserved_share": Decimal(0),
        "reserve_return_minutes": 120,
        "now": FACTORY_NOW,
    }
    values.update(overrides)
    return channels.create_channel(db, **values)


def create_account(db: Session, platform: Platform, **overrides: Any) -> Account:
    values: dict[str, Any] = {
        "phone": phone_number(),
        "external_ref": None,
        "now": platform.clock.now(),
        "protector": platform.protector,
        "max_per_phone": platform.settings.max_accounts_per_phone,
    }
    values.update(overrides)
    if "channel_id" not in values:
        values["channel_id"] = create_channel(db)[0].id
    return patients.register_account(db, **values)


def create_patient(
    db: Session,
    platform: Platform,
    *,
    account: Account | None = None,
    sex: Sex = Sex.FEMALE,
    birth_date: date = date(1985, 3, 14),
    **overrides: Any,
) -> Patient:
    """A patient bound to ``account`` (a new account if none is given)."""
    account = account or create_account(db, platform)
    values: dict[str, Any] = {
        "name": NAMES[next(_serial) % len(NAMES)],
        "id_number": resident_id(sex=sex, birth_date=birth_date),
        "phone": phone_number(),
        "insurance_card": None,
        "relation": "self",
        "now": platform.clock.now(),
        "protector": platform.protector,
        "max_bound": platform.settings.max_patients_per_account,
    }
    values.update(overrides)
    return patients.bind_patient(db, account=account, **values)
