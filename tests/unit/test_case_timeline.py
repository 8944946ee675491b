"""A case's timeline: ledger events with the booking they belong to, and only the requests
the ledger does not already tell (bindings, refusals, flagged requests)."""

from __future__ import annotations

import datetime as dt

from fairslot.cases.schemas import BookingEvidence, PatientLabel, SlotEventView
from fairslot.cases.timeline import RequestFacts, timeline

T0 = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def booking() -> BookingEvidence:
    return BookingEvidence(
        booking_id="b1",
        status="booked",
        department_id=5,
        department="心内科",
        doctor="周秀英",
        doctor_title="chief",
        session_date=dt.date(2026, 12, 7),
        period="am",
        channel="微信",
        channel_kind="wechat",
        device_key="d",
        ip_key=None,
        wifi_key=None,
        payment_account="62****9999",
        patient=PatientLabel(
            patient_id=6, name="王伟", id_masked="120***********1757", phone_masked="x"
        ),
        account_id=5,
        held_at=T0,
        booked_at=T0,
        ended_at=None,
    )


def event(kind: str, minutes: int) -> SlotEventView:
    return SlotEventView(
        event_id=minutes,
        slot_id="slot-1",
        kind=kind,
        at=T0 + dt.timedelta(minutes=minutes),
        booking_id="b1",
        account_id=5,
        channel_id=2,
        device_key="d",
        ip_key=None,
        wifi_key=None,
    )


def request(
    action: str, minutes: int, outcome: str = "ok", decision: str | None = None
) -> RequestFacts:
    return RequestFacts(
        request_id=minutes,
        at=T0 + dt.timedelta(minutes=minutes),
        action=action,
        outcome=outcome,
        decision=decision,
        reasons=("fast_confirm",) if decision else (),
        account_id=5,
        patient_id=6,
        booking_id=None,
        slot_id="slot-9" if action == "hold" else None,
        channel_id=2,
    )


def test_ledger_events_and_the_requests_they_do_not_tell_come_in_time_order() -> None:
    entries = timeline(
        events=[event("booked", 1), event("held", 0), event("cancelled", 30), event("cooling", 30)],
        requests=[
            request("bind_patient", -5),
            request("hold", 0),  # told by the ledger's "held"
            request("availability", -1),  # a person browsing
            request("hold", 40, outcome="request_blocked", decision="block"),
            request("confirm", 50, decision="review"),
        ],
        bookings=[booking()],
        channels={2: "微信小程序"},
        names={6: "王伟"},
    )

    assert [(e.source, e.kind, e.tone) for e in entries] == [
        ("request", "bind_patient", ""),
        ("ledger", "held", ""),
        ("ledger", "booked", ""),
        ("ledger", "cancelled", "cancel"),
        ("request", "hold", "refused"),
        ("request", "confirm", "flagged"),
    ]
    held = entries[1]
    assert (held.patient, held.department, held.session_date, held.period, held.channel) == (
        "王伟",
        "心内科",
        "2026-12-07",
        "am",
        "微信小程序",
    )
    assert entries[4].slot_id == "slot-9" and entries[4].patient == "王伟"


def test_past_the_limit_the_latest_entries_are_kept() -> None:
    entries = timeline(
        events=[event("held", m) for m in range(10)],
        requests=[],
        bookings=[],
        channels={},
        names={},
        limit=3,
    )

    assert [e.at.minute for e in entries] == [7, 8, 9]
