"""A memo trusts an answer for its lifetime of clock time, no longer."""

from __future__ import annotations

import datetime as dt

from fairslot.memo import Memo

T0 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
MS = dt.timedelta(milliseconds=1)


def test_an_answer_is_recalled_within_its_lifetime_only() -> None:
    memo: Memo[str, int] = Memo(ttl=200 * MS)
    memo.put("s1", 7, now=T0)
    assert memo.get("s1", now=T0) == 7
    assert memo.get("s1", now=T0 + 199 * MS) == 7
    assert memo.get("s1", now=T0 + 200 * MS) is None
    assert memo.get("s2", now=T0) is None


def test_a_clock_set_back_does_not_extend_a_lifetime() -> None:
    memo: Memo[str, int] = Memo(ttl=200 * MS)
    memo.put("s1", 7, now=T0)
    assert memo.get("s1", now=T0 - MS) is None


def test_a_full_memo_forgets_everything_rather_than_grow() -> None:
    memo: Memo[int, int] = Memo(ttl=dt.timedelta(seconds=1), max_entries=3)
    for n in range(3):
        memo.put(n, n, now=T0)
    memo.put(3, 3, now=T0)
    assert [memo.get(n, now=T0) for n in range(4)] == [None, None, None, 3]
