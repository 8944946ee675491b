"""The facts a quality report reads, loaded for a period and prepared for the pure
figures: local days from UTC instants, scarcity, and whether a blacklisted identity took a
scarce slot (the device identifier is hashed here as the blacklist stores it)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.crypto import Protector
from fairslot.metrics import repository as repo
from fairslot.metrics import rules
from fairslot.metrics.facts import Ban, Booked, Facts, Period, Scope, assemble_attempts, local_day
from fairslot.risk.linking import is_scarce


def load_facts(
    db: Session,
    *,
    period: Period,
    activity_span: Period,
    tz: str,
    protector: Protector,
    scope: Scope,
) -> Facts:
    """The facts of ``period`` (and the activity of ``activity_span``) within ``scope``.
    A booking is scarce by ``risk/linking.py::is_scarce``, the risk batch's definition."""
    where = {"hospital_id": scope.hospital_id, "channel_id": scope.channel_id}
    rows = repo.confirmed_bookings(db, period=period, tz=tz, **where)
    # Read after the bookings, so that every booking read finds its session here: a paid
    # booking stays paid, so the same condition still selects it a moment later.
    supply = repo.session_supply(db, period=period, tz=tz, **where)
    bans = rules.ban_index(repo.bans(db, scopes=rules.IDENTITY_SCOPES))
    zone = ZoneInfo(tz)
    bookings = [
        _booked(
            row,
            zone=zone,
            scarce=is_scarce(supply[row.session_id]),
            bans=bans,
            protector=protector,
        )
        for row in rows
    ]
    records = repo.attempt_records(db, period=period, tz=tz, channel_id=scope.channel_id)
    return Facts(
        activity=tuple(repo.activity(db, period=activity_span, tz=tz, **where)),
        attempts=tuple(assemble_attempts(records, bookings)),
        bookings=tuple(bookings),
        attendance=tuple(repo.attendance(db, period=period, **where)),
    )


def _booked(
    row: repo.BookingRow,
    *,
    zone: ZoneInfo,
    scarce: bool,
    bans: dict[tuple[str, str], list[Ban]],
    protector: Protector,
) -> Booked:
    blacklisted = scarce and rules.ever_blacklisted(
        _identities(row, protector=protector), booked_at=row.booked_at, bans=bans
    )
    return Booked(
        booking_id=row.booking_id,
        channel_id=row.channel_id,
        account_id=row.account_id,
        patient_key=row.patient_key,
        hospital_id=row.hospital_id,
        held_at=row.held_at,
        held_day=local_day(row.held_at, zone),
        booked_at=row.booked_at,
        booked_day=local_day(row.booked_at, zone),
        scarce=scarce,
        blacklisted=blacklisted,
    )


def _identities(row: repo.BookingRow, *, protector: Protector) -> list[tuple[str, str]]:
    """The booking's identities as blacklist entries store them (``blacklist/keys.py``)."""
    found = [
        ("patient", row.patient_key),
        ("phone", row.patient_phone),
        ("phone", row.account_phone),
        ("account", f"account:{row.account_id}"),
    ]
    if row.device_key:
        found.append(("device", row.device_key))  # stored as the blacklist key
    if row.payment_hash:
        found.append(("payment", row.payment_hash))
    return found
