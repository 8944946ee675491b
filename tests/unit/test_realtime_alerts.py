"""The gate's review and block decisions become ``realtime_review`` alerts: one per
flagged account (or device when no account acted), with the requests as evidence."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fairslot.risk.alerts import Labels
from fairslot.risk.realtime import MAX_SCORE, realtime_alerts

AT = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Flagged:
    id: int
    account_id: int | None
    device_key: str | None = "imei-1"
    decision: str = "review"
    reasons: tuple[str, ...] = ("fast_confirm",)
    booking_id: str | None = None
    action: str = "confirm"
    minutes: int = 0

    @property
    def at(self) -> dt.datetime:
        return AT + dt.timedelta(minutes=self.minutes)


def hasher(value: str, purpose: str) -> str:
    return f"h({purpose}:{value})"


def alerts(*requests: Flagged):  # type: ignore[no-untyped-def]
    return realtime_alerts(requests, hasher=hasher, labels=Labels())


def test_the_requests_of_one_account_make_one_alert_with_their_bookings_as_evidence() -> None:
    [alert] = alerts(
        Flagged(2, 7, booking_id="b-2", minutes=5),
        Flagged(1, 7, booking_id="b-1", reasons=("binding_burst", "no_browse")),
    )
    assert alert.rule == "realtime_review"
    assert (alert.entity.kind, alert.entity.key) == ("account", "account:7")
    assert alert.booking_ids == ("b-1", "b-2")
    assert alert.details["scope"] == "account"
    assert [r["request_id"] for r in alert.details["listed"]] == [1, 2]  # oldest first
    assert alert.details["reasons"] == {"binding_burst": 1, "fast_confirm": 1, "no_browse": 1}
    assert "2 request(s)" in alert.explanation


def test_a_request_without_an_account_is_alerted_on_its_device_by_keyed_hash() -> None:
    # The request carries the device's stored key (``context.py``): alerted as it is.
    key = "h(device:grab-bot-1)"
    [alert] = alerts(Flagged(1, None, device_key=key, action="register"))
    assert (alert.entity.kind, alert.entity.key) == ("device", key)
    assert "grab-bot-1" not in alert.entity.label
    assert alert.details["scope"] == "device"


def test_a_request_with_neither_account_nor_device_is_not_alerted() -> None:
    assert alerts(Flagged(1, None, device_key=None)) == []


def test_blocks_and_repeats_rank_an_account_above_one_flagged_once() -> None:
    once, busy = sorted(
        alerts(
            Flagged(1, 1),
            Flagged(2, 2, decision="block"),
            Flagged(3, 2, minutes=1),
        ),
        key=lambda a: a.score,
    )
    assert (once.entity.key, once.score) == ("account:1", 1.0)
    assert (busy.entity.key, busy.score) == ("account:2", 1.75)
    assert busy.details["blocked"] == 1


def test_the_score_is_capped() -> None:
    many = [Flagged(n, 1, decision="block", minutes=n) for n in range(30)]
    [alert] = alerts(*many)
    assert alert.score == MAX_SCORE


def test_below_the_minimum_a_subject_is_alerted_only_if_it_was_blocked() -> None:
    found = realtime_alerts(
        [Flagged(1, 1), Flagged(2, 2, decision="block"), Flagged(3, 3), Flagged(4, 3, minutes=2)],
        hasher=hasher,
        labels=Labels(),
        min_requests=2,
    )
    assert sorted(a.entity.key for a in found) == ["account:2", "account:3"]


def test_a_family_binding_its_members_one_after_another_is_not_an_alert() -> None:
    # Registering, then binding three or four members in a minute: reviewed by the gate,
    # but that alone is a family's first day, not evidence (issue 11, queue noise).
    family = [
        Flagged(n, 8, action="bind_patient", reasons=("binding_burst",), minutes=n)
        for n in range(1, 4)
    ]
    assert alerts(*family) == []


def test_a_binding_burst_still_counts_when_blocked_or_with_another_reason() -> None:
    [blocked] = alerts(Flagged(1, 9, decision="block", reasons=("binding_burst",)))
    assert blocked.details["blocked"] == 1
    [mixed] = alerts(
        Flagged(2, 10, reasons=("binding_burst", "no_browse")),
        Flagged(3, 10, reasons=("binding_burst",)),  # alone: left out of the count
        Flagged(4, 10, reasons=("fast_confirm",)),
    )
    assert mixed.details["requests"] == 2
