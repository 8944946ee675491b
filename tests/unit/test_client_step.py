"""The client's step timing at the edge: believed when it is a plain number of
milliseconds within an hour, ignored (never refused) otherwise."""

from __future__ import annotations

import pytest

from fairslot.context import MAX_CLIENT_STEP_MS, client_step, edge_context
from fairslot.crypto import Protector


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("850", 850),
        (" 3200 ", 3200),
        ("0", 0),
        (None, None),
        ("", None),
        ("-5", None),
        ("1.5", None),
        ("abc", None),
        ("99999999999", None),
    ],
)
def test_the_header_is_read_as_whole_milliseconds_or_not_at_all(
    raw: str | None, expected: int | None
) -> None:
    assert client_step(raw) == expected


def test_a_step_longer_than_an_hour_says_nothing_about_pace() -> None:
    protector = Protector(data_key="unit-test-data-key", hash_key="unit-test-hash-key")
    ctx = edge_context(protector=protector, actor="patient", client_step_ms=MAX_CLIENT_STEP_MS + 1)
    assert ctx.client_step_ms is None
    ctx = edge_context(protector=protector, actor="patient", client_step_ms=1200)
    assert ctx.client_step_ms == 1200
