"""Rings: groups linked by shared identifiers, judged as a whole. Pure: no database."""

from __future__ import annotations

import random
from dataclasses import replace

from fairslot.risk.rings import (
    Link,
    Ring,
    RingSettings,
    build_graph,
    public_networks,
    ring_id,
    rings,
)

# --- factories ---------------------------------------------------------------------------


def family(
    *,
    prefix: str = "fam",
    patients: int = 5,
    bookings_each: int = 1,
    scarce: bool = False,
    cancelled: bool = False,
    no_show: bool = False,
) -> list[Link]:
    """A household: two parents' accounts, one home phone, one home Wi-Fi behind one IP,
    one card paying for everyone, each person on their own phone app (own device)."""
    links: list[Link] = []
    for n in range(1, patients + 1):
        account = f"{prefix}-acc-mum" if n % 2 else f"{prefix}-acc-dad"
        for _ in range(bookings_each):
            links.append(
                Link(
                    patient_key=f"{prefix}-p{n}",
                    account_id=account,
                    phone_hash=f"{prefix}-phone",
                    device_key=f"{prefix}-dev-{account}",
                    ip_key=f"{prefix}-ip",
                    wifi_key=f"{prefix}-wifi",
                    payment_account_hash=f"{prefix}-card",
                    booked=True,
                    scarce=scarce,
                    cancelled_without_visit=cancelled,
                    no_show=no_show,
                )
            )
    return links


def ring(
    *,
    prefix: str = "ring",
    bookings_each: int = 3,
    scarce: bool = True,
    cancelled: bool = True,
    no_show: bool = False,
) -> list[Link]:
    """Twelve patients across six accounts, two devices (three accounts each), one payment
    account, each patient on a fresh phone number; two of every three bookings cancelled."""
    links: list[Link] = []
    for n in range(1, 13):
        account = (n + 1) // 2  # patients 1-2 on account 1, 3-4 on account 2, ...
        device = "A" if account <= 3 else "B"
        for b in range(bookings_each):
            links.append(
                Link(
                    patient_key=f"{prefix}-p{n}",
                    account_id=f"{prefix}-acc{account}",
                    phone_hash=f"{prefix}-phone{n}",
                    device_key=f"{prefix}-dev{device}",
                    ip_key=f"{prefix}-ip{account}",
                    payment_account_hash=f"{prefix}-pay",
                    booked=True,
                    scarce=scarce,
                    cancelled_without_visit=cancelled and b < 2,
                    no_show=no_show,
                )
            )
    return links


def strangers(count: int, *, network: str = "hospital-wifi") -> list[Link]:
    """Unrelated patients, each on their own account, phone and device, who all happen to
    book through one public network, each behaving badly on their own."""
    return [
        Link(
            patient_key=f"stranger-{n}",
            account_id=f"stranger-acc-{n}",
            phone_hash=f"stranger-phone-{n}",
            device_key=f"stranger-dev-{n}",
            wifi_key=network,
            booked=True,
            scarce=True,
            cancelled_without_visit=True,
        )
        for n in range(count)
    ]


def codes(group: Ring) -> set[str]:
    return {reason.code for reason in group.reasons}


# --- the graph ---------------------------------------------------------------------------


def test_build_graph_makes_one_typed_node_per_identifier() -> None:
    graph = build_graph(
        [
            Link(
                patient_key="p1",
                account_id="a1",
                phone_hash="h1",
                device_key="d1",
                ip_key="10.0.0.1",
                wifi_key="w1",
                payment_account_hash="pay1",
                booked=True,
            )
        ]
    )
    assert set(graph.nodes) == {
        ("patient", "p1"),
        ("account", "a1"),
        ("phone", "h1"),
        ("device", "d1"),
        ("network", "10.0.0.1"),
        ("network", "w1"),
        ("payment", "pay1"),
    }
    assert graph.nodes["device", "d1"]["kind"] == "device"
    assert graph.has_edge(("account", "a1"), ("payment", "pay1"))


def test_build_graph_counts_bookings_on_the_patient_and_bindings_count_nothing() -> None:
    graph = build_graph(
        [
            Link(patient_key="p1", account_id="a1"),  # a binding
            Link(patient_key="p1", account_id="a1", booked=True, scarce=True),
            Link(patient_key="p1", account_id="a1", booked=True, cancelled_without_visit=True),
            Link(patient_key="p1", account_id="a1", booked=True, no_show=True),
        ]
    )
    patient = graph.nodes["patient", "p1"]
    assert patient["bookings"] == 3
    assert patient["scarce"] == 1
    assert patient["cancelled_without_visit"] == 1
    assert patient["no_shows"] == 1
    assert graph.edges[("patient", "p1"), ("account", "a1")]["links"] == 4


def test_missing_and_empty_identifiers_make_no_node() -> None:
    graph = build_graph([Link(patient_key="p1", account_id="", phone_hash=None, ip_key="")])
    assert list(graph.nodes) == [("patient", "p1")]


# --- families ----------------------------------------------------------------------------


def test_a_family_sharing_one_phone_and_one_home_network_is_not_flagged() -> None:
    [group] = rings(build_graph(family()), RingSettings())

    assert len(group.patients) == 5
    assert group.accounts == ("fam-acc-dad", "fam-acc-mum")
    assert group.identifiers_of("phone") == ("fam-phone",)
    assert group.identifiers_of("network") == ("fam-ip", "fam-wifi")
    assert group.score == 0
    assert group.reasons == ()
    assert not group.flagged


def test_a_family_with_a_bad_week_is_still_not_flagged_as_a_ring() -> None:
    # Scarce bookings, cancelled, missed: the per-patient rules may catch that, but the
    # household's shape is ordinary, so it is not a ring however bad the behaviour.
    links = family(bookings_each=4, scarce=True, cancelled=True, no_show=True)
    [group] = rings(build_graph(links))

    assert codes(group) == {"scarce_share", "cancel_rate", "no_show_rate", "bookings_per_patient"}
    assert group.score >= RingSettings().flag_score
    assert not group.flagged


def test_two_families_are_two_groups_and_neither_is_flagged() -> None:
    found = rings(build_graph(family(prefix="a") + family(prefix="b")))

    assert [len(group.patients) for group in found] == [5, 5]
    assert not any(group.flagged for group in found)


# --- rings -------------------------------------------------------------------------------


def test_twelve_patients_on_six_accounts_sharing_two_devices_and_one_card_are_flagged() -> None:
    [group] = rings(build_graph(ring()))

    assert group.flagged
    assert len(group.patients) == 12
    assert len(group.accounts) == 6
    assert group.identifiers_of("device") == ("ring-devA", "ring-devB")
    assert group.identifiers_of("payment") == ("ring-pay",)
    assert (group.bookings, group.scarce, group.cancelled_without_visit) == (36, 36, 24)
    assert {
        "patients",
        "accounts",
        "patients_per_payment",
        "patients_per_device",
        "accounts_per_device",
        "accounts_per_payment",
        "scarce_share",
        "cancel_rate",
    } <= codes(group)
    assert group.score == sum(reason.points for reason in group.reasons)


def test_the_same_shape_booking_ordinarily_is_not_flagged() -> None:
    # A carer booking routine slots for a care home's residents looks wide but books normally.
    [group] = rings(build_graph(ring(bookings_each=1, scarce=False, cancelled=False)))

    assert "patients" in codes(group)
    assert group.score >= RingSettings().flag_score
    assert not {"scarce_share", "cancel_rate", "no_show_rate", "bookings_per_patient"} & codes(
        group
    )
    assert not group.flagged


def test_no_shows_count_against_a_ring() -> None:
    links = ring(bookings_each=1, scarce=False, cancelled=False, no_show=True)
    [group] = rings(build_graph(links))

    assert "no_show_rate" in codes(group)
    assert group.flagged


def test_behaviour_is_not_scored_on_too_few_bookings() -> None:
    links = [
        Link(patient_key=f"p{n}", payment_account_hash="card", booked=True, scarce=True)
        for n in range(4)
    ]
    [group] = rings(build_graph(links), RingSettings(min_bookings=5))

    assert group.reasons == ()
    assert group.score == 0


# --- machine pace: requests the gate flagged ---------------------------------------------


def grab_program(*, flagged_each: int = 1) -> list[Link]:
    """Grab software that lost the draw: ten identities on three accounts, six emulated
    devices rotated on every request, one booking between them. Only the gate's request
    records tie the accounts together; ``flagged_each`` of each identity's requests were
    flagged by the gate as faster than a person."""
    links = [
        Link(
            patient_key=f"bot-p{n}",
            account_id=f"bot-acc{n // 4}",
            device_key=f"bot-dev{(n + k) % 6}",
            ip_key=f"proxy{(n * 3 + k) % 12}",
            payment_account_hash=f"bot-pay{n // 4}",
            flagged_requests=flagged_each if k == 0 else 0,
        )
        for n in range(10)
        for k in range(3)
    ]
    links.append(Link(patient_key="bot-p0", account_id="bot-acc0", booked=True, scarce=True))
    return links


def test_a_wide_group_the_gate_flagged_is_a_ring_without_bookings() -> None:
    [group] = rings(build_graph(grab_program()))

    assert group.bookings == 1 and group.flagged_requests == 10
    assert "machine_pace" in codes(group)
    assert not {"scarce_share", "cancel_rate", "no_show_rate"} & codes(group)
    assert group.flagged


def test_the_same_wide_group_at_human_pace_is_not_flagged() -> None:
    [group] = rings(build_graph(grab_program(flagged_each=0)))

    assert "machine_pace" not in codes(group)
    assert not group.flagged


def test_machine_pace_counts_from_its_threshold() -> None:
    links = grab_program(flagged_each=0)
    links += [Link(patient_key="bot-p1", flagged_requests=1)] * 2

    [below] = rings(build_graph(links), RingSettings(flagged_requests=3))
    [at] = rings(build_graph(links), RingSettings(flagged_requests=2))

    assert "machine_pace" not in codes(below)
    assert "machine_pace" in codes(at)


def test_a_family_the_gate_flagged_is_still_not_a_ring() -> None:
    # A teenager's quick taps on the family phone: the shape is a household's, so no ring.
    links = [*family(), Link(patient_key="fam-p1", account_id="fam-acc-mum", flagged_requests=5)]
    [group] = rings(build_graph(links))

    assert codes(group) == {"machine_pace"}
    assert not group.flagged


# --- public networks ---------------------------------------------------------------------


def test_a_public_network_does_not_glue_strangers_into_one_ring() -> None:
    graph = build_graph(strangers(40))

    assert public_networks(graph) == [("network", "hospital-wifi")]
    assert rings(graph) == []


def test_without_the_cap_the_same_strangers_would_be_one_flagged_ring() -> None:
    # Proves the test above can fail: the cap is what keeps them apart.
    [group] = rings(build_graph(strangers(40)), RingSettings(max_network_patients=100))

    assert len(group.patients) == 40
    assert group.flagged


def test_a_network_at_the_threshold_still_links_its_patients() -> None:
    settings = RingSettings(max_network_patients=25)

    assert public_networks(build_graph(strangers(25)), settings) == []
    [group] = rings(build_graph(strangers(25)), settings)
    assert len(group.patients) == 25
    assert rings(build_graph(strangers(26)), settings) == []


def test_a_ring_behind_a_public_network_is_found_without_the_strangers() -> None:
    ring_on_wifi = [replace(link, wifi_key="hospital-wifi") for link in ring()]
    [group] = rings(build_graph(ring_on_wifi + strangers(40)))

    assert group.flagged
    assert len(group.patients) == 12
    assert "hospital-wifi" not in group.identifiers_of("network")


def test_a_lone_patient_is_not_a_group() -> None:
    links = [Link(patient_key="p1", account_id="a1", device_key="d1", booked=True)] * 10
    assert rings(build_graph(links)) == []


# --- determinism -------------------------------------------------------------------------


def test_output_does_not_depend_on_the_order_of_the_links() -> None:
    links = ring() + family() + family(prefix="other") + strangers(30)
    shuffled = list(links)
    random.Random(7).shuffle(shuffled)

    assert rings(build_graph(shuffled)) == rings(build_graph(links))


def test_rings_come_flagged_first_then_by_score_then_by_id() -> None:
    found = rings(
        build_graph(
            family() + ring() + ring(prefix="quiet", bookings_each=1, scarce=False, cancelled=False)
        )
    )

    assert [group.flagged for group in found] == [True, False, False]
    assert found[1].score >= found[2].score
    assert found[1].patients[0].startswith("quiet")


def test_ring_id_is_a_stable_hash_of_the_sorted_members() -> None:
    [group] = rings(build_graph(ring()))
    [again] = rings(build_graph(list(reversed(ring()))))
    [bigger] = rings(build_graph([*ring(), Link(patient_key="extra", account_id="ring-acc1")]))

    assert group.ring_id == again.ring_id == ring_id(reversed(group.members))
    assert len(group.ring_id) == 16
    assert bigger.ring_id != group.ring_id
