"""The generated wrk scripts, run through Debian's wrk against the bench's trivial
responder (``bench/responder.py``): every answer is recorded and timed, and the open
loop keeps its rate."""

from __future__ import annotations

import os
import shutil

import pytest

from fairslot.bench import wrk
from fairslot.bench.lua import Pacing, Plan, Who
from fairslot.bench.phases import get_plan
from fairslot.bench.responder import requests_in
from fairslot.bench.servers import running_module
from fairslot.bench.stats import active_seconds

pytestmark = pytest.mark.skipif(
    shutil.which("wrk") is None and os.environ.get("CI") != "true",
    reason="wrk is not installed (Debian: apt-get install wrk); ./run installs it",
)


def test_the_responder_answers_each_whole_request_and_keeps_a_partial_one():
    buffer = bytearray(
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /h HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"
        b"GET /partial HTTP/1.1\r\n"
    )
    assert requests_in(buffer) == 2
    assert bytes(buffer) == b"GET /partial HTTP/1.1\r\n"


def test_every_answer_is_recorded_with_its_status_and_latency():
    with running_module("fairslot.bench.responder", workers=1, env=dict(os.environ)) as url:
        done = wrk.run(get_plan(endpoint="trivial", path="/", connections=4), url=url, duration_s=1)
    assert len(done.samples) > 200
    assert {s.endpoint for s in done.samples} == {"trivial"}
    assert {s.status for s in done.samples} == {200}
    assert all(0 < s.ms < 1000 for s in done.samples)
    assert 0.5 < active_seconds(done.samples) < 2.0
    assert done.errors.total == 0
    assert done.cpu_seconds > 0 and 0 < done.cpu_share <= 1


def test_the_open_loop_sends_at_its_fixed_rate_not_as_fast_as_answers_come():
    who = Who(account_id=1, patient_id=2, channel_key="k", device_id="d", ip="10.0.0.1")
    plan = Plan(
        flow="availability",
        connections=4,
        identities=[[who]] * 4,
        constants={"AVAILABILITY_PATH": "/v1/availability"},
        pacing=Pacing(rate=200.0, connections=4),
    )
    with running_module("fairslot.bench.responder", workers=1, env=dict(os.environ)) as url:
        done = wrk.run(plan, url=url, duration_s=2)
    rate = len(done.samples) / active_seconds(done.samples)
    # the responder could answer tens of thousands a second; the schedule asks for 200
    assert 150 < rate < 260
    assert {s.endpoint for s in done.samples} == {"availability"}


def test_a_sold_out_refusal_is_marked_again_once_its_connection_asked_for_every_identity():
    # figures.py::again_window reads these marks: each connection deals its identities in
    # turn, so its first len(identities) requests are each caller's first.
    people = [
        Who(account_id=n, patient_id=n, channel_key="k", device_id=f"d{n}", ip="10.0.0.1")
        for n in range(1, 4)
    ]
    plan = Plan(flow="sold_out", connections=2, identities=[people, people[:2]],
                constants={"SOLD_OUT": [7]})  # fmt: skip
    with running_module("fairslot.bench.responder", workers=1, env=dict(os.environ)) as url:
        done = wrk.run(plan, url=url, duration_s=1)
    marks = [s.extra for s in done.samples]
    assert marks.count("first") == 3 + 2  # one per identity of each connection
    assert marks.count("again") == len(done.samples) - 5 > 100
