"""Several runs in one invocation: which seeds, and the mean and worst case. Pure: no I/O.

``--seeds 1-5`` (or ``1,3,8`` or ``2-4,9``) plays each seed of each preset; the JSON then
holds every run as it would be alone (``runs``) and a ``summary``: for each preset and
mode, the mean and the worst case over the seeds of each figure the issue's targets name.
"Worst" is the direction that hurts patients: the highest scalper share, genuine patients
blocked and households flagged; the lowest recall and precision, and the lowest p-value of
the fast-bots-against-genuine-patients test (the strongest sign of an unfair race).
``fast_vs_genuine_pooled`` adds that test's counts up over the seeds (day 1 and day 2) and
tests the sum: one quick seed has too few identities for the test to find much.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from fairslot.sim.accounting import fisher_exact_two_sided, significant

# (figure path inside one mode's figures, True when higher is worse)
FIGURES: tuple[tuple[tuple[str, ...], bool], ...] = (
    (("scalper_share",), True),
    (("day2", "scalper_share"), True),
    (("genuine_share",), False),
    (("detection_recall",), False),
    (("detection_precision",), False),
    (("genuine_blocked",), True),
    (("transfer_successes",), True),
    (("server_errors",), True),
    (("day2", "server_errors"), True),
    (("day2", "genuine_refused_by_gate"), True),
    (("fast_vs_genuine", "p_value"), False),
    (("day2", "fast_vs_genuine", "p_value"), False),
)
TACTIC_FIGURES: tuple[tuple[str, bool], ...] = (
    ("scarce_share_day1", True),
    ("scarce_share_day2", True),
    ("recall", False),
    ("precision", False),
)


def parse_seeds(raw: str) -> list[int]:
    """``"1-5"`` → 1..5; ``"1,3,8"``; ``"2-4,9"``. Refuses empty, reversed or negative parts."""
    seeds: list[int] = []
    for part in raw.split(","):
        part = part.strip()
        first, sep, last = part.partition("-")
        try:
            low = int(first)
            high = int(last) if sep else low
        except ValueError as exc:
            raise ValueError(f"not a seed or a range of seeds: {part!r}") from exc
        if low < 0 or high < low:
            raise ValueError(f"not a range of seeds: {part!r}")
        seeds.extend(n for n in range(low, high + 1) if n not in seeds)
    if not seeds:
        raise ValueError("no seed given")
    return seeds


def summary(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per preset (the scenario's name) and mode: each figure's mean and worst over the
    runs, with the seed of the worst; per tactic the same."""
    by_preset: dict[str, list[Mapping[str, Any]]] = {}
    for run in runs:
        by_preset.setdefault(str(run["scenario"]["name"]), []).append(run)
    found: dict[str, Any] = {}
    for preset, group in by_preset.items():
        modes = [m for m in ("protected", "baseline") if any(r.get(m) for r in group)]
        found[preset] = {"seeds": [r["seed"] for r in group]} | {
            mode: _mode_summary(group, mode) for mode in modes
        }
    return found


def _mode_summary(group: Sequence[Mapping[str, Any]], mode: str) -> dict[str, Any]:
    figures = {
        ".".join(path): _spread([(r["seed"], _dig(r.get(mode), path)) for r in group], worse)
        for path, worse in FIGURES
    }
    flagged = [
        (r["seed"], _dig((r.get("judgement") or {}).get(mode), ("flagged_share",))) for r in group
    ]
    figures["genuine_households_flagged_share"] = _spread(flagged, higher_is_worse=True)
    figures["fast_vs_genuine_pooled"] = {
        label: _pooled([_dig_mapping(r.get(mode), path) for r in group])
        for label, path in (("day1", ("fast_vs_genuine",)), ("day2", ("day2", "fast_vs_genuine")))
    }
    tactics = sorted({t for r in group for t in (r.get("per_tactic") or {}).get(mode) or {}})
    figures["per_tactic"] = {
        tactic: {
            name: _spread(
                [
                    (r["seed"], _dig((r.get("per_tactic") or {}).get(mode), (tactic, name)))
                    for r in group
                ],
                worse,
            )
            for name, worse in TACTIC_FIGURES
        }
        for tactic in tactics
    }
    return figures


_COUNTS = ("bots_tried", "bots_won", "genuine_tried", "genuine_won")


def _pooled(races: Sequence[Mapping[str, Any] | None]) -> dict[str, Any]:
    """The fast-bots-against-genuine counts summed over the runs, and their Fisher test."""
    known = [race for race in races if race is not None]
    total = {key: sum(int(race.get(key) or 0) for race in known) for key in _COUNTS}
    bots, genuine = total["bots_tried"], total["genuine_tried"]
    p_value = (
        fisher_exact_two_sided(
            total["bots_won"],
            bots - total["bots_won"],
            total["genuine_won"],
            genuine - total["genuine_won"],
        )
        if bots and genuine
        else None
    )
    return total | {
        "p_value": None if p_value is None else significant(p_value),
        "runs": len(known),
    }


def _dig_mapping(data: Any, path: Sequence[str]) -> Mapping[str, Any] | None:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data if isinstance(data, Mapping) else None


def _dig(data: Any, path: Sequence[str]) -> float | None:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return float(data) if isinstance(data, int | float) else None


def _spread(values: Sequence[tuple[int, float | None]], higher_is_worse: bool) -> dict[str, Any]:
    known = [(seed, v) for seed, v in values if v is not None]
    if not known:
        return {"mean": None, "worst": None, "worst_seed": None, "runs": 0}
    pick = max if higher_is_worse else min
    seed, worst = pick(known, key=lambda sv: sv[1])
    return {
        "mean": round(statistics.fmean(v for _, v in known), 4),
        "worst": worst,
        "worst_seed": seed,
        "runs": len(known),
    }
