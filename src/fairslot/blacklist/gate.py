"""The real-time gate: a request whose patient, phone, account, device, network or
payment account is blocked is refused, through every channel, with a message that does
not reveal which identifier was blocked."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from fairslot.blacklist import repository as repo
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.crypto import Protector
from fairslot.errors import Forbidden

K = TypeVar("K")


class RequestBlocked(Forbidden):
    code = "request_blocked"


@dataclass(frozen=True)
class Identifiers:
    """What a request is known by; keys already hashed where the platform stores hashes."""

    patient_key: str | None = None
    phone_hash: str | None = None
    account_id: int | None = None
    device_key: str | None = None
    ip_key: str | None = None
    wifi_key: str | None = None
    payment_account_hash: str | None = None


def keys_of(ids: Identifiers, *, protector: Protector | None) -> list[tuple[Scope, str]]:
    """The (scope, key) pairs the identifiers are blacklisted under. ``protector`` is no
    longer needed (every key is stored hashed) and kept for the callers' signature."""
    keys: list[tuple[Scope, str]] = []
    if ids.patient_key:
        keys.append((Scope.PATIENT, ids.patient_key))
    if ids.phone_hash:
        keys.append((Scope.PHONE, ids.phone_hash))
    if ids.account_id is not None:
        keys.append((Scope.ACCOUNT, f"account:{ids.account_id}"))
    # Device and network keys are stored hashed under the blacklist's own purposes
    # (``context.py``), so they are compared as they are.
    if ids.device_key:
        keys.append((Scope.DEVICE, ids.device_key))
    for network in (ids.ip_key, ids.wifi_key):
        if network:
            keys.append((Scope.NETWORK, network))
    if ids.payment_account_hash:
        keys.append((Scope.PAYMENT, ids.payment_account_hash))
    return keys


def check(db: Session, *, ids: Identifiers, now: datetime, protector: Protector) -> None:
    if is_blocked(db, ids=ids, now=now, protector=protector):
        raise refusal()


def is_blocked(
    db: Session, *, ids: Identifiers, now: datetime, protector: Protector | None
) -> bool:
    """Whether an entry in force blocks any of the identifiers: the question every path
    that books asks at the moment it books (the gate for requests; the waitlist
    placement and the release draw for the patients they book on their own)."""
    return repo.active_hit(db, keys=keys_of(ids, protector=protector), now=now) is not None


def blocked_among(
    db: Session, *, subjects: Mapping[K, Identifiers], now: datetime, protector: Protector
) -> set[K]:
    """Which of many subjects (e.g. a draw's entrants) a blacklist entry in force blocks,
    read in one query rather than one per subject."""
    keys = {subject: keys_of(ids, protector=protector) for subject, ids in subjects.items()}
    hits = repo.active_keys(db, keys={k for ks in keys.values() for k in ks}, now=now)
    return {subject for subject, ks in keys.items() if not hits.isdisjoint(ks)}


@dataclass(frozen=True)
class BlockedKeys:
    """What new blacklist entries block, to find what their subject has waiting."""

    keys: frozenset[tuple[Scope, str]]

    def of(self, scope: Scope) -> list[str]:
        return sorted(key for where, key in self.keys if where == scope)

    @property
    def account_ids(self) -> list[int]:
        return [int(key.removeprefix("account:")) for key in self.of(Scope.ACCOUNT)]

    def hit(self, ids: Identifiers, *, protector: Protector) -> bool:
        return not self.keys.isdisjoint(keys_of(ids, protector=protector))


def blocked_keys(entries: Collection[BlacklistEntry]) -> BlockedKeys:
    return BlockedKeys(keys=frozenset((e.scope, e.key_hash) for e in entries))


def refusal() -> RequestBlocked:
    """The one refusal of the real-time gate, whatever caused it (a blacklisted identifier
    or a velocity block): it must not tell a scalper which of the two, or what, tripped."""
    return RequestBlocked(
        "This request cannot be accepted. If you believe this is a mistake, please "
        "come to the hospital's service desk in person with your ID card.",
        detail_zh="该请求无法受理。如有疑问，请携带身份证到医院服务台办理。",
    )
