"""The open-loop schedule (``bench/openloop.py``, as the wrk script keeps it)."""

from __future__ import annotations

from itertools import islice

import pytest

from fairslot.bench.openloop import delay_ms, interval_s, replay, schedule


def test_the_rate_is_spread_evenly_over_the_connections():
    assert interval_s(rate=100.0, connections=4) == pytest.approx(0.04)
    with pytest.raises(ValueError):
        interval_s(rate=0.0, connections=4)


def test_threads_are_offset_so_their_sends_interleave():
    first = [next(schedule(rate=100.0, connections=4, thread=t, start=0.0)) for t in (1, 2, 3, 4)]
    assert first == pytest.approx([0.0, 0.01, 0.02, 0.03])
    sends = list(islice(schedule(rate=100.0, connections=4, thread=2, start=1.0), 3))
    assert sends == pytest.approx([1.01, 1.05, 1.09])


def test_a_send_whose_moment_has_passed_goes_out_at_once():
    assert delay_ms(now=5.0, intended=5.25) == 250
    assert delay_ms(now=5.3, intended=5.25) == 0


def test_a_slow_answer_shows_in_the_latency_of_the_requests_queued_behind_it():
    intended = [0.0, 0.1, 0.2, 0.3]
    service = [0.35, 0.01, 0.01, 0.01]  # the first answer takes 350 ms
    latencies = replay(intended=intended, service_s=service)
    # The second request could only go out at 0.35: it waited 250 ms before being sent,
    # and that wait is counted (a closed-loop client would have reported 10 ms).
    assert latencies == pytest.approx([0.35, 0.26, 0.17, 0.08])


def test_a_server_that_keeps_up_shows_only_its_own_service_time():
    latencies = replay(intended=[0.0, 0.1, 0.2], service_s=[0.02, 0.02, 0.02])
    assert latencies == pytest.approx([0.02, 0.02, 0.02])
