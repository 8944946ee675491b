"""Which identifiers a reviewer may block, and the keys they are stored under. No database."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from fairslot.blacklist.keys import key_for
from fairslot.blacklist.models import Scope
from fairslot.cases.candidates import (
    SCOPES,
    AccountFacts,
    AlertFacts,
    BookingFacts,
    CaseFacts,
    PersonFacts,
    derive,
    patients_to_call,
    ring_members,
)
from fairslot.cases.states import CASE_TRANSITIONS, CLOSED, CaseStatus, can_transition
from fairslot.crypto import Protector
from fairslot.followup import sampling
from fairslot.followup.states import CALL_TRANSITIONS, CallStatus
from fairslot.risk import alerts
from fairslot.risk.alerts import Entity
from fairslot.risk.rings import Link, RingSettings, build_graph, rings
from fairslot.risk.rules import EntityKind

PROTECTOR = Protector(data_key="unit-test-data-key", hash_key="unit-test-hash-key")
HASH = PROTECTOR.keyed_hash


def dev(raw: str) -> str:
    """A device id's stored key (``context.py``): what bookings and rules carry."""
    return key_for(Scope.DEVICE, raw, protector=PROTECTOR)


def net(raw: str) -> str:
    return key_for(Scope.NETWORK, raw, protector=PROTECTOR)


def person(pid: int) -> PersonFacts:
    return PersonFacts(
        patient_id=pid,
        id_hash=f"idhash{pid}",
        phone_hash=f"phonehash{pid}",
        id_masked="110***********002X",
        phone_masked="+86138****0001",
    )


def booking(n: int, *, patient: int, account: int = 7, **overrides) -> BookingFacts:
    values = {
        "booking_id": f"{n:08d}-4b1f-9c1e-8d7a-0c5e2f3a1b9d",
        "patient_id": patient,
        "account_id": account,
        "device_key": dev("grab-bot-7"),
        "ip_key": net("203.0.113.9"),
        "ip_label": "203.0.113.x",
        "wifi_key": None,
        "payment_account_hash": "payhash",
        "payment_account_masked": "62****1234",
    }
    values.update(overrides)
    return BookingFacts(**values)


def keys(found, scope: str) -> set[str]:
    return {c.key for c in found if c.scope == scope}


def test_the_scopes_are_the_blacklists_scopes() -> None:
    assert set(SCOPES) == {s.value for s in Scope}


def test_booking_identifiers_become_candidates_under_the_gates_keys() -> None:
    facts = CaseFacts(
        subject_kind="payment_account",
        subject_key="payhash",
        subject_label="62****1234",
        bookings=[booking(1, patient=1), booking(2, patient=2, wifi_key=net("wifi-home"))],
        people=[person(1), person(2)],
        accounts=[
            AccountFacts(account_id=7, phone_hash="loginhash", phone_masked="+86139****0002")
        ],
    )

    found = derive(facts, keyed_hash=HASH)

    assert keys(found, "patient") == {"idhash1", "idhash2"}
    assert keys(found, "phone") == {"phonehash1", "phonehash2", "loginhash"}
    assert keys(found, "account") == {"account:7"}
    assert keys(found, "device") == {HASH("grab-bot-7", purpose="device")}
    assert keys(found, "network") == {
        HASH("203.0.113.9", purpose="network"),
        HASH("wifi-home", purpose="network"),
    }
    assert keys(found, "payment") == {"payhash"}
    payment = next(c for c in found if c.scope == "payment")
    assert payment.sources == ("case subject", "booking 00000001", "booking 00000002")
    assert [c.scope for c in found] == sorted((c.scope for c in found), key=SCOPES.index)


def stored(kind: EntityKind, raw: str) -> Entity:
    """An entity as the batch stores it on an alert (and on a case's subject)."""
    return alerts.entity(kind, raw, hasher=_hasher, labels=alerts.Labels())


def _hasher(value: str, purpose: str) -> str:
    return HASH(value, purpose=purpose)


def test_each_identifier_is_one_candidate_with_every_place_it_was_seen() -> None:
    device = stored(EntityKind.DEVICE, dev("grab-bot-7"))
    facts = CaseFacts(
        subject_kind="device",
        subject_key=device.key,
        subject_label=device.label,
        alerts=[
            AlertFacts(
                alert_id=3, entity_kind="device", entity_key=device.key, entity_label=device.label
            )
        ],
        bookings=[booking(1, patient=1)],
        people=[person(1)],
    )
    found = derive(facts, keyed_hash=HASH)
    (candidate,) = [c for c in found if c.scope == "device"]
    assert candidate.key == key_for(Scope.DEVICE, "grab-bot-7", protector=PROTECTOR)
    assert candidate.sources == ("case subject", "alert 3", "booking 00000001")
    assert candidate.label == f"device {dev('grab-bot-7')[:10]}…"
    assert len(found) == len({(c.scope, c.key) for c in found})


def test_alert_keys_are_blocked_as_stored_and_never_hashed_again() -> None:
    ip = stored(EntityKind.NETWORK, "ip:" + net("198.51.100.4"))
    wifi = stored(EntityKind.NETWORK, "wifi:" + net("cafe-ap"))
    account = stored(EntityKind.ACCOUNT, "12")
    facts = CaseFacts(
        subject_kind="network",
        subject_key=ip.key,
        subject_label=ip.label,
        alerts=[
            AlertFacts(
                alert_id=1, entity_kind="network", entity_key=wifi.key, entity_label=wifi.label
            ),
            AlertFacts(
                alert_id=2,
                entity_kind="account",
                entity_key=account.key,
                entity_label=account.label,
            ),
        ],
    )
    found = derive(facts, keyed_hash=HASH)
    assert keys(found, "network") == {
        key_for(Scope.NETWORK, "198.51.100.4", protector=PROTECTOR),
        key_for(Scope.NETWORK, "cafe-ap", protector=PROTECTOR),
    }
    assert keys(found, "account") == {"account:12"}
    assert sorted(c.label.split()[0] for c in found if c.scope == "network") == ["ip", "wifi"]


def test_ring_members_are_candidates_under_the_gates_keys_and_their_patients_are_called() -> None:
    # The ring alert exactly as the batch writes it: members by stored key and masked label.
    links = [
        Link(
            patient_key=f"idhash{n}",
            account_id=str(10 + n // 3),
            phone_hash=f"phonehash{n}",
            device_key=dev("shared-tablet"),
            ip_key=net("10.1.2.3"),
            payment_account_hash="payhash2",
            flagged_requests=1,
        )
        for n in range(5, 12)
    ]
    [ring] = [r for r in rings(build_graph(links)) if r.flagged]
    draft = alerts.ring_alert(ring, settings=RingSettings(), hasher=_hasher, labels=alerts.Labels())
    facts = CaseFacts(
        subject_kind="ring",
        subject_key=ring.ring_id,
        subject_label=draft.entity.label,
        alerts=[
            AlertFacts(
                alert_id=9,
                entity_kind="ring",
                entity_key=ring.ring_id,
                entity_label=draft.entity.label,
                details=draft.details,
            )
        ],
        people=[
            person(5),
            PersonFacts(
                patient_id=60,
                id_hash="other",
                phone_hash="phonehash9",
                id_masked="m",
                phone_masked="p",
            ),
            PersonFacts(
                patient_id=80,
                id_hash="stranger",
                phone_hash="nobody",
                id_masked="m",
                phone_masked="p",
            ),
        ],
        payments={"payhash2": "62****9999"},
    )
    found = derive(facts, keyed_hash=HASH)
    assert keys(found, "patient") == {f"idhash{n}" for n in range(5, 12)}
    assert keys(found, "account") == {"account:11", "account:12", "account:13"}
    assert keys(found, "phone") == {f"phonehash{n}" for n in range(5, 12)}
    assert keys(found, "device") == {key_for(Scope.DEVICE, "shared-tablet", protector=PROTECTOR)}
    assert keys(found, "network") == {key_for(Scope.NETWORK, "10.1.2.3", protector=PROTECTOR)}
    assert [c.label for c in found if c.scope == "payment"] == ["62****9999"]
    assert "110***********002X" in [c.label for c in found if c.scope == "patient"]
    assert "shared-tablet" not in str([c.label for c in found])
    assert patients_to_call(facts) == [5, 60]  # by ID key, and by the ring's phone


def test_ring_members_are_read_from_the_rings_other_shapes_too() -> None:
    details = {
        "patients": ["p1"],
        "accounts": ["3"],
        "identifiers": [["phone", ["ph"]], ["device", []], ["network", ["1.2.3.4"]]],
    }
    assert ring_members(details) == [
        ("patient", "p1"),
        ("account", "3"),
        ("phone", "ph"),
        ("network", "1.2.3.4"),
    ]
    assert ring_members({"identifiers": {"payment": ["x"]}}) == [("payment", "x")]
    assert ring_members({"members": "not a list", "reasons": [1, 2]}) == []


def test_a_family_case_offers_nothing_it_does_not_contain() -> None:
    facts = CaseFacts(
        subject_kind="patient",
        subject_key="idhash1",
        subject_label="x",
        bookings=[booking(1, patient=1, device_key=None, ip_key=None, payment_account_hash=None)],
        people=[person(1)],
    )
    found = derive(facts, keyed_hash=HASH)
    assert {c.scope for c in found} == {"patient", "phone", "account"}
    assert patients_to_call(facts) == [1]


def test_the_case_table_allows_only_the_review_moves() -> None:
    assert can_transition(CaseStatus.OPEN, CaseStatus.IN_REVIEW)
    assert not can_transition(CaseStatus.OPEN, CaseStatus.CONFIRMED)  # never decided untaken
    assert not can_transition(CaseStatus.AWAITING_CALL, CaseStatus.CONFIRMED)
    assert can_transition(CaseStatus.AWAITING_CALL, CaseStatus.OPEN)
    for closed in CLOSED:
        assert CASE_TRANSITIONS[closed] == frozenset()
    assert CALL_TRANSITIONS[CallStatus.DONE] == frozenset()


def test_the_sample_day_is_the_local_day() -> None:
    start, end = sampling.day_window(date(2026, 11, 22), tz="Asia/Shanghai")
    assert (start, end) == (
        datetime(2026, 11, 21, 16, 0, tzinfo=UTC),
        datetime(2026, 11, 22, 16, 0, tzinfo=UTC),
    )


def test_the_sample_size_rounds_up_and_respects_the_limit() -> None:
    assert sampling.sample_size(50, rate=0.01, limit=200) == 1
    assert sampling.sample_size(30_000, rate=0.01, limit=200) == 200
    assert sampling.sample_size(0, rate=0.01, limit=200) == 0
    assert sampling.sample_size(10, rate=0.0, limit=200) == 0


def test_choosing_again_over_the_same_day_adds_nothing() -> None:
    population = [f"b{i:03d}" for i in range(100)]
    first = sampling.choose(population, already=(), rate=0.05, limit=10, rng=random.Random(1))
    assert len(first) == 5 and set(first) <= set(population)
    assert (
        sampling.choose(population, already=first, rate=0.05, limit=10, rng=random.Random(2)) == []
    )
    bigger = [*population, *(f"c{i:03d}" for i in range(100))]
    more = sampling.choose(bigger, already=first, rate=0.05, limit=10, rng=random.Random(3))
    assert len(more) == 5 and not set(more) & set(first)
