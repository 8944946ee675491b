"""The window's counts over columns (``risk/window_columns.py``), without a database: the
suspects they let through, and the ones they must not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import numpy as np

from fairslot.risk.facts import RiskSettings
from fairslot.risk.ring_groups import DEVICE, NETWORK, PAYMENT, PHONE
from fairslot.risk.window_columns import (
    BOOKED,
    NONE,
    TAKEN,
    ActorColumns,
    Keyed,
    WindowColumns,
    distinct_counts,
    operator_suspect_rows,
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
        row=np.arange(1, len(rows) + 1, dtype=np.int64),
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
    assert operator_suspect_rows(window(rows), no_requests(), SETTINGS, staffed=[7]).size == 0
    found = operator_suspect_rows(window(rows), no_requests(), SETTINGS, staffed=[])
    assert found.tolist() == [1, 2, 3]
