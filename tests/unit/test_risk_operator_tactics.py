"""The operator rules against the tactics that lost (issue 11): grab software rotating its
devices over two accounts, a hired wave paid by its organiser, a radar rotating its
devices — and the people who must not be flagged: a family on one tablet, card and home
network, a grandparent's second account on the same tablet, a daughter paying for her
parents, and a carrier address shared by hundreds of strangers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fairslot.risk.facts import RiskSettings
from fairslot.risk.operators import (
    SCARCE_FUNDING_ACCOUNTS,
    ActFact,
    PollFact,
    ScarceEntry,
    Trace,
    availability_polling,
    device_across_accounts,
    machine_pace,
    payment_across_accounts,
    run_operator_rules,
)
from fairslot.risk.operators import _whole_accounts as _whole_accounts
from fairslot.risk.rules import EntityKind, RuleName, window_ending

SETTINGS = RiskSettings()
T0 = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)


def trace(patient: str, account: int, **overrides: Any) -> Trace:
    fields: dict[str, Any] = {
        "patient_key": patient,
        "account_id": account,
        "device_key": f"dev-{account}",
        "wifi_key": f"wifi-{account}",
        "payment_account_hash": f"pay-{account}",
    }
    return Trace(**(fields | overrides))


def family(account: int, size: int = 4, **overrides: Any) -> list[Trace]:
    return [trace(f"fam{account}-{n}", account, **overrides) for n in range(size)]


def poll(device: str, polls: int, minutes: float, start: datetime = T0) -> PollFact:
    return PollFact(
        device_key=device, polls=polls, first_at=start, last_at=start + timedelta(minutes=minutes)
    )


# grab software: two accounts of four prepared identities, three devices in rotation ------


def grab_software() -> list[Trace]:
    devices = ("bot-a", "bot-b", "bot-c")
    return [
        trace(f"g-{a}{n}", 70 + a, device_key=devices[(a * 4 + n + k) % 3])
        for a in range(2)
        for n in range(4)
        for k in range(3)  # every identity's requests went out through every device
    ]


def test_devices_acting_for_more_patients_than_a_household_are_grab_software() -> None:
    hits = device_across_accounts(grab_software(), settings=SETTINGS)
    assert [h.entity_key for h in hits] == ["bot-a", "bot-b", "bot-c"]
    for hit in hits:
        assert hit.rule is RuleName.DEVICE_ACROSS_ACCOUNTS
        # 8 patients of 2 accounts: under the accounts threshold, over a household
        assert (hit.figure, hit.threshold, hit.more_than) == (8, 5, True)
        assert hit.score == 1.33
        assert len([m for m in hit.members if m[0] is EntityKind.PATIENT]) == 8


def test_a_family_of_four_on_one_tablet_card_and_home_network_is_not_flagged() -> None:
    household = family(1, size=4, device_key="tablet", wifi_key="home", payment_account_hash="card")
    assert device_across_accounts(household, settings=SETTINGS) == []
    assert payment_across_accounts(household, settings=SETTINGS) == []


def test_a_grandparents_second_account_on_the_family_tablet_is_not_flagged() -> None:
    # four in the parents' account, the grandparents' account of one more: five patients
    tablet = family(1, size=4, device_key="tablet") + family(2, size=1, device_key="tablet")
    assert device_across_accounts(tablet, settings=SETTINGS) == []


def test_a_carrier_address_shared_by_hundreds_of_strangers_links_nobody() -> None:
    # every rule here reads devices and payment accounts; an address is what strangers share
    strangers = [trace(f"p{n}", 100 + n, wifi_key=None) for n in range(300)]
    nat = [trace(t.patient_key, t.account_id or 0, wifi_key="carrier-nat") for t in strangers]
    assert device_across_accounts(nat, settings=SETTINGS) == []
    assert payment_across_accounts(nat, settings=SETTINGS) == []
    polls = [poll(f"dev-{100 + n}", 12, 30) for n in range(300)]
    assert availability_polling(polls, nat, settings=SETTINGS) == []


# a hired wave: each worker's own phone and device, the organiser's money ------------------


def wave(workers: int, *, organiser: str = "pay-org") -> tuple[list[Trace], list[ScarceEntry]]:
    found = [trace(f"w{n}", 200 + n, payment_account_hash=organiser) for n in range(workers)]
    entries = [
        ScarceEntry(payment_account_hash=organiser, account_id=200 + n, patient_key=f"w{n}")
        for n in range(workers)
    ]
    return found, entries


def test_an_organiser_buying_draw_entries_for_four_strangers_weighs_double() -> None:
    found, entries = wave(SCARCE_FUNDING_ACCOUNTS)
    (hit,) = payment_across_accounts(found, settings=SETTINGS, scarce_entries=entries)
    assert (hit.entity_kind, hit.entity_key, hit.figure) == (
        EntityKind.PAYMENT_ACCOUNT,
        "pay-org",
        4,
    )
    assert hit.score == 2.67  # 2 x 4 accounts / threshold 3
    assert "draw entries or waitlist places" in hit.explanation
    # the same payments for ordinary visits: a case to look at, not double weight
    (plain,) = payment_across_accounts(found, settings=SETTINGS)
    assert plain.score == 1.33


def test_a_daughter_paying_for_both_parents_draw_entries_is_not_double_weight() -> None:
    # herself and each parent in an account of their own: three accounts, one card
    found, entries = wave(3, organiser="pay-daughter")
    (hit,) = payment_across_accounts(found, settings=SETTINGS, scarce_entries=entries)
    assert hit.score == 1.0  # a case at its threshold, which a reviewer alone dismisses


def test_scarce_entries_paid_by_another_card_do_not_weigh_on_this_one() -> None:
    found, _ = wave(4)
    elsewhere = [
        ScarceEntry(payment_account_hash="pay-other", account_id=200 + n, patient_key=f"w{n}")
        for n in range(4)
    ]
    (hit,) = payment_across_accounts(found, settings=SETTINGS, scarce_entries=elsewhere)
    assert hit.score == 1.33


# a slot radar rotating its devices ---------------------------------------------------------


def test_a_radar_rotating_two_devices_of_one_account_is_counted_as_one() -> None:
    acted = [trace("radar-1", 30, device_key="r-a"), trace("radar-2", 30, device_key="r-b")]
    # 80 polls each over 50 minutes: under the count per device, 160 together, 19 s apart
    polls = [poll("r-a", 80, 50), poll("r-b", 80, 50)]
    hits = availability_polling(polls, acted, settings=SETTINGS)
    assert [(h.entity_key, h.figure) for h in hits] == [("r-a", 160), ("r-b", 160)]
    assert "from 2 devices of one account" in hits[0].explanation
    assert {m for h in hits for m in h.members} == {
        (EntityKind.ACCOUNT, "30"),
        (EntityKind.PATIENT, "radar-1"),
        (EntityKind.PATIENT, "radar-2"),
    }


def test_two_phones_of_a_family_refreshing_now_and_then_are_not_a_radar() -> None:
    acted = family(1, size=2, device_key="phone-a") + family(1, size=2, device_key="phone-b")
    # an hour of looking again every few minutes, both phones: 40 polls
    polls = [poll("phone-a", 20, 60), poll("phone-b", 20, 60)]
    assert availability_polling(polls, acted, settings=SETTINGS) == []


def test_strangers_devices_are_not_pooled() -> None:
    acted = [trace("a", 1, device_key="d1"), trace("b", 2, device_key="d2")]
    polls = [poll("d1", 80, 50), poll("d2", 80, 50)]
    assert availability_polling(polls, acted, settings=SETTINGS) == []


# machine pace: many patients' requests inside one human step ------------------------------


def act(
    seconds: float, patient: str, account: int | None = 70, device: str | None = "bot-a"
) -> ActFact:
    return ActFact(
        at=T0 + timedelta(seconds=seconds),
        account_id=account,
        device_key=device,
        patient_key=patient,
    )


def test_draw_entries_of_two_accounts_fired_at_once_from_one_device_are_a_script() -> None:
    burst = [act(0.05 * n, f"g-{n}", account=70 + n % 2) for n in range(4)]
    (hit,) = machine_pace(burst)
    assert (hit.rule, hit.entity_kind, hit.entity_key) == (
        RuleName.MACHINE_PACE,
        EntityKind.DEVICE,
        "bot-a",
    )
    assert (hit.figure, hit.threshold, hit.score) == (4, 3, 1.33)
    assert {k for kind, k in hit.members if kind is EntityKind.PATIENT} == {
        f"g-{n}" for n in range(4)
    }
    assert {k for kind, k in hit.members if kind is EntityKind.ACCOUNT} == {"70", "71"}


def test_a_family_entering_all_members_with_one_tap_is_one_account_not_a_script() -> None:
    one_tap = [act(0.01 * n, f"fam-{n}", device="tablet") for n in range(4)]
    assert machine_pace(one_tap) == []


def test_a_grandparents_account_on_the_family_tablet_at_a_persons_pace_is_not_a_script() -> None:
    # the parents' account, then the grandparents', a form at a time
    entries = [
        act(4.0 * n, f"fam-{n}", account=1 if n < 2 else 2, device="tablet") for n in range(4)
    ]
    assert machine_pace(entries) == []


def test_two_accounts_tapped_twice_is_under_the_burst() -> None:
    taps = [act(0.2, "a", account=1, device="phone"), act(0.4, "b", account=2, device="phone")]
    assert machine_pace(taps) == []


def test_strangers_at_the_release_instant_are_not_one_burst() -> None:
    # a hundred patients of a hundred accounts and phones, all in the same second
    crowd = [act(0.01 * n, f"p{n}", account=1000 + n, device=f"phone-{n}") for n in range(100)]
    assert machine_pace(crowd) == []


def test_an_alert_naming_an_account_names_all_its_patients_seen_elsewhere_too() -> None:
    # the operator's account 70 acted for g-0..g-3; only g-0..g-2 fired from this device
    seen = [trace(f"g-{n}", 70, device_key="other-device") for n in range(4)]
    burst = [act(0.05 * n, f"g-{n}", account=70 + (n == 2)) for n in range(3)]
    (hit,) = [
        h
        for h in run_operator_rules(
            bookings=[],
            requests=[],
            polls=[],
            blacklisted_patients=(),
            window=window_ending(date(2026, 11, 22), settings=SETTINGS),
            settings=SETTINGS,
            acts=burst,
        )
        if h.rule is RuleName.MACHINE_PACE
    ]
    assert {k for kind, k in hit.members if kind is EntityKind.PATIENT} == {"g-0", "g-1", "g-2"}
    (widened,) = _whole_accounts([hit], seen)
    assert {k for kind, k in widened.members if kind is EntityKind.PATIENT} == {
        "g-0",
        "g-1",
        "g-2",
        "g-3",
    }
