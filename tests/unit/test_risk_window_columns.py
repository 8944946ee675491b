"""The window's counts over columns (``risk/window_columns.py``), without a database: the
suspects they let through, and the ones they must not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import numpy as np

from fairslot.risk.facts import RiskSettings
from fairslot.risk.ring_groups import DEVICE, NETWORK, PAYMENT, PHONE, hashed
from fairslot.risk.window_columns import (
    BOOKED,
    NONE,
    TAKEN,
    ActorColumns,
    Keyed,
    Members,
    WindowColumns,
    distinct_counts,
    operator_suspects,
    read_bindings,
    rule_suspect_patients,
    synchrony_accounts,
)

SETTINGS = RiskSettings()
BOOKED_NOW = BOOKED | TAKEN


def window(rows: Sequence[Mapping[str, object]]) -> WindowColumns:
    def ints(name: str, default: int = NONE) -> np.ndarray:
        return np.array([r.get(name, default) for r in rows], dtype=np.int64)

    def keys(name: str, kind: int) -> Keyed:
        return Keyed.of([r.get(name) for r in rows], kind)  # type: ignore[misc]

    return WindowColumns(
        patient=ints("patient"),
        account=ints("account"),
        department=ints("department", 1),
        session=ints("session", 1),
        flags=ints("flags", BOOKED_NOW),
        taken_at=np.array([r.get("at", 0.0) for r in rows], dtype=np.float64),
        cancelled_at=np.zeros(len(rows), dtype=np.float64),
        channel=ints("channel"),
        payment=keys("payment", PAYMENT),
        device=keys("device", DEVICE),
        phone=keys("phone", PHONE),
        ip=keys("ip", NETWORK),
        wifi=keys("wifi", NETWORK),
    )


def no_requests() -> ActorColumns:
    empty = np.zeros(0, dtype=np.int64)
    return ActorColumns(
        patient=empty,
        account=empty,
        channel=empty,
        payment=Keyed.of((), PAYMENT),
        device=Keyed.of((), DEVICE),
        ip=Keyed.of((), NETWORK),
        wifi=Keyed.of((), NETWORK),
    )


def test_distinct_counts_count_each_value_once() -> None:
    keys, counts = distinct_counts(np.array([7, 7, 7, 3]), np.array([1, 1, 2, 9]))
    assert keys.tolist() == [3, 7]
    assert counts.tolist() == [1, 2]


def test_two_accounts_side_by_side_on_enough_sessions_are_both_suspects() -> None:
    rows = []
    for session in range(SETTINGS.synchrony_sessions):
        rows.append({"patient": 1, "account": 10, "session": session, "at": 1000.0 * session})
        rows.append({"patient": 2, "account": 20, "session": session, "at": 1000.0 * session + 2})
    assert synchrony_accounts(window(rows), SETTINGS).tolist() == [10, 20]
    assert synchrony_accounts(window(rows[:-2]), SETTINGS).tolist() == []


def test_acts_further_apart_than_the_gap_are_no_synchrony() -> None:
    gap = SETTINGS.synchrony_gap + timedelta(seconds=1)
    rows = []
    for session in range(SETTINGS.synchrony_sessions):
        rows.append({"patient": 1, "account": 10, "session": session, "at": 0.0})
        rows.append({"patient": 2, "account": 20, "session": session, "at": gap.total_seconds()})
    assert synchrony_accounts(window(rows), SETTINGS).tolist() == []


def test_a_device_for_more_patients_than_a_household_makes_them_all_suspects() -> None:
    limit = SETTINGS.shared_device_patients
    rows: list[dict[str, object]] = [
        {"patient": p, "account": 100 + p, "device": "farm"} for p in range(limit + 1)
    ]
    rows.append({"patient": 99, "account": 199, "device": "phone-of-99"})
    found = rule_suspect_patients(window(rows), SETTINGS)
    assert found.tolist() == list(range(limit + 1))
    assert rule_suspect_patients(window(rows[1:]), SETTINGS).tolist() == []


def test_a_staffed_terminal_links_no_accounts_for_the_operator_rules() -> None:
    rows: list[dict[str, object]] = [
        {"patient": p, "account": 100 + p, "device": "desk", "channel": 7}
        for p in range(SETTINGS.device_accounts)
    ]
    staffed = operator_suspects(window(rows), no_requests(), SETTINGS, staffed=[7])
    assert staffed.patients.size == 0
    assert not staffed.chosen(payment=None, device="desk")
    found = operator_suspects(window(rows), no_requests(), SETTINGS, staffed=[])
    assert found.patients.tolist() == [0, 1, 2]
    assert found.chosen(payment=None, device="desk")


def test_the_operator_suspects_are_the_bookings_of_a_busy_card_and_only_those() -> None:
    rows: list[dict[str, object]] = [
        {"patient": p, "account": 100 + p, "payment": "broker-card"}
        for p in range(max(SETTINGS.payment_accounts, SETTINGS.payment_patients))
    ]
    # One of the card's patients also booked with a card of their own.
    rows.append({"patient": 0, "account": 100, "payment": "own-card"})
    rows.append({"patient": 50, "account": 150, "payment": "other-card"})
    found = operator_suspects(window(rows), no_requests(), SETTINGS, staffed=[])
    assert found.patients.tolist() == list(range(len(rows) - 2))
    assert found.chosen(payment="broker-card", device=None)
    # The patient's other booking is read with theirs, but is not one of the card's.
    assert not found.chosen(payment="own-card", device=None)
    assert not found.chosen(payment=None, device=None)


def test_the_bindings_read_are_those_of_the_windows_patients_and_accounts() -> None:
    w = window([{"patient": 1, "account": 10}, {"patient": 2}])
    patient = np.array([1, 2, 3, 4, 5])
    account = np.array([11, 12, 10, 13, NONE])
    # Patients 1 and 2 booked; patient 3 is bound to account 10, which booked; an absent
    # account (NONE) matches nothing, as SQL's IN does not match NULL.
    assert read_bindings(Members.of(w), patient, account).tolist() == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_a_column_of_identifiers_tells_null_from_empty_from_a_key() -> None:
    values = ["card-a", None, "", "card-a", "card-b"]
    keyed = Keyed.of(values, PAYMENT)
    assert keyed.present.tolist() == [True, False, True, True, True]
    assert keyed.filled.tolist() == [True, False, False, True, True]
    assert keyed.numbers[0] == keyed.numbers[3] != keyed.numbers[4]
    assert (keyed.numbers >= 0).all()
    # The same text of another kind is another number.
    assert Keyed.of(values, DEVICE).numbers[0] != keyed.numbers[0]


def test_a_key_whose_hash_happens_to_be_that_of_null_or_empty_is_still_a_key() -> None:
    values = ["looks-null", None, "looks-empty", ""]
    hashes = np.array([hash(None), hash(None), hash(""), hash("")], dtype=np.int64)
    _, present, filled = hashed(hashes, PAYMENT, value_at=values.__getitem__)
    assert present.tolist() == [True, False, True, True]
    assert filled.tolist() == [True, False, True, False]
