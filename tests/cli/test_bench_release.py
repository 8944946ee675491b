"""``fairslot bench release`` end to end with a tiny load: a fresh database, the real
server in a subprocess, 20 clients for a few seconds, the checks and the raw limit.

The figures themselves are not tested (the machine decides them); what is: the JSON
has exactly the agreed keys, every request got an answer that was not a 5xx, and
nothing was oversold or double-booked. The fresh database is a temporary SQLite file,
or a PostgreSQL database the run creates and drops.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from conftest import PG_ADMIN_URL, require_postgres
from fairslot.bench.stats import RESULT_KEYS
from fairslot.cli.main import app


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


def test_a_tiny_release_burst_oversells_nothing_and_answers_every_request(
    backend: str, tmp_path: Path
) -> None:
    if backend == "postgresql":
        require_postgres()
    out = tmp_path / "bench.json"
    extra = ["--pg-admin-url", PG_ADMIN_URL] if backend == "postgresql" else []
    before = _bench_databases() if backend == "postgresql" else set()

    result = CliRunner().invoke(
        app,
        [
            "bench", "release", "--db", backend, "--clients", "20", "--workers", "1",
            "--duration", "3", "--identities", "200", "--raw-seconds", "1",
            "--ceiling-seconds", "1",
            "--json", str(out), *extra,
        ],
    )  # fmt: skip

    assert result.exit_code == 0, (result.output, result.exception)
    doc = json.loads(out.read_text())
    assert set(doc) == {*RESULT_KEYS, "per_endpoint", "framework_ceiling_rps", "ratio_to_ceiling"}
    assert (doc["backend"], doc["workers"]) == (backend, 1)
    assert doc["oversold"] == 0 and doc["double_booked"] == 0 and doc["server_errors"] == 0
    assert doc["requests"] > 0 and doc["throughput_rps"] > 0 and doc["raw_limit_rps"] > 0
    # The document divides the unrounded figures; these are rounded to 0.1.
    assert doc["ratio_to_raw"] == pytest.approx(
        doc["throughput_rps"] / doc["raw_limit_rps"], abs=0.002
    )
    assert doc["framework_ceiling_rps"] > 0
    assert doc["ratio_to_ceiling"] == pytest.approx(
        doc["throughput_rps"] / doc["framework_ceiling_rps"], abs=0.002
    )
    assert "framework ceiling (GET /healthz)" in result.output
    holds = doc["per_endpoint"]["hold"]["outcomes"]
    assert holds.get("201", 0) >= 1  # the burst really booked
    assert set(doc["per_endpoint"]) <= {"hold", "confirm", "availability"}
    if backend == "postgresql":
        assert _bench_databases() == before  # the run dropped the database it made
