"""The benchmark's arithmetic: percentiles, the per-endpoint summary, the JSON document."""

from __future__ import annotations

import pytest

from fairslot.bench.stats import (
    Sample,
    active_seconds,
    outcome_label,
    percentile,
    summarise,
)


def test_percentiles_interpolate_between_the_nearest_ranks():
    values = [40.0, 10.0, 30.0, 20.0]  # unsorted on purpose
    assert percentile(values, 0) == 10.0
    assert percentile(values, 100) == 40.0
    assert percentile(values, 50) == 25.0
    assert percentile(values, 90) == pytest.approx(37.0)


def test_the_p99_of_a_hundred_samples_is_not_just_the_maximum():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 50) == pytest.approx(50.5)


def test_a_percentile_of_nothing_is_zero_and_out_of_range_is_refused():
    assert percentile([], 99) == 0.0
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_refusals_are_labelled_by_status_and_code_and_silence_by_its_cause():
    assert outcome_label(Sample("hold", 201, 1.0)) == "201"
    assert outcome_label(Sample("hold", 409, 1.0, "slot_taken")) == "409 slot_taken"
    assert outcome_label(Sample("hold", 0, 1.0, "ReadError")) == "no answer ReadError"


def test_the_summary_counts_throughput_per_endpoint_and_server_errors():
    samples = [
        Sample("hold", 201, 10.0),
        Sample("hold", 409, 30.0, "slot_taken"),
        Sample("hold", 409, 20.0, "slot_taken"),
        Sample("availability", 200, 5.0),
        Sample("availability", 503, 50.0, "busy"),
        Sample("confirm", 0, 60.0, "ReadError"),
    ]
    summary = summarise(samples, seconds=2.0)

    assert summary.requests == 6
    assert summary.throughput_rps == 3.0
    assert summary.server_errors == 2  # the 503 and the unanswered confirm; 409s are not
    assert [e.endpoint for e in summary.endpoints] == ["hold", "availability", "confirm"]
    hold = summary.endpoints[0]
    assert hold.count == 3 and hold.p50_ms == 20.0 and hold.max_ms == 30.0
    assert hold.outcomes == {"409 slot_taken": 2, "201": 1}


def test_the_active_window_runs_from_the_first_send_to_the_last_answer():
    samples = [
        Sample("hold", 201, 500.0, end_s=10.5),  # sent at 10.0
        Sample("hold", 201, 100.0, end_s=12.0),  # sent at 11.9
        Sample("hold", 201, 2000.0, end_s=11.0),  # sent at 9.0: the first send
    ]
    assert samples[2].start_s == 9.0
    assert active_seconds(samples) == 3.0
    assert active_seconds([]) == 0.0
