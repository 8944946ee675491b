"""The story of a case's subject in time order: holds, payments, cancellations, visits and
no-shows from the slot ledger (not the platform's own cooling after a cancellation), with
the requests the ledger does not tell (bindings, registrations, anything refused or
flagged by the gate). Pure: no I/O.

A successful hold, payment or cancellation is already a ledger event, so its request
record is not listed twice; a read (availability, a patient list) is listed only when the
gate refused or flagged it — a radar's polling is evidence, a person's browsing is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from fairslot.cases.schemas import BookingEvidence, SlotEventView

MAX_ENTRIES: Final = 300

LEDGER_BACKED: Final = frozenset({"hold", "confirm", "cancel"})
READS: Final = frozenset({"availability", "list_patients", "alternatives"})
FLAGGED: Final = frozenset({"review", "block"})
# The platform's own follow-up of a cancellation (the slot cooling before its re-release)
# is not something the subject did: the cancellation says it.
PLATFORM_KINDS: Final = frozenset({"cooling"})
_CANCEL_KINDS: Final = frozenset({"cancelled", "hold_expired", "hold_released", "no_show"})
_VISIT_KINDS: Final = frozenset({"checked_in"})


@dataclass(frozen=True, kw_only=True)
class RequestFacts:
    """One request record of the subject, times already in the hospitals' zone."""

    request_id: int
    at: datetime
    action: str
    outcome: str
    decision: str | None
    reasons: tuple[str, ...]
    account_id: int | None
    patient_id: int | None
    booking_id: str | None
    slot_id: str | None
    channel_id: int | None


@dataclass(frozen=True, kw_only=True)
class Entry:
    at: datetime
    source: str  # "ledger" or "request"
    kind: str  # the ledger event kind, or the request's action
    tone: str  # "", "cancel", "visit", "refused" or "flagged"
    outcome: str | None = None
    decision: str | None = None
    reasons: tuple[str, ...] = ()
    slot_id: str | None = None
    booking_id: str | None = None
    patient: str | None = None
    department: str | None = None
    doctor: str | None = None
    session_date: str | None = None  # "2026-12-07"
    period: str | None = None  # "am" / "pm"
    channel: str | None = None
    account_id: int | None = None


def shown(request: RequestFacts) -> bool:
    """Whether a request belongs on the timeline (see the module's docstring)."""
    if request.outcome != "ok" or request.decision in FLAGGED:
        return True
    return request.action not in LEDGER_BACKED | READS


def timeline(
    *,
    events: Iterable[SlotEventView],
    requests: Iterable[RequestFacts],
    bookings: Iterable[BookingEvidence],
    channels: Mapping[int, str],
    names: Mapping[int, str],
    limit: int = MAX_ENTRIES,
) -> list[Entry]:
    """The entries oldest first; past ``limit`` the most recent ones are kept."""
    by_booking = {b.booking_id: b for b in bookings}
    entries = [
        _ledger_entry(e, by_booking.get(e.booking_id or ""), channels)
        for e in events
        if e.kind not in PLATFORM_KINDS
    ]
    for request in requests:
        if shown(request):
            entries.append(
                _request_entry(request, by_booking.get(request.booking_id or ""), channels, names)
            )
    entries.sort(key=lambda e: (e.at, e.source, e.kind))
    return entries[-limit:]


def _ledger_entry(
    event: SlotEventView, booking: BookingEvidence | None, channels: Mapping[int, str]
) -> Entry:
    tone = (
        "cancel" if event.kind in _CANCEL_KINDS else "visit" if event.kind in _VISIT_KINDS else ""
    )
    channel = channels.get(event.channel_id) if event.channel_id is not None else None
    return Entry(
        at=event.at,
        source="ledger",
        kind=event.kind,
        tone=tone,
        slot_id=event.slot_id,
        booking_id=event.booking_id,
        account_id=event.account_id,
        channel=channel or (booking.channel if booking else None),
        **_booking_fields(booking),
    )


def _request_entry(
    request: RequestFacts,
    booking: BookingEvidence | None,
    channels: Mapping[int, str],
    names: Mapping[int, str],
) -> Entry:
    refused = request.outcome != "ok" or request.decision == "block"
    tone = "refused" if refused else "flagged" if request.decision in FLAGGED else ""
    fields = _booking_fields(booking)
    if booking is None and request.patient_id is not None:
        fields["patient"] = names.get(request.patient_id)
    return Entry(
        at=request.at,
        source="request",
        kind=request.action,
        tone=tone,
        outcome=request.outcome,
        decision=request.decision,
        reasons=request.reasons,
        slot_id=request.slot_id,
        booking_id=request.booking_id,
        account_id=request.account_id,
        channel=channels.get(request.channel_id) if request.channel_id is not None else None,
        **fields,
    )


def _booking_fields(booking: BookingEvidence | None) -> dict[str, Any]:
    if booking is None:
        return {}
    return {
        "patient": booking.patient.name,
        "department": booking.department,
        "doctor": booking.doctor,
        "session_date": booking.session_date.isoformat(),
        "period": booking.period,
    }
