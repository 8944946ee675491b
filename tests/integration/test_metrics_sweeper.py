"""The sweeper reports its rounds: one round that expires a lapsed hold is counted with
what it settled and when it finished, and the scrape-time lag falls back to zero."""

from __future__ import annotations

import datetime as dt
import threading

from fastapi.testclient import TestClient

from factories.world import World
from fairslot.bootstrap import Platform
from fairslot.cli.worker_cmd import run_sweeper
from fairslot.clock import ManualClock
from fairslot.db.engine import make_session_factory
from fairslot.observability import record
from fairslot.observability.scrape import DatabaseFigures


class OneRound(threading.Event):
    """A stop signal that ends the sweeper after its first round, without waiting."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


def sample(metric_name: str, **labels: str) -> float:
    made = record.instruments()
    for metric in vars(made).values():
        for family in metric.collect():
            for s in family.samples:
                if s.name == metric_name and s.labels == labels:
                    return float(s.value)
    return 0.0


def test_a_sweeper_round_is_counted_with_what_it_settled(
    client: TestClient, platform: Platform, world: World
) -> None:
    clock = platform.clock
    assert isinstance(clock, ManualClock)
    session = world.session(capacity=2)
    account, patient = world.patient()
    hold = client.post(
        "/v1/holds",
        headers={"X-Channel-Key": world.channel_key, "X-Device-Id": "imei-1"},
        json={"account_id": account.id, "patient_id": patient.id, "session_id": session.id},
    )
    assert hold.status_code == 201, hold.text
    clock.advance(dt.timedelta(minutes=platform.settings.hold_minutes + 1))
    figures = DatabaseFigures(
        sessions=make_session_factory(platform.engine, reader=True), clock=clock, cache_seconds=0
    )
    lapsed = figures.read()
    assert lapsed is not None and lapsed.oldest.hold_expiry is not None
    rounds = sample("fairslot_sweeps_total", outcome="ok")
    expired = sample("fairslot_sweep_items_total", kind="holds_expired")

    run_sweeper(platform, every=0, stop=OneRound())

    assert sample("fairslot_sweeps_total", outcome="ok") == rounds + 1
    assert sample("fairslot_sweep_items_total", kind="holds_expired") == expired + 1
    assert sample("fairslot_sweep_last_success_timestamp_seconds") > 0
    swept = figures.read()
    assert swept is not None and swept.oldest.hold_expiry is None
