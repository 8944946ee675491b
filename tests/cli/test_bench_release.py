"""``fairslot bench release`` end to end with a tiny load: a fresh database, wrk against
the trivial responder, the real server and the hand-written anchor in subprocesses,
every phase for a second, the checks and the raw limit.

The figures themselves are not tested (the machine decides them); what is: the JSON has
issue 5's keys then issue 14's, every phase produced its endpoint, every request got an
answer that was not a 5xx, and the checks are computed from what is in the database.
The fresh database is a temporary SQLite file, or a PostgreSQL database the run creates
and drops.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from conftest import PG_ADMIN_URL, require_postgres
from fairslot.bench import release as bench_release
from fairslot.bench.figures import NEW_KEYS
from fairslot.bench.stats import RESULT_KEYS
from fairslot.cli.main import app

pytestmark = pytest.mark.skipif(
    shutil.which("wrk") is None and os.environ.get("CI") != "true",
    reason="wrk is not installed (Debian: apt-get install wrk); ./run installs it",
)

_TINY = [
    "--clients", "8", "--workers", "1", "--duration", "1", "--phase-seconds", "1",
    "--identities", "40", "--anchor-slots", "60", "--raw-seconds", "0.2",
]  # fmt: skip


def _bench_databases() -> set[str]:
    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            return set(
                conn.scalars(
                    text("SELECT datname FROM pg_database WHERE datname LIKE 'fairslot_bench_%'")
                )
            )
    finally:
        engine.dispose()


def test_a_tiny_release_bench_measures_every_phase_and_oversells_nothing(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "postgresql":
        require_postgres()
    out = tmp_path / "bench.json"
    extra = ["--pg-admin-url", PG_ADMIN_URL] if backend == "postgresql" else []
    before = _bench_databases() if backend == "postgresql" else set()
    # The checks must read the database: keep what they read, to compare below.
    read: list[int] = []
    real_check = bench_release._check

    def spying_check(platform, released):  # type: ignore[no-untyped-def]
        report, taken = real_check(platform, released)
        read.append(taken)
        return report, taken

    monkeypatch.setattr(bench_release, "_check", spying_check)

    result = CliRunner().invoke(
        app, ["bench", "release", "--db", backend, *_TINY, "--json", str(out), *extra]
    )

    assert result.exit_code == 0, (result.output, result.exception)
    doc = json.loads(out.read_text())
    assert tuple(doc)[: len(RESULT_KEYS) + len(NEW_KEYS)] == (*RESULT_KEYS, *NEW_KEYS)
    assert (doc["backend"], doc["workers"]) == (backend, 1)
    assert doc["oversold"] == 0 and doc["double_booked"] == 0 and doc["server_errors"] == 0
    assert doc["busy_503"] == 0 and doc["ledger_disagrees"] == 0
    assert doc["requests"] > 0 and doc["throughput_rps"] > 0 and doc["raw_limit_rps"] > 0
    assert doc["ceiling_rps"] > 0 and doc["anchor_claim_rps"] > 0
    assert set(doc["ratio_to_anchor"]) == {"hold", "confirm"}
    # sold_out_again: only when the repeated refusals made a window of a second or more
    assert (
        {"availability", "sold_out"}
        <= set(doc["ratio_to_ceiling"])
        <= {"availability", "sold_out", "sold_out_again"}
    )
    per = doc["per_endpoint"]
    for name in ("trivial_responder", "healthz", "anchor_claim", "hold", "hold_by_session",
                 "confirm", "availability", "sold_out"):  # fmt: skip
        assert per[name]["requests"] > 0, name
    if "sold_out_again" in per:
        assert 0 < per["sold_out_again"]["requests"] < per["sold_out"]["requests"]
    assert per["hold"]["outcomes"].get("201", 0) >= 1  # the hold phase really booked
    assert per["anchor_claim"]["outcomes"].get("201", 0) >= 1
    assert doc["open_loop_rate"] > 0 and doc["open_loop_p99_ms"] >= 0
    assert set(doc["generator_cpu_share"]) >= {"trivial", "mix", "ceiling", "anchor"}
    assert "checks and context" in result.output and "anchor claim" in result.output
    assert len(read) == 1 and read[0] >= 1  # scarce slots found taken in the database
    if backend == "postgresql":
        assert _bench_databases() == before  # the run dropped the database it made
