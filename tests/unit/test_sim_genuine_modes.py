"""How the simulator's genuine patients read a department's allocation mode (sim/actors.py),
without a platform: what the channel API shows decides whether they enter ahead of the
release and whether a hold in the first seconds after it enters a batch."""

from __future__ import annotations

import datetime as dt

from fairslot.sim.actors import batch_window_open, enters_ahead

NOW = dt.datetime(2026, 12, 6, 16, 30, 20, tzinfo=dt.UTC)


def row(mode: str, ends: dt.datetime | None) -> dict[str, object]:
    return {
        "allocation_mode": mode,
        "release_batch_ends_at": ends.isoformat() if ends else None,
        "free": 0,
        "slots": [],
    }


def test_a_patient_enters_ahead_of_a_draw_or_a_batch_and_not_of_a_first_come_clinic() -> None:
    assert enters_ahead("draw") and enters_ahead("release_batch")
    assert not enters_ahead("first_come")
    assert enters_ahead(None)  # a card without a mode: the app offers it, they try


def test_a_batch_takes_holds_until_its_window_ends_as_the_listing_says() -> None:
    # The hospital's zone on the wire (+08:00): the same instant as UTC.
    ends = (NOW + dt.timedelta(seconds=40)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert batch_window_open(row("release_batch", ends), now=NOW)
    assert not batch_window_open(row("release_batch", NOW), now=NOW)  # closed: being drawn
    assert not batch_window_open(row("release_batch", None), now=NOW)  # drawn already
    assert not batch_window_open(row("first_come", ends), now=NOW)
