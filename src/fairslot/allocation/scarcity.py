"""Which clinics are scarce, judged from their own release history. Pure: no I/O.

The rule (``sold-out-fast-v1``), per department:

1. Look at the department's most recent ``recent_days`` release days (days on which it
   released slots) within the last ``lookback_days``, counting only releases whose
   ``within_seconds`` have passed.
2. A day *sold out at release* when either
   - it sold first-come and some session of the day had every one of its slots claimed
     within ``within_seconds`` of its release, or
   - it was allocated by a draw or a release batch and its distinct entrants were at least
     the free slots the draw handed out (demand met or exceeded supply at the release, so
     the clinic would have sold out at once had it been a race). This keeps a clinic that
     the platform already protects from being judged "not scarce" for being protected.
3. The department is scarce when at least ``min_days`` days were observed and more than
   half of them sold out at release. With fewer days observed the platform is cautious
   (``unknown_is_scarce``, the setting ``FAIRSLOT_SCARCE_WITHOUT_HISTORY``, on by default):
   a new clinic's first releases are batched until its history shows otherwise, so even
   day 1 is no race — a new hospital's first release is exactly when grab software wins.
   Such a verdict is *precautionary* (:attr:`Verdict.precautionary`): the hospital may
   override it to first-come (``modes.override``), which a verdict from history refuses.

A scarce department is never a first-come race in its release minute: whatever the
hospital configured, its effective mode is at least a release batch
(:func:`effective_mode`). The verdict carries the days it read so a hospital sees why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from fairslot.allocation.states import AllocationMode
from fairslot.hospitals import allocation_policy

RULE = "sold-out-fast-v1"


@dataclass(frozen=True)
class ScarcityRule:
    within_seconds: int = 60
    recent_days: int = 7
    min_days: int = 3
    lookback_days: int = 28
    unknown_is_scarce: bool = False


@dataclass(frozen=True)
class ReleaseDay:
    """One department-day's release as history shows it.

    ``fastest_sellout_seconds``: first-come days, the seconds from release until the
    quickest session of the day had every slot claimed (None: no session sold out).
    ``entrants`` / ``drawn_slots``: draw and batch days, distinct entrants and the free
    slots drawn (``mode`` says which kind of day it was)."""

    session_date: date
    mode: AllocationMode
    slots: int
    fastest_sellout_seconds: float | None = None
    entrants: int | None = None
    drawn_slots: int | None = None


@dataclass(frozen=True)
class DayFinding:
    session_date: date
    sold_out_at_release: bool
    why: str


@dataclass(frozen=True)
class Verdict:
    scarce: bool
    rule: str
    observed_days: int
    sold_out_days: int
    days: Sequence[DayFinding] = field(default_factory=tuple)
    min_days: int = ScarcityRule.min_days

    @property
    def precautionary(self) -> bool:
        """Scarce for want of history, not because of it (the hospital may override)."""
        return self.scarce and self.observed_days < self.min_days

    @property
    def summary(self) -> str:
        verdict = "scarce" if self.scarce else "not scarce"
        if self.observed_days < self.min_days:
            caution = " — treated as scarce until they are" if self.scarce else ""
            return (
                f"{verdict}: only {self.observed_days} release days observed, "
                f"{self.min_days} needed{caution} ({self.rule})"
            )
        return (
            f"{verdict}: {self.sold_out_days} of the last {self.observed_days} release days "
            f"sold out at release ({self.rule})"
        )

    @property
    def summary_zh(self) -> str:
        verdict = "紧俏" if self.scarce else "不紧俏"
        if self.observed_days < self.min_days:
            caution = "，记录足够前按紧俏处理" if self.scarce else ""
            return (
                f"{verdict}：仅有 {self.observed_days} 个放号日记录，"
                f"需要 {self.min_days} 个{caution}（规则 {self.rule}）"
            )
        return (
            f"{verdict}：最近 {self.observed_days} 个放号日中有 {self.sold_out_days} 天"
            f"放号即约满（规则 {self.rule}）"
        )

    def as_evidence(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "scarce": self.scarce,
            "precautionary": self.precautionary,
            "observed_days": self.observed_days,
            "sold_out_days": self.sold_out_days,
            "summary": self.summary,
            "summary_zh": self.summary_zh,
            "days": [
                {
                    "session_date": d.session_date.isoformat(),
                    "sold_out_at_release": d.sold_out_at_release,
                    "why": d.why,
                }
                for d in self.days
            ],
        }


def sold_out_at_release(day: ReleaseDay, *, rule: ScarcityRule) -> DayFinding:
    """Whether one release day counts as sold out at release, and why."""
    if day.mode == AllocationMode.FIRST_COME:
        seconds = day.fastest_sellout_seconds
        if seconds is not None and seconds <= rule.within_seconds:
            return DayFinding(day.session_date, True, f"a session sold out in {seconds:.0f} s")
        if seconds is None:
            return DayFinding(day.session_date, False, "no session sold out")
        return DayFinding(day.session_date, False, f"fastest sell-out took {seconds:.0f} s")
    entrants, drawn = day.entrants or 0, day.drawn_slots or 0
    hot = drawn > 0 and entrants >= drawn
    return DayFinding(
        day.session_date, hot, f"{entrants} entrants for {drawn} slots ({day.mode.value})"
    )


def judge(days: Sequence[ReleaseDay], *, rule: ScarcityRule) -> Verdict:
    """The verdict over the most recent ``rule.recent_days`` release days given (any
    order; days without released slots are not release days)."""
    recent = sorted((d for d in days if d.slots > 0), key=lambda d: d.session_date)
    recent = recent[-rule.recent_days :]
    findings = [sold_out_at_release(d, rule=rule) for d in reversed(recent)]
    hot = sum(1 for f in findings if f.sold_out_at_release)
    enough = len(findings) >= rule.min_days
    scarce = hot * 2 > len(findings) if enough else rule.unknown_is_scarce
    return Verdict(
        scarce=scarce,
        rule=RULE,
        observed_days=len(findings),
        sold_out_days=hot,
        days=tuple(findings),
        min_days=rule.min_days,
    )


def effective_mode(*, configured: AllocationMode, scarce: bool) -> AllocationMode:
    """What the platform enforces: the rule is the hospital's department rule
    (``hospitals/allocation_policy.py``), where the channel-facing read finds it too."""
    return allocation_policy.effective_mode(configured=configured, scarce=scarce)
