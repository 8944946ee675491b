"""The pre-draw screening rules (allocation/screening.py), without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from fairslot.allocation import screening
from fairslot.allocation.screening import EntrantFacts, ScreeningSettings, screen

NOW = datetime(2026, 12, 6, 0, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=400)


def entrant(n: int, **overrides: object) -> EntrantFacts:
    """An ordinary entrant: own account, device, network and payment account, a patient
    with a history, bound long ago."""
    values: dict[str, object] = {
        "intent_id": f"i{n:03d}",
        "patient_key": f"patient-{n}",
        "account_id": 1000 + n,
        "device_key": f"device-{n}",
        "ip_key": f"ip-{n}",
        "wifi_key": f"wifi-{n}",
        "payment_key": f"pay-{n}",
        "entered_at": NOW - timedelta(hours=1),
        "bound_at": LONG_AGO,
        "account_bindings": (LONG_AGO,),
        "patient_since": LONG_AGO,
        "past_bookings": 3,
    }
    values.update(overrides)
    return EntrantFacts(**values)  # type: ignore[arg-type]


def family(first: int, size: int, *, account: int = 1, **overrides: object) -> list[EntrantFacts]:
    """One account booking for itself and relatives from one phone, one device, one home
    network and one payment account, all bound within minutes."""
    shared: dict[str, object] = {
        "account_id": account,
        "device_key": f"family-device-{account}",
        "ip_key": f"home-ip-{account}",
        "wifi_key": f"home-wifi-{account}",
        "payment_key": f"family-pay-{account}",
        "account_bindings": tuple(LONG_AGO + timedelta(minutes=m) for m in range(size)),
    }
    shared.update(overrides)
    return [entrant(first + k, **shared) for k in range(size)]


def held(entrants: list[EntrantFacts], **kwargs: object) -> dict[str, tuple[str, ...]]:
    return screen(entrants, now=NOW, **kwargs).held  # type: ignore[arg-type]


def test_strangers_are_not_held() -> None:
    assert held([entrant(n) for n in range(20)]) == {}


@pytest.mark.parametrize("size", [2, 3, 4, 5])
def test_a_family_on_one_account_phone_and_home_network_is_not_held(size: int) -> None:
    crowd = family(1, size) + [entrant(n) for n in range(50, 60)]
    assert held(crowd) == {}


def test_a_new_family_binding_four_relatives_at_once_is_not_held() -> None:
    # New to the platform (no history) and all relatives bound within a minute: a family.
    just_now = NOW - timedelta(hours=2)
    members = family(
        1,
        5,
        account_bindings=tuple(just_now + timedelta(seconds=10 * k) for k in range(5)),
        bound_at=just_now,
        patient_since=just_now,
        past_bookings=0,
    )
    assert held(members) == {}


def test_two_families_of_one_household_on_two_accounts_are_not_held() -> None:
    # Husband and wife, each with an account, the same device, payment card and home.
    both = family(1, 3, account=1) + family(
        4,
        2,
        account=2,
        device_key="family-device-1",
        payment_key="family-pay-1",
        ip_key="home-ip-1",
        wifi_key="home-wifi-1",
    )
    assert held(both) == {}


def test_strangers_behind_one_carrier_address_are_not_held() -> None:
    # A carrier's NAT: thirty unrelated people, each with own account and device.
    crowd = [entrant(n, ip_key="carrier-nat") for n in range(30)]
    decided = screen(crowd, now=NOW)
    assert decided.held == {}
    assert "carrier-nat" in decided.public_networks


def test_strangers_on_a_known_public_wifi_are_not_held_even_when_few() -> None:
    crowd = [entrant(n, wifi_key="hospital-wifi") for n in range(4)]
    assert held(crowd, known_public_networks={"hospital-wifi"}) == {}


def test_a_private_network_alone_never_holds_anyone() -> None:
    # Six flatmates, each with own account, device and card, on one home network.
    crowd = [entrant(n, wifi_key="flat-wifi", ip_key="flat-ip") for n in range(6)]
    assert held(crowd) == {}


def test_a_public_address_does_not_glue_a_family_to_strangers() -> None:
    crowd = family(1, 4, ip_key="carrier-nat") + [
        entrant(n, ip_key="carrier-nat") for n in range(10, 30)
    ]
    assert held(crowd) == {}


def ring_of_six() -> list[EntrantFacts]:
    """Six accounts, one patient each, on two phones, one payment account and one address."""
    return [
        entrant(
            n,
            device_key="grab-phone-a" if n % 2 else "grab-phone-b",
            payment_key="broker-pay",
            ip_key="broker-ip",
            wifi_key=None,
        )
        for n in range(1, 7)
    ]


def test_a_ring_of_six_accounts_on_two_devices_and_one_payment_account_is_held() -> None:
    ring = ring_of_six()
    decided = screen(ring + [entrant(n) for n in range(20, 30)], now=NOW)
    assert sorted(decided.held) == [e.intent_id for e in ring]
    reasons = decided.held["i001"]
    assert screening.RING_SHARED_DEVICE in reasons
    assert screening.RING_SHARED_PAYMENT in reasons
    assert screening.RING_SIZE in reasons
    assert screening.RING_SHARED_NETWORK in reasons
    (found,) = decided.rings
    assert found.accounts == 6 and found.patients == 6
    assert {decided.decisions[e.intent_id].ring for e in ring} == {found.ring_id}


def test_one_device_used_by_three_accounts_is_a_ring() -> None:
    ring = [entrant(n, device_key="shared-phone") for n in range(1, 4)]
    assert {r for rs in held(ring).values() for r in rs} == {screening.RING_SHARED_DEVICE}


def test_one_payment_account_paying_for_unrelated_patients_is_a_ring() -> None:
    # Three accounts, their own devices and networks, one payment account.
    ring = [entrant(n, payment_key="wave-pay") for n in range(1, 4)]
    assert set(held(ring)) == {"i001", "i002", "i003"}
    assert held(ring)["i002"] == (screening.RING_SHARED_PAYMENT,)


def test_one_payment_account_for_more_patients_than_a_household_is_a_ring() -> None:
    # Two accounts only, but the card pays for seven patients.
    ring = [entrant(n, payment_key="proxy-pay", account_id=1 + n % 2) for n in range(7)]
    assert len(held(ring)) == 7


def test_a_ring_glued_by_a_private_network_is_held_for_its_size() -> None:
    # Pairs of accounts share a device; the pairs are joined by one home network.
    ring = [
        entrant(n, device_key=f"pair-{n // 2}", ip_key="broker-home", wifi_key=None)
        for n in range(6)
    ]
    assert all(screening.RING_SIZE in r for r in held(ring).values())
    assert len(held(ring)) == 6


def test_two_accounts_rotating_shared_devices_over_eight_patients_are_a_ring() -> None:
    # Grab software: two accounts of four prepared identities each, every request from the
    # next of three devices and four proxy addresses, a payment account per account. No
    # device serves more than two accounts or five patients, but the accounts they tie
    # together enter eight patients: more than a household has.
    ring = [
        entrant(
            n,
            account_id=1 + n // 4,
            device_key=f"bot-{n % 3}",
            ip_key=f"proxy-{(n * 7) % 4}",
            wifi_key=None,
            payment_key=f"bot-pay-{n // 4}",
        )
        for n in range(8)
    ]
    decided = screen(ring + [entrant(n) for n in range(20, 40)], now=NOW)
    assert sorted(decided.held) == sorted(e.intent_id for e in ring)
    assert all(screening.RING_SIZE in r for r in decided.held.values())
    # Each phone crosses the two accounts: three witnesses. Each account's own card pays
    # for its four patients only, as a family's would: no witness.
    (found,) = decided.rings
    assert found.witnesses == (("device", "bot-0"), ("device", "bot-1"), ("device", "bot-2"))


def test_a_ring_names_as_witnesses_what_ties_it_beyond_a_household() -> None:
    ring = ring_of_six()
    (found,) = screen(ring, now=NOW).rings
    assert found.witnesses == (
        ("device", "grab-phone-a"),
        ("device", "grab-phone-b"),
        ("payment", "broker-pay"),
    )


def test_a_couples_tablet_glued_to_a_ring_by_their_home_network_is_no_witness() -> None:
    # A couple's two accounts share a tablet and a card (three patients); an operator's
    # three accounts share a phone, and one of its entries came over the couple's Wi-Fi.
    couple = family(1, 2, account=1, wifi_key="home-wifi") + family(
        3,
        1,
        account=2,
        device_key="family-device-1",
        payment_key="family-pay-1",
        wifi_key="home-wifi",
    )
    operator = [entrant(n, device_key="operator-phone") for n in range(10, 13)]
    operator[0] = replace(operator[0], wifi_key="home-wifi")
    (found,) = screen(couple + operator, now=NOW).rings
    assert found.witnesses == (("device", "operator-phone"),)


def test_a_family_tablet_inside_a_ring_is_no_witness() -> None:
    # A family of three on one account, tablet and card, glued by a private network to a
    # ring of three accounts on one phone: the phone is a witness, the family's things not.
    ring = [entrant(n, device_key="shared-phone", ip_key="broker-home") for n in range(1, 4)]
    kin = family(10, 3, account=7, ip_key="broker-home")
    (found,) = screen(ring + kin, now=NOW).rings
    assert found.witnesses == (("device", "shared-phone"),)


def test_two_accounts_of_one_household_entering_five_patients_are_not_held() -> None:
    # A couple's two accounts on one tablet and one card, five patients between them.
    both = family(1, 3, account=1) + family(
        4, 2, account=2, device_key="family-device-1", payment_key="family-pay-1"
    )
    assert held(both + [entrant(n) for n in range(20, 30)]) == {}


def test_the_same_ring_behind_a_public_address_is_not_glued() -> None:
    ring = [entrant(n, device_key=f"pair-{n // 2}", ip_key="nat", wifi_key=None) for n in range(6)]
    assert held(ring, known_public_networks={"nat"}) == {}


def test_an_account_entering_more_patients_than_a_household_is_held() -> None:
    proxy = family(1, 6)
    decided = held(proxy)
    assert len(decided) == 6
    assert all(screening.ACCOUNT_FANOUT in r for r in decided.values())


def test_a_blacklisted_entrant_is_held_alone() -> None:
    decided = held([entrant(1, blacklisted=True), entrant(2)])
    assert decided == {"i001": (screening.BLACKLISTED,)}


def test_an_entrant_with_an_open_case_is_held_with_the_case() -> None:
    decided = screen([entrant(1, open_cases=(7, 3)), entrant(2)], now=NOW)
    assert decided.held == {"i001": (screening.OPEN_CASE,)}
    assert decided.decisions["i001"].case_ids == (3, 7)


def test_one_supporting_signal_alone_holds_nobody() -> None:
    new = entrant(1, past_bookings=0, patient_since=NOW - timedelta(days=1))
    fast = entrant(2, bound_at=NOW - timedelta(hours=1, seconds=2))
    burst = entrant(3, account_bindings=tuple(NOW - timedelta(minutes=m) for m in range(6)))
    decided = screen([new, fast, burst], now=NOW)
    assert decided.held == {}
    assert decided.decisions["i001"].reasons == (screening.NO_HISTORY,)
    assert decided.decisions["i002"].reasons == (screening.FAST_PACE,)
    assert decided.decisions["i003"].reasons == (screening.BINDING_BURST,)


def test_a_newcomer_bound_and_entered_at_once_is_not_held() -> None:
    entered = NOW - timedelta(hours=1)
    newcomer = entrant(
        1,
        past_bookings=0,
        patient_since=entered - timedelta(seconds=1),
        bound_at=entered - timedelta(seconds=1),
        account_bindings=(entered - timedelta(seconds=1),),
        entered_at=entered,
    )
    decided = screen([newcomer], now=NOW)
    assert decided.held == {}
    assert decided.decisions["i001"].reasons == (screening.FAST_PACE, screening.NO_HISTORY)


def test_a_new_identity_bound_in_a_burst_and_entered_at_once_is_held() -> None:
    entered = NOW - timedelta(hours=1)
    prepared = entrant(
        1,
        past_bookings=0,
        patient_since=entered - timedelta(minutes=2),
        bound_at=entered - timedelta(seconds=1),
        account_bindings=tuple(entered - timedelta(seconds=20 * k) for k in range(6)),
        entered_at=entered,
    )
    assert held([prepared]) == {
        "i001": (screening.BINDING_BURST, screening.FAST_PACE, screening.NO_HISTORY)
    }


def test_a_patient_registered_long_ago_without_bookings_has_history_enough() -> None:
    assert screen([entrant(1, past_bookings=0)], now=NOW).decisions["i001"].reasons == ()


def test_the_thresholds_are_settings() -> None:
    pair = [entrant(n, device_key="shared") for n in range(1, 3)]
    assert held(pair) == {}
    strict = ScreeningSettings(household_accounts=1)
    assert len(held(pair, settings=strict)) == 2


def test_the_decisions_do_not_depend_on_the_order_of_the_entrants() -> None:
    crowd = [entrant(n, device_key="d" if n < 4 else None) for n in range(10)]
    assert screen(crowd, now=NOW) == screen(list(reversed(crowd)), now=NOW)


def test_an_entry_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        screen([entrant(1), entrant(1)], now=NOW)


def test_a_burst_counts_events_within_the_window() -> None:
    times = [NOW, NOW + timedelta(minutes=30), NOW + timedelta(minutes=61), NOW]
    assert screening.burst(times, window=timedelta(hours=1)) == 3
    assert screening.burst([], window=timedelta(hours=1)) == 0


def test_the_ring_id_does_not_depend_on_the_order_of_its_entries() -> None:
    assert screening.ring_id(["b", "a"]) == screening.ring_id(["a", "b"])
    assert screening.ring_id(["a", "b"]) != screening.ring_id(["a", "c"])


def test_a_missing_identifier_links_nothing() -> None:
    crowd = [replace(entrant(n), device_key=None, payment_key=None) for n in range(10)]
    assert held(crowd) == {}
