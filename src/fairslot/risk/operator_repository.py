"""Queries of the operator rules (``risk/operators.py``): availability polls per device,
the scarce chances bought with each payment account, and the identifiers the blacklist
holds in force."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fairslot.audit.models import RequestRecord
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.risk.operators import ActFact, PollFact, ScarceEntry
from fairslot.risk.rules import Window

POLL_ACTION = "availability"
# Chances at a scarce slot: a draw entry, a waitlist place (a waitlist opens only on a
# full session).
SCARCE_ACTIONS = ("intent", "waitlist_join")
# A device is read for pooling (``operators.availability_polling``) from this share of the
# rule's count: a radar rotating over up to ten devices of one account is still seen,
# while a city's occasional browsing stays in the database.
POOL_SHARE = 10


def poll_facts(db: Session, *, window: Window, at_least: int) -> list[PollFact]:
    """Devices with at least ``at_least / POOL_SHARE`` availability polls in the window
    (``at_least`` is the rule's count; the devices of one account are pooled before it is
    compared): how many, first and last arrival (``request_records.at`` is the server's
    arrival time). One grouped scan of the ``(device_key, at)`` index; a device below the
    floor is never returned."""
    floor = max(2, at_least // POOL_SHARE)
    first, last = func.min(RequestRecord.at), func.max(RequestRecord.at)
    statement = (
        select(RequestRecord.device_key, func.count(), first, last)
        .where(
            RequestRecord.action == POLL_ACTION,
            RequestRecord.device_key.is_not(None),
            RequestRecord.at >= window.start,
            RequestRecord.at < window.end,
        )
        .group_by(RequestRecord.device_key)
        .having(func.count() >= floor)
    )
    return [
        PollFact(device_key=device, polls=int(count), first_at=start, last_at=end)
        for device, count, start, end in db.execute(statement)
        if device  # excluded by the query; the type does not know
    ]


def scarce_entries(db: Session, *, window: Window) -> list[ScarceEntry]:
    """Each (payment account, account, patient) of the window's draw entries and waitlist
    joins, allowed or refused: a chance at a scarce slot someone paid (or pre-authorised)
    for. Distinct triples, from the ``at`` index's window."""
    statement = (
        select(
            RequestRecord.payment_account_hash, RequestRecord.account_id, RequestRecord.patient_key
        )
        .where(
            RequestRecord.action.in_(SCARCE_ACTIONS),
            RequestRecord.payment_account_hash.is_not(None),
            RequestRecord.account_id.is_not(None),
            RequestRecord.patient_key.is_not(None),
            RequestRecord.at >= window.start,
            RequestRecord.at < window.end,
        )
        .distinct()
    )
    return [
        ScarceEntry(payment_account_hash=payment, account_id=account, patient_key=patient)
        for payment, account, patient in db.execute(statement)
        if payment and account is not None and patient  # excluded by the query
    ]


# The requests by which an account takes a slot or a chance at one (``gate/realtime.py``).
ACTING_ACTIONS = ("hold", "intent", "waitlist_join")


def act_facts(
    db: Session, *, window: Window, staffed: frozenset[int] = frozenset()
) -> list[ActFact]:
    """The window's acting requests for a patient, with their arrival times: the pace of
    ``operators.machine_pace``. A staffed channel's terminal is no one's device."""
    statement = select(
        RequestRecord.at,
        RequestRecord.account_id,
        RequestRecord.device_key,
        RequestRecord.channel_id,
        RequestRecord.patient_key,
    ).where(
        RequestRecord.action.in_(ACTING_ACTIONS),
        RequestRecord.patient_key.is_not(None),
        RequestRecord.at >= window.start,
        RequestRecord.at < window.end,
    )
    return [
        ActFact(
            at=at,
            account_id=account,
            device_key=None if channel in staffed else device,
            patient_key=patient,
        )
        for at, account, device, channel, patient in db.execute(statement)
        if patient  # excluded by the query
    ]


def blacklisted_keys(
    db: Session, *, now: datetime, scopes: tuple[Scope, ...]
) -> set[tuple[str, str]]:
    """``(scope, key_hash)`` of every entry in force now in ``scopes``."""
    rows = db.execute(
        select(BlacklistEntry.scope, BlacklistEntry.key_hash).where(
            BlacklistEntry.scope.in_(scopes),
            BlacklistEntry.lifted_at.is_(None),
            or_(BlacklistEntry.expires_at.is_(None), BlacklistEntry.expires_at > now),
        )
    )
    return {(scope.value, key) for scope, key in rows}
