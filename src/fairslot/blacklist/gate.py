"""The real-time gate: a request whose patient, phone, account, device, network or
payment account is blocked is refused, through every channel, with a message that does
not reveal which identifier was blocked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.blacklist import repository as repo
from fairslot.blacklist.models import Scope
from fairslot.crypto import Protector
from fairslot.errors import Forbidden


class RequestBlocked(Forbidden):
    code = "request_blocked"


@dataclass(frozen=True)
class Identifiers:
    """What a request is known by; keys already hashed where the platform stores hashes."""

    patient_key: str | None = None
    phone_hash: str | None = None
    account_id: int | None = None
    device_id: str | None = None
    ip: str | None = None
    wifi_id: str | None = None
    payment_account_hash: str | None = None


def check(db: Session, *, ids: Identifiers, now: datetime, protector: Protector) -> None:
    keys: list[tuple[Scope, str]] = []
    if ids.patient_key:
        keys.append((Scope.PATIENT, ids.patient_key))
    if ids.phone_hash:
        keys.append((Scope.PHONE, ids.phone_hash))
    if ids.account_id is not None:
        keys.append((Scope.ACCOUNT, f"account:{ids.account_id}"))
    if ids.device_id:
        keys.append((Scope.DEVICE, protector.keyed_hash(ids.device_id, purpose="device")))
    for network in (ids.ip, ids.wifi_id):
        if network:
            keys.append((Scope.NETWORK, protector.keyed_hash(network, purpose="network")))
    if ids.payment_account_hash:
        keys.append((Scope.PAYMENT, ids.payment_account_hash))
    if repo.active_hit(db, keys=keys, now=now) is not None:
        raise refusal()


def refusal() -> RequestBlocked:
    """The one refusal of the real-time gate, whatever caused it (a blacklisted identifier
    or a velocity block): it must not tell a scalper which of the two, or what, tripped."""
    return RequestBlocked(
        "This request cannot be accepted. If you believe this is a mistake, please "
        "come to the hospital's service desk in person with your ID card.",
        detail_zh="该请求无法受理。如有疑问，请携带身份证到医院服务台办理。",
    )
