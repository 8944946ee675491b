"""Several processes, one set of figures: real processes write to one directory (as
``fairslot serve --workers N``'s do) and a scrape adds them up; a process that is gone
keeps its counts but no longer its connections in use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from fairslot.observability import multiproc

# A worker's life in miniature: its pool, two connections in use, ``requests`` answers;
# then it waits for a line on standard input before exiting.
WORKER = """
import sys
from fairslot.observability import record
record.pool_opened(capacity=20)
record.pool_checked_out(waited=None)
record.pool_checked_out(waited=0.2)
for _ in range(int(sys.argv[1])):
    record.request(method="GET", route="/v1/hospitals", status=200, seconds=0.003)
record.refusal(code="slot_taken", route="/v1/holds")
print("ready", flush=True)
sys.stdin.readline()
"""


def start_worker(directory: Path, requests: int) -> subprocess.Popen[str]:
    env = {**os.environ, multiproc.ENV: str(directory)}
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(requests)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def stop(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("\n")
    process.stdin.close()
    assert process.wait(timeout=30) == 0


def scrape(directory: Path) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    multiproc.forget_dead(directory)
    text = generate_latest(multiproc.shared_registry(directory)).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_two_processes_counts_are_added_up_in_one_scrape(tmp_path: Path) -> None:
    first = start_worker(tmp_path, requests=3)
    second = start_worker(tmp_path, requests=4)
    try:
        samples = scrape(tmp_path)
    finally:
        stop(first)
        stop(second)

    route = frozenset({("method", "GET"), ("route", "/v1/hospitals"), ("status", "200")})
    assert samples[("fairslot_http_requests_total", route)] == 7
    latency = frozenset({("method", "GET"), ("route", "/v1/hospitals"), ("le", "0.005")})
    assert samples[("fairslot_http_request_duration_seconds_bucket", latency)] == 7
    refused = frozenset({("code", "slot_taken"), ("route", "/v1/holds")})
    assert samples[("fairslot_refusals_total", refused)] == 2
    assert samples[("fairslot_db_pool_size", frozenset())] == 40
    assert samples[("fairslot_db_pool_in_use", frozenset())] == 4
    assert samples[("fairslot_db_pool_wait_seconds_count", frozenset())] == 2


def test_a_dead_worker_keeps_its_counts_but_not_its_connections(tmp_path: Path) -> None:
    survivor = start_worker(tmp_path, requests=2)
    dead = start_worker(tmp_path, requests=5)
    try:
        stop(dead)  # as a worker killed and replaced by uvicorn
        samples = scrape(tmp_path)
    finally:
        stop(survivor)

    route = frozenset({("method", "GET"), ("route", "/v1/hospitals"), ("status", "200")})
    assert samples[("fairslot_http_requests_total", route)] == 7
    assert samples[("fairslot_db_pool_in_use", frozenset())] == 2
    assert samples[("fairslot_db_pool_size", frozenset())] == 20
    assert not list(tmp_path.glob(f"gauge_live*_{dead.pid}.db"))


def test_a_server_directory_is_fresh_and_earlier_dead_servers_ones_are_removed(
    tmp_path: Path,
) -> None:
    # A directory left by a server that died unclean (no pid is ever that large)…
    stale = tmp_path / f"{multiproc.DIR_PREFIX}999999999-x"
    stale.mkdir()
    (stale / "counter_123.db").write_bytes(b"old counts")
    env = {**os.environ, multiproc.ENV: str(tmp_path)}
    # …is removed by the next server's start, in a process of its own (the switch to
    # multi-process mode is for good in the process that makes it).
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "from fairslot.observability import multiproc, record\n"
            "path = multiproc.start_server_directory()\n"
            "record.request(method='GET', route='/healthz', status=200, seconds=0.001)\n"
            "print(path)\n",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert not stale.exists()
    path = Path(made)
    assert path.parent == tmp_path and path.name.startswith(multiproc.DIR_PREFIX)
    # The request it recorded went to the new directory's files, not to memory.
    assert {"counter", "histogram"} <= {f.name.split("_")[0] for f in path.glob("*.db")}
