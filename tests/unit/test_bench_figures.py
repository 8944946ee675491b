"""The figures of a bench run and its JSON document (``bench/figures.py``). Pure."""

from __future__ import annotations

import pytest

from fairslot.bench.figures import (
    AGAIN,
    NEW_KEYS,
    Generator,
    OpenLoop,
    again_window,
    figure,
    phase_figures,
    result_document,
    server_errors,
)
from fairslot.bench.stats import RESULT_KEYS, Sample, summarise


def _steady(endpoint: str, status: int, n: int, *, per_s: float, code: str | None = None):
    """``n`` answers of 10 ms, one every ``1 / per_s`` seconds from t = 100 s."""
    return [Sample(endpoint, status, 10.0, code, end_s=100.0 + k / per_s + 0.01) for k in range(n)]


def test_an_endpoint_counts_only_the_outcome_its_phase_is_about_as_throughput():
    holds = [
        *_steady("hold_by_slot", 201, 30, per_s=10),
        Sample("hold_by_slot", 429, 10.0, "rate_limited", end_s=101.0),
    ]
    f = figure("hold", phase="hold", samples=holds)
    assert f.requests == 31 and f.ok == 30
    assert f.seconds == pytest.approx(2.9 + 0.01)
    assert f.ok_rps == pytest.approx(30 / 2.91)
    assert f.outcomes == {"201": 30, "429 rate_limited": 1}


def test_a_refusal_of_a_sold_out_session_is_what_the_sold_out_phase_counts():
    samples = [
        Sample("sold_out", 409, 5.0, "session_full", end_s=1.0),
        Sample("sold_out", 409, 5.0, "slot_taken", end_s=1.5),
        Sample("sold_out", 201, 5.0, end_s=2.0),  # a slot came back: not a refusal
        Sample("sold_out", 403, 5.0, "request_blocked", end_s=2.0),
    ]
    assert figure("sold_out", phase="sold_out", samples=samples).ok == 2


def _refusal(end_s: float, mark: str, ms: float = 10.0) -> Sample:
    return Sample("sold_out", 409, ms, "session_full", end_s=end_s, extra=mark)


def test_repeated_refusals_are_measured_from_the_last_first_refusal_on():
    samples = [
        *(_refusal(100.0 + k * 0.5, "first") for k in range(5)),  # the last ends at 102.0
        _refusal(101.5, AGAIN),  # a repeat, but while first refusals were still answered
        _refusal(102.005, AGAIN, ms=20.0),  # sent before 102.0: not in the window
        *(_refusal(102.1 + k * 0.1, AGAIN) for k in range(20)),  # 102.1 ... 104.0
    ]
    found = again_window(samples)
    assert found is not None
    window, seconds = found
    assert len(window) == 20 and all(s.extra == AGAIN for s in window)
    assert seconds == pytest.approx(2.0)
    assert figure("sold_out_again", phase="sold_out", samples=window, seconds=seconds).ok_rps == (
        pytest.approx(10.0)
    )


def test_no_figure_for_repeated_refusals_without_a_second_of_them():
    short = [_refusal(100.0, "first"), *(_refusal(100.1 + k * 0.1, AGAIN) for k in range(9))]
    assert again_window(short) is None  # 0.9 s of repeats
    assert again_window([_refusal(100.0 + k, AGAIN) for k in range(5)]) is None  # no first
    assert again_window([]) is None


def test_every_endpoint_of_a_phase_is_rated_over_the_whole_phase():
    mix = _steady("availability", 200, 20, per_s=10) + _steady("confirm", 200, 2, per_s=10)
    figures = {f.name: f for f in phase_figures("mix", mix, prefix="mix:")}
    assert set(figures) == {"mix:availability", "mix:confirm"}
    # the confirms came in the first 0.2 s, but the phase lasted ~1.9 s
    assert figures["mix:confirm"].seconds == figures["mix:availability"].seconds
    assert figures["mix:confirm"].ok_rps == pytest.approx(2 / figures["mix:confirm"].seconds)


def test_the_generator_is_the_limit_when_it_could_not_have_gone_twice_as_fast():
    generator = Generator(trivial_rps=10_000.0, cpu_share={})
    assert generator.bound(6_000.0)
    assert not generator.bound(4_000.0)


def test_server_errors_count_5xx_and_silence_and_single_out_the_503s():
    samples = [
        Sample("hold", 503, 1.0, "busy"),
        Sample("hold", 500, 1.0),
        Sample("hold", 0, 1.0, "ReadError"),
        Sample("hold", 409, 1.0, "slot_taken"),
    ]
    assert server_errors(samples) == (3, 1)


def _document(**overrides):
    figures = [
        figure("healthz", phase="ceiling", samples=_steady("healthz", 200, 100, per_s=1000)),
        figure("anchor_claim", phase="anchor", samples=_steady("anchor_claim", 201, 50, per_s=500)),
        figure("hold", phase="hold", samples=_steady("hold_by_slot", 201, 25, per_s=250)),
        figure("confirm", phase="confirm", samples=_steady("confirm", 200, 10, per_s=100)),
        figure("availability", phase="av", samples=_steady("availability", 200, 60, per_s=600)),
        figure(
            "sold_out",
            phase="so",
            samples=_steady("sold_out", 409, 40, per_s=400, code="session_full"),
        ),
    ]
    mix = summarise([Sample("hold", 201, 8.0), Sample("hold", 409, 12.0, "x")], seconds=0.5)
    args = dict(
        backend="postgresql",
        workers=2,
        mix=mix,
        oversold=0,
        double_booked=0,
        server_errors=0,
        raw_limit_rps=40.0,
        figures=figures,
        generator=Generator(trivial_rps=50_000.0, cpu_share={"mix": 0.05}),
        open_loop=OpenLoop(target_rps=2.8, achieved_rps=2.7, p50_ms=5.0, p99_ms=9.0, requests=9),
    )
    args.update(overrides)
    return result_document(**args)


def test_the_json_document_keeps_issue_5s_keys_then_adds_issue_14s():
    document = _document()
    assert tuple(document) == (*RESULT_KEYS, *NEW_KEYS)
    assert document["throughput_rps"] == 4.0 and document["ratio_to_raw"] == 0.1
    assert document["open_loop_rate"] == 2.8 and document["open_loop_p99_ms"] == 9.0
    assert document["generator_cpu_share"] == {"mix": 0.05}


def test_writes_are_compared_with_the_anchor_and_reads_with_the_ceiling():
    document = _document()
    ceiling, anchor = document["ceiling_rps"], document["anchor_claim_rps"]
    per = document["per_endpoint"]
    assert ceiling == pytest.approx(per["healthz"]["throughput_rps"])
    assert set(document["ratio_to_anchor"]) == {"hold", "confirm"}
    assert set(document["ratio_to_ceiling"]) == {"availability", "sold_out"}
    assert document["ratio_to_anchor"]["hold"] == pytest.approx(
        per["hold"]["throughput_rps"] / anchor, abs=0.01
    )
    assert document["ratio_to_ceiling"]["sold_out"] == pytest.approx(
        per["sold_out"]["throughput_rps"] / ceiling, abs=0.01
    )
    assert document["ratio_to_anchor"]["hold"] == pytest.approx(0.5, abs=0.02)


def test_without_an_anchor_or_a_ceiling_the_ratios_are_zero_not_a_division_error():
    document = _document(figures=[], raw_limit_rps=0.0, open_loop=None)
    assert document["ratio_to_raw"] == 0.0
    assert document["ratio_to_anchor"] == {} and document["ratio_to_ceiling"] == {}
    assert document["open_loop_rate"] is None
