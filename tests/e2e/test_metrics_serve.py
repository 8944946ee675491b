"""``fairslot serve --workers 2`` on PostgreSQL: one scrape adds up every process's figures
(two workers and the supervisor's sweeper), in a directory made for this server and
removed when it stops."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from fairslot.localserver import running_server
from fairslot.observability import multiproc

TOKEN = "a-long-random-token-for-prometheus-scrapes"
POOL = 3

pytestmark = pytest.mark.postgres


def scrape(base_url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = httpx.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def test_two_workers_figures_are_one_and_the_directory_goes_with_the_server(
    pg_database: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "FAIRSLOT_DATABASE_URL": pg_database,
        "FAIRSLOT_METRICS_TOKEN": TOKEN,
        "FAIRSLOT_DB_POOL_SIZE": str(POOL),
        "FAIRSLOT_ACCESS_LOG": "false",
        multiproc.ENV: str(tmp_path),
    }
    healthz = frozenset({("method", "GET"), ("route", "/healthz"), ("status", "200")})
    with running_server(workers=2, env=env) as server:
        (directory,) = tmp_path.glob(f"{multiproc.DIR_PREFIX}*")
        before = scrape(server.base_url)
        for _ in range(20):  # a connection each: the kernel spreads them over the workers
            assert httpx.get(f"{server.base_url}/healthz").status_code == 200
        after = scrape(server.base_url)
        pids = {int(f.stem.rsplit("_", 1)[1]) for f in directory.glob("*.db")}

    assert after[("fairslot_http_requests_total", healthz)] == (
        before.get(("fairslot_http_requests_total", healthz), 0) + 20
    )
    # Each of the three processes (supervisor, two workers) opened a pool of POOL plus
    # as much overflow, and each wrote its own files.
    assert after[("fairslot_db_pool_size", frozenset())] == 3 * 2 * POOL
    assert len(pids) == 3
    assert after[("fairslot_scrape_database_up", frozenset())] == 1
    assert not directory.exists()
