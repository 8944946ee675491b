"""The daily report's pictures, as figures: load the day's counts and hand them to the pure
shapes of ``risk/report_activity.py``. Reads only; nothing here names a person (every
result is a count), so a reading is not audited as the report itself is."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from fairslot.crypto import Protector
from fairslot.risk import report_activity_repository as repo
from fairslot.risk.linking import is_scarce
from fairslot.risk.report import day_bounds
from fairslot.risk.report_activity import (
    Activity,
    Identity,
    Refusals,
    ScarceBooking,
    ScarceTakers,
    activity,
    alert_identity,
    ban_index,
    day_hours,
    refusals,
    release_instants,
    release_window,
    scarce_takers,
)


def release_hour(db: Session, *, day: date, zone: str) -> Activity:
    """Minute by minute around the day's releases (``release_window``)."""
    instants = release_instants(day, repo.release_times(db))
    buckets = release_window(day, zone, instants)
    bounds = buckets.bounds()
    return activity(
        buckets,
        requests=repo.request_buckets(db, bounds=bounds),
        booked=repo.booked_buckets(db, bounds=bounds),
        marks=instants,
    )


def whole_day(db: Session, *, day: date, zone: str) -> Activity:
    """Hour by hour through the local day, the releases marked."""
    buckets = day_hours(day, zone)
    bounds = buckets.bounds()
    return activity(
        buckets,
        requests=repo.request_buckets(db, bounds=bounds),
        booked=repo.booked_buckets(db, bounds=bounds),
        marks=release_instants(day, repo.release_times(db)),
    )


def refusals_of_day(db: Session, *, day: date, zone: str) -> Refusals:
    start, end = day_bounds(day, zone)
    return refusals(repo.refusal_counts(db, start=start, end=end))


def scarce_takers_of_day(
    db: Session, *, day: date, zone: str, protector: Protector
) -> ScarceTakers:
    """Who took the scarce slots confirmed on the day, as the blacklist and the daily
    batch know them now."""
    start, end = day_bounds(day, zone)
    scarce = {s.session_id for s in repo.supply_of_day(db, start=start, end=end) if is_scarce(s)}
    bookings = [
        ScarceBooking(
            booking_id=row.booking_id,
            booked_at=row.booked_at,
            place=f"{row.hospital} · {row.department}",
            identities=_identities(row, protector=protector),
        )
        for row in repo.bookings_of_day(db, start=start, end=end)
        if row.session_id in scarce
    ]
    if not bookings:
        return scarce_takers((), bans={}, flagged=())
    return scarce_takers(
        bookings,
        bans=ban_index(repo.bans_since(db, start=start)),
        flagged=_flagged(
            repo.alert_entities_since(db, day=day), repo.ring_details_since(db, day=day)
        ),
    )


def _identities(row: repo.TakerRow, *, protector: Protector) -> tuple[Identity, ...]:
    """The booking's identities as blacklist entries and alerts store them."""
    found: list[Identity] = [
        ("patient", row.patient_key),
        ("phone", row.patient_phone),
        ("phone", row.account_phone),
        ("account", f"account:{row.account_id}"),
    ]
    if row.device_key:
        found.append(("device", row.device_key))  # stored as the blacklist key
    if row.payment_hash:
        found.append(("payment", row.payment_hash))
    return tuple(found)


def _flagged(entities: Iterable[tuple[str, str]], rings: Iterable[dict[str, Any]]) -> set[Identity]:
    flagged = {found for kind, key in entities if (found := alert_identity(kind, key))}
    for details in rings:
        for member in details.get("patients", ()):
            if isinstance(member, dict) and "key" in member:
                flagged.add(("patient", str(member["key"])))
        for member in details.get("accounts", ()):
            if isinstance(member, dict) and "key" in member:
                flagged.add(("account", str(member["key"])))
    return flagged
