"""The daily batch's pure pieces: when it is due, what is scarce, how links are made, which
groups are worth a graph, how alerts name their entities. No database."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fairslot.bookings.states import BookingStatus
from fairslot.config import load_settings
from fairslot.context import edge_context
from fairslot.crypto import Protector
from fairslot.hospitals.kinds import SexRestriction
from fairslot.patients.identity import Sex
from fairslot.risk import alerts
from fairslot.risk.due import is_due, latest_due_date, parse_local_time
from fairslot.risk.facts import BookingFact, RiskSettings
from fairslot.risk.linking import BindingFact, RequestFact, SessionSupply, is_scarce, links
from fairslot.risk.ring_candidates import ring_input
from fairslot.risk.rings import RingSettings, build_graph, rings
from fairslot.risk.rules import EntityKind, Hit, RuleName, window_ending
from fairslot.risk.settings import ring_settings, risk_settings, run_local_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
ONE = time(1, 0)
DAY = date(2026, 11, 22)
WINDOW = window_ending(DAY, settings=RiskSettings(), zone=SHANGHAI)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


# --- when the batch is due --------------------------------------------------------------------


def test_after_the_run_time_yesterday_is_due() -> None:
    assert latest_due_date(now=local(DAY, 1, 5), zone=SHANGHAI, run_at=ONE) == DAY - timedelta(1)


def test_before_the_run_time_the_day_before_yesterday_is_still_the_latest_due() -> None:
    assert latest_due_date(now=local(DAY, 0, 59), zone=SHANGHAI, run_at=ONE) == DAY - timedelta(2)


def test_the_local_date_counts_not_the_utc_date() -> None:
    # 01:30 in Shanghai is 17:30 UTC the day before: the due date is still local yesterday.
    now = local(DAY, 1, 30)
    assert now.date() == DAY - timedelta(1)
    assert latest_due_date(now=now, zone=SHANGHAI, run_at=ONE) == DAY - timedelta(1)


def test_a_date_that_already_ran_is_not_due_again() -> None:
    now = local(DAY, 3)
    assert is_due(now=now, zone=SHANGHAI, run_at=ONE, already_run=[]) == DAY - timedelta(1)
    assert is_due(now=now, zone=SHANGHAI, run_at=ONE, already_run=[DAY - timedelta(1)]) is None


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        latest_due_date(now=datetime(2026, 11, 22, 1), zone=SHANGHAI, run_at=ONE)  # noqa: DTZ001


@pytest.mark.parametrize("text", ["1am", "25:00", "01:60", ""])
def test_an_unreadable_run_time_is_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_local_time(text)


# --- settings ---------------------------------------------------------------------------------


def test_the_default_settings_are_the_rules_own_defaults() -> None:
    settings = load_settings()
    assert risk_settings(settings) == RiskSettings()
    assert ring_settings(settings) == RingSettings()
    assert run_local_time(settings) == ONE


def test_every_threshold_and_window_comes_from_the_settings() -> None:
    settings = load_settings(
        risk_window_days=3,
        risk_transfer_max_gap_minutes=30,
        risk_synchrony_gap_seconds=9,
        risk_ring_flag_score=6,
        risk_ring_scarce_share=0.8,
        risk_run_local_time="02:30",
    )
    built = risk_settings(settings)
    assert built.window_days == 3
    assert built.transfer_max_gap == timedelta(minutes=30)
    assert built.synchrony_gap == timedelta(seconds=9)
    assert ring_settings(settings).flag_score == 6
    assert ring_settings(settings).scarce_share == 0.8
    assert run_local_time(settings) == time(2, 30)


def test_a_zero_threshold_in_the_settings_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        risk_settings(load_settings(risk_no_shows=0))


def test_the_window_of_a_local_date_is_its_local_days() -> None:
    assert WINDOW.start == local(DAY - timedelta(6), 0)
    assert WINDOW.end == local(DAY + timedelta(1), 0)
    assert WINDOW.contains_day(DAY) and WINDOW.contains_day(DAY - timedelta(6))
    assert not WINDOW.contains_day(DAY + timedelta(1))


# --- scarcity and links -------------------------------------------------------------------------


def supply(**overrides: Any) -> SessionSupply:
    values: dict[str, Any] = {"session_id": 1, "draw_mode": False, "capacity": 10, "occupied": 4}
    values.update(overrides)
    return SessionSupply(**values)


def test_a_draw_mode_session_is_scarce_even_with_free_slots() -> None:
    assert is_scarce(supply(draw_mode=True, occupied=0))


def test_a_session_that_ended_up_full_is_scarce() -> None:
    assert is_scarce(supply(occupied=10))


def test_a_session_with_free_slots_or_without_capacity_is_not_scarce() -> None:
    assert not is_scarce(supply(occupied=9))
    assert not is_scarce(supply(capacity=0, occupied=0))


_ids = itertools.count(1)


def fact(**overrides: Any) -> BookingFact:
    n = next(_ids)
    values: dict[str, Any] = {
        "booking_id": f"b{n}",
        "patient_key": f"p{n}",
        "account_id": n,
        "department_id": 1,
        "department_specialty": "internal",
        "sex_restriction": SexRestriction.ANY,
        "patient_sex": Sex.FEMALE,
        "session_id": 1,
        "session_date": DAY,
        "booked_at": local(DAY, 9),
        "cancelled_at": None,
        "status": BookingStatus.BOOKED,
        "attended": None,
        "payment_account_hash": f"card{n}",
        "device_key": f"dev{n}",
        "ip_key": f"10.0.0.{n % 250}",
        "wifi_key": None,
        "phone_hash": f"phone{n}",
        "channel_id": 1,
    }
    values.update(overrides)
    return BookingFact(**values)


def test_a_booking_link_carries_what_became_of_the_booking() -> None:
    full = supply(occupied=10)
    booked = fact()
    cancelled = fact(status=BookingStatus.CANCELLED, cancelled_at=local(DAY, 10), session_id=2)
    missed = fact(status=BookingStatus.NO_SHOW, session_id=2)
    found = links(
        bookings=[booked, cancelled, missed],
        bindings=[BindingFact(patient_key="p-x", account_id=7, account_phone_hash="ph7")],
        sessions=[full, supply(session_id=2)],
        window=WINDOW,
    )
    assert [(x.scarce, x.cancelled_without_visit, x.no_show) for x in found[:3]] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    assert found[3].patient_key == "p-x" and found[3].phone_hash == "ph7" and not found[3].booked


def test_a_cancellation_followed_by_a_visit_in_the_department_is_not_without_a_visit() -> None:
    cancelled = fact(
        patient_key="p-anna", status=BookingStatus.CANCELLED, cancelled_at=local(DAY, 10)
    )
    visit = fact(patient_key="p-anna", status=BookingStatus.CHECKED_IN)
    found = links(bookings=[cancelled, visit], bindings=[], sessions=[], window=WINDOW)
    assert not found[0].cancelled_without_visit


# --- ring candidates ----------------------------------------------------------------------------


def household(name: str, members: int = 4) -> list[BookingFact]:
    return [
        fact(
            patient_key=f"{name}-{m}",
            account_id=hash(name) % 10_000 + m % 2,
            phone_hash=f"{name}-phone",
            device_key=f"{name}-dev{m % 2}",
            ip_key=f"{name}-ip",
            wifi_key=f"{name}-wifi",
            payment_account_hash=f"{name}-card",
        )
        for m in range(members)
    ]


def ring_of(name: str) -> list[BookingFact]:
    return [
        fact(
            patient_key=f"{name}-{m}",
            account_id=90_000 + m // 2,
            device_key=f"{name}-farm{m % 2}",
            payment_account_hash=f"{name}-card",
            session_id=5,
        )
        for m in range(12)
        for _ in range(2)
    ]


def test_only_groups_bigger_than_a_household_go_to_the_graph() -> None:
    bookings = household("lin") + household("wu") + ring_of("farm")
    found = ring_input(bookings=bookings, bindings=[], settings=RingSettings())
    assert found.groups == 3 and found.candidates == 1
    assert found.patients == {f"farm-{m}" for m in range(12)}


def test_the_rings_flagged_from_the_candidates_are_those_of_the_whole_graph() -> None:
    # Strangers on one public Wi-Fi would glue everything together if it were not left out.
    strangers = [fact(wifi_key="hospital-wifi") for _ in range(30)]
    bookings = household("lin") + ring_of("farm") + strangers + household("wu", 5)
    bookings += [
        fact(patient_key="lin-0", account_id=bookings[0].account_id, wifi_key="hospital-wifi")
    ]
    bindings = [BindingFact(patient_key="farm-0", account_id=777, account_phone_hash="x")]
    sessions = [supply(session_id=5, occupied=10)]
    settings = RingSettings()

    def flagged(kept: set[str] | None, public: frozenset[str] = frozenset()) -> list[Any]:
        graph = build_graph(
            links(
                bookings=bookings,
                bindings=bindings,
                sessions=sessions,
                window=WINDOW,
                patients=kept,
                public_networks=public,
            )
        )
        return [r for r in rings(graph, settings) if r.flagged]

    candidates = ring_input(bookings=bookings, bindings=bindings, settings=settings)
    whole = flagged(None)
    assert whole and candidates.public_networks == {"hospital-wifi"}
    assert flagged(set(candidates.patients), candidates.public_networks) == whole


def request(patient: str, **overrides: Any) -> RequestFact:
    values: dict[str, Any] = {
        "patient_key": patient,
        "account_id": None,
        "device_key": None,
        "ip_key": None,
        "wifi_key": None,
        "payment_account_hash": None,
        "requests": 1,
        "flagged": 0,
    }
    values.update(overrides)
    return RequestFact(**values)


def test_requests_tie_identities_that_booked_nothing_into_one_candidate_group() -> None:
    # Three accounts of four identities each; only their devices link them, and none booked.
    requests = [
        request(f"bot-{m}", account_id=500 + m // 4, device_key=f"emu{m % 3}", flagged=1)
        for m in range(12)
    ]
    without = ring_input(bookings=household("lin"), bindings=[], settings=RingSettings())
    found = ring_input(
        bookings=household("lin"), bindings=[], requests=requests, settings=RingSettings()
    )
    assert without.candidates == 0
    assert found.candidates == 1
    assert found.patients == {f"bot-{m}" for m in range(12)}


def test_a_request_link_carries_its_identifiers_and_flagged_count() -> None:
    found = links(
        bookings=[],
        bindings=[],
        requests=[request("p-r", account_id=9, device_key="d", ip_key="1.2.3.4", flagged=2)],
        sessions=[],
        window=WINDOW,
    )
    assert [
        (x.account_id, x.device_key, x.ip_key, x.flagged_requests, x.booked) for x in found
    ] == [("9", "d", "1.2.3.4", 2, False)]


def test_a_network_crowded_only_in_requests_is_public() -> None:
    requests = [request(f"s{n}", ip_key="carrier-nat") for n in range(30)]
    found = ring_input(bookings=[], bindings=[], requests=requests, settings=RingSettings())
    assert found.public_networks == {"carrier-nat"}
    assert found.candidates == 0


# --- alerts -----------------------------------------------------------------------------------

PROTECTOR = Protector(data_key="test-data-key", hash_key="test-hash-key")


def hasher(value: str, purpose: str) -> str:
    return PROTECTOR.keyed_hash(value, purpose=purpose)


def hit(kind: EntityKind, key: str, **overrides: Any) -> Hit:
    values: dict[str, Any] = {
        "rule": RuleName.TRANSFER,
        "entity_kind": kind,
        "entity_key": key,
        "score": 1.0,
        "booking_ids": ("b1",),
        "explanation": "one transfer",
    }
    values.update(overrides)
    return Hit(**values)


def test_alert_keys_are_the_keys_a_blacklist_entry_would_be_stored_under() -> None:
    from fairslot.blacklist.keys import key_for
    from fairslot.blacklist.models import Scope

    # The rules see the stored keys (``context.py``) and alert on them as they are.
    ctx = edge_context(
        protector=PROTECTOR, actor="patient", device_id="IMEI-861234", ip="203.0.113.7"
    )
    assert ctx.device_key and ctx.ip_key
    labels = alerts.Labels()
    device = alerts.hit_alert(hit(EntityKind.DEVICE, ctx.device_key), hasher=hasher, labels=labels)
    network = alerts.hit_alert(
        hit(EntityKind.NETWORK, f"ip:{ctx.ip_key}"), hasher=hasher, labels=labels
    )
    account = alerts.hit_alert(hit(EntityKind.ACCOUNT, "42"), hasher=hasher, labels=labels)
    assert device.entity.key == key_for(Scope.DEVICE, "IMEI-861234", protector=PROTECTOR)
    assert network.entity.key == key_for(Scope.NETWORK, "203.0.113.7", protector=PROTECTOR)
    assert account.entity.key == key_for(Scope.ACCOUNT, "42", protector=PROTECTOR)
    assert [d.details["scope"] for d in (device, network, account)] == [
        "device",
        "network",
        "account",
    ]


def test_labels_show_nothing_personal_in_the_clear() -> None:
    ctx = edge_context(
        protector=PROTECTOR,
        actor="patient",
        device_id="IMEI-861234567",
        ip="203.0.113.7",
        wifi_id="HomeNet-Zhang",
    )
    assert ctx.device_key and ctx.ip_key and ctx.wifi_key and ctx.ip_label
    labels = alerts.Labels(
        patient_last4={"pkey": "002X"},
        payment_masked={"card": "62****1234"},
        ip_labels={ctx.ip_key: ctx.ip_label},
    )
    shown = [
        alerts.hit_alert(hit(kind, key), hasher=hasher, labels=labels).entity.label
        for kind, key in (
            (EntityKind.PATIENT, "pkey"),
            (EntityKind.DEVICE, ctx.device_key),
            (EntityKind.NETWORK, f"ip:{ctx.ip_key}"),
            (EntityKind.NETWORK, f"wifi:{ctx.wifi_key}"),
            (EntityKind.PAYMENT_ACCOUNT, "card"),
            (EntityKind.PHONE, "9f86d081884c7d65"),
        )
    ]
    assert shown == [
        "patient ****002X",
        f"device {ctx.device_key[:10]}…",
        "ip 203.0.113.x",
        f"wifi {ctx.wifi_key[:10]}…",
        "payment 62****1234",
        "phone …7d65",
    ]


def test_two_hits_of_one_rule_on_one_entity_become_one_alert_with_both_evidences() -> None:
    labels = alerts.Labels()
    first = alerts.hit_alert(
        hit(EntityKind.PAYMENT_ACCOUNT, "card", booking_ids=("b1", "b2"), score=1.2),
        hasher=hasher,
        labels=labels,
    )
    second = alerts.hit_alert(
        hit(EntityKind.PAYMENT_ACCOUNT, "card", booking_ids=("b3",), score=1.0),
        hasher=hasher,
        labels=labels,
    )
    [merged] = alerts.merged([first, second])
    assert merged.booking_ids == ("b1", "b2", "b3") and merged.score == 1.2
