"""Per-tactic figures and the genuine households the review touched. Pure: no I/O.

The JSON's ``per_tactic`` object says, for each scalper tactic the scenario played
(:data:`scenario.TACTICS`), how many identities it had, the share of the expert slots its
identities held at the end of day 1 and of day 2, and how well the platform found it:

* ``recall``: of the tactic's day-1 identities, the share blocked (in a confirmed case, or
  refused by the gate on day 1 or day 2 — :func:`accounting.blocked_identities`);
* ``precision``: over the confirmed cases that hold at least one of the tactic's identities,
  the share of their judged members (genuine or scalper-controlled; buyers count for
  neither) that are scalper-controlled; None when no confirmed case touched the tactic;
* ``day2_identities`` / ``day2_refused``: the tactic's identities that acted on day 2 (the
  rotation operator's are new people), and of them those the gate refused at least once;
* ``held_day1``: the tactic's identities whose entry the pre-draw screening held out of its
  draw on day 1 (still held at the end of the day).

``judgement`` (per mode) counts the genuine households any case named (confirmed or
dismissed: a case is a reviewer's time and a family's worry either way), the genuine
patients blocked, and the genuine patients whose entry was held out of a draw on day 1
(``genuine_held``: each one is held wrongly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from fairslot.sim.accounting import STANDING, DayLog, gate_refused
from fairslot.sim.scenario import SCALPER_CONTROLLED, TACTICS, Klass

# The slots a tactic holds: a broker's buyer holds the broker's slot.
HOLDERS: dict[str, frozenset[Klass]] = {
    name: klasses | ({Klass.BUYER} if name == "brokers" else frozenset())
    for name, klasses in TACTICS.items()
}


@dataclass(frozen=True)
class TacticFigures:
    identities: int
    scarce_share_day1: float | None
    scarce_share_day2: float | None
    recall: float | None
    precision: float | None
    day2_identities: int
    day2_refused: int
    held_day1: int = 0  # identities whose entry the pre-draw screening held out on day 1

    def as_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Judgement:
    genuine_households: int
    genuine_households_flagged: int
    flagged_share: float | None
    genuine_blocked: int | None
    genuine_held: int = 0  # genuine patients whose entry was held out of its draw (day 1)

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def per_tactic(
    day1: DayLog,
    *,
    blocked: frozenset[str] | None,
    confirmed: Sequence[Sequence[str]],
    day2: DayLog | None = None,
) -> dict[str, TacticFigures]:
    """The figures of each tactic that has identities in ``day1``; ``confirmed`` lists the
    members (person keys) of each confirmed case."""
    found: dict[str, TacticFigures] = {}
    for name, klasses in TACTICS.items():
        mine = {p for p, k in day1.persons.items() if k in klasses}
        if not mine:
            continue
        touched = [set(members) for members in confirmed if mine & set(members)]
        judged = [p for members in touched for p in members if _judged(day1, p)]
        scalpers = sum(1 for p in judged if day1.persons[p] in SCALPER_CONTROLLED)
        acting = set() if day2 is None else _acting(day2, klasses)
        found[name] = TacticFigures(
            identities=len(mine),
            scarce_share_day1=_held(day1, HOLDERS[name]),
            scarce_share_day2=None if day2 is None else _held(day2, HOLDERS[name]),
            recall=None if blocked is None else _share(len(blocked & mine), len(mine)),
            precision=_share(scalpers, len(judged)),
            day2_identities=len(acting),
            day2_refused=0 if day2 is None else len(acting & gate_refused(day2)),
            held_day1=len(mine & day1.held),
        )
    return found


def judgement(
    day1: DayLog,
    *,
    households: Mapping[str, str],
    named: Sequence[Sequence[str]],
    genuine_blocked: int | None,
) -> Judgement:
    """``households`` maps each genuine person to their household; ``named`` lists the
    members of every case the reviewer decided."""
    all_households = set(households.values())
    flagged = {households[p] for members in named for p in members if p in households}
    return Judgement(
        genuine_households=len(all_households),
        genuine_households_flagged=len(flagged),
        flagged_share=_share(len(flagged), len(all_households)),
        genuine_blocked=genuine_blocked,
        genuine_held=sum(1 for p in day1.held if day1.persons.get(p) == Klass.GENUINE),
    )


def _judged(log: DayLog, person: str) -> bool:
    klass = log.persons.get(person)
    return klass == Klass.GENUINE or klass in SCALPER_CONTROLLED


def _held(log: DayLog, klasses: frozenset[Klass]) -> float | None:
    held = sum(
        1
        for b in log.bookings
        if b.scarce and b.status in STANDING and log.persons.get(b.person) in klasses
    )
    return _share(held, log.scarce_slots)


def _acting(log: DayLog, klasses: frozenset[Klass]) -> set[str]:
    return {
        r.person
        for r in log.requests
        if r.person is not None and log.persons.get(r.person) in klasses
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
