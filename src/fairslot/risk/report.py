"""The daily risk report: what the anomaly batch found for a local date, and what the
medical-affairs office, IT and customer service did about it that day. Pure: no I/O.

The report for local date D (the hospital's default zone) holds

* the run of D (``risk_runs.run_date == D``) and its per-rule alert counts — every rule is
  listed, zeros included, so "nothing found" reads differently from "rule missing";
* the alerts of D with their case;
* the cases *opened by* D: those whose earliest alert is of D (so a case opened by the run
  of D counts for D even if the batch ran after midnight, and for no other day);
* the cases closed (confirmed or dismissed) during local day D, by whom and why;
* the cases still open at the close of D (the end of the day, or the end of its run if
  that came later), with their status at that moment, replayed from the case ledger;
* blacklist entries added and lifted during D; follow-up calls finished during D.

Nothing personal leaves in the clear: labels are the masked ones stored with each row, and
every text (a reviewer's reason, a desk clerk's note) passes through :func:`scrub`, which
masks whatever looks like an ID number, a phone, a card or account number, an e-mail or
an IP address that someone typed into it. The shapes the report leaves in (tables, JSON)
are in :mod:`fairslot.risk.report_shapes`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fairslot.cases.states import CaseEventKind, CaseStatus
from fairslot.errors import NotFound
from fairslot.followup.states import CallOutcome, CallReason
from fairslot.risk.rules import RuleName

RING_RULE = "ring"
RING_KIND = "ring"  # the entity kind of a ring alert and the subject kind of its case
REALTIME_REVIEW_RULE = "realtime_review"
RULES: tuple[str, ...] = (*(rule.value for rule in RuleName), RING_RULE, REALTIME_REVIEW_RULE)
"""Every rule the report counts, in the order it lists them."""


class ReportNotFound(NotFound):
    code = "report_not_found"


def not_found(day: date) -> ReportNotFound:
    return ReportNotFound(
        f"No risk run exists for {day.isoformat()}. Run `fairslot risk run --date "
        f"{day.isoformat()}` first (the worker runs it daily).",
        detail_zh=f"{day.isoformat()} 尚未运行风险筛查。请先运行 fairslot risk run --date "
        f"{day.isoformat()}。",
    )


# --- masking ----------------------------------------------------------------------------

# Seven or more digits, single spaces allowed between them (a phone typed "138 0013 8000"),
# an ID's final check character X included. Dates ("2026-11-22") and times stay readable.
_DIGITS = re.compile(r"(?<!\d)\d(?: ?\d){6,}[Xx]?(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}(?![\d.])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _mask_digits(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = re.sub(r"[^\dXx]", "", raw)
    return digits[:3] + "***" + digits[-2:]


def scrub(text: str) -> str:
    """``text`` with personal identifiers masked the way blacklist labels are
    (``138***00``) and control characters removed (a spreadsheet refuses them).
    Idempotent: masked text has nothing left to mask."""
    text = _CONTROL.sub(" ", text)
    text = _EMAIL.sub(r"\1***@\2", text)
    text = _IPV4.sub(r"\1.\2.*.*", text)
    return _DIGITS.sub(_mask_digits, text)


def _scrub_or_none(text: str | None) -> str | None:
    return None if text is None else scrub(text)


def _label(kind: str, label: str) -> str:
    """A ring's label names its hash (``ring 20261121 (6 patients, ...)``), never a person:
    left as it is, so a hash that happens to start with digits stays findable. Every other
    label is masked where it was made, and scrubbed again here."""
    return label if kind == RING_KIND else scrub(label)


# --- the report -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RunSummary:
    run_date: date
    window_start: datetime
    window_end: datetime
    started_at: datetime
    finished_at: datetime | None
    bookings_seen: int
    events_seen: int
    hits: int
    rings_flagged: int
    runs: int  # how many times the date was run (the batch is idempotent for a date)
    actor: str


@dataclass(frozen=True, kw_only=True)
class AlertLine:
    id: int
    rule: str
    entity_kind: str
    label: str  # masked
    score: float
    explanation: str
    bookings: int
    case_id: int | None


@dataclass(frozen=True, kw_only=True)
class CaseLine:
    """A case opened by the day, or still open at its close (``status`` at that moment)."""

    id: int
    subject_kind: str
    label: str  # masked
    score: float
    alerts: int
    status: CaseStatus
    opened_at: datetime


@dataclass(frozen=True, kw_only=True)
class ClosedCase:
    id: int
    subject_kind: str
    label: str  # masked
    score: float
    alerts: int
    outcome: CaseStatus  # confirmed or dismissed
    by: str
    reason: str | None
    closed_at: datetime


@dataclass(frozen=True, kw_only=True)
class BlacklistLine:
    """An entry added (``at`` = created, ``reason``) or lifted (``at`` = lifted, ``reason``
    = what was checked in person) during the day."""

    id: int
    scope: str
    label: str  # masked when the entry was made
    by: str
    at: datetime
    case: str | None
    reason: str | None
    expires_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class CallCount:
    outcome: CallOutcome
    flagged: int  # asked for by a reviewer on a case
    sample: int  # the random sample of all bookings

    @property
    def total(self) -> int:
        return self.flagged + self.sample


@dataclass(frozen=True, kw_only=True)
class DailyReport:
    day: date
    zone: str
    run: RunSummary
    rule_counts: tuple[tuple[str, int], ...]
    alerts: tuple[AlertLine, ...]
    opened: tuple[CaseLine, ...]
    closed: tuple[ClosedCase, ...]
    still_open: tuple[CaseLine, ...]
    blacklist_added: tuple[BlacklistLine, ...]
    blacklist_lifted: tuple[BlacklistLine, ...]
    calls: tuple[CallCount, ...]

    def closed_as(self, outcome: CaseStatus) -> int:
        return sum(1 for case in self.closed if case.outcome is outcome)


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """Local day ``day`` in ``zone`` as a UTC half-open interval (23 or 25 hours on a day
    the clocks change)."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def close_of_day(day: date, zone: str, *, run_finished: datetime | None) -> datetime:
    """The moment the report's "still open" list describes: the end of the local day, or
    the end of the day's run if the batch ran after midnight."""
    end = day_bounds(day, zone)[1]
    return max(end, run_finished) if run_finished is not None else end


_STATUS_AFTER: dict[CaseEventKind, CaseStatus] = {
    CaseEventKind.OPENED: CaseStatus.OPEN,
    CaseEventKind.TAKEN: CaseStatus.IN_REVIEW,
    CaseEventKind.RELEASED: CaseStatus.OPEN,
    CaseEventKind.CALL_REQUESTED: CaseStatus.AWAITING_CALL,
    CaseEventKind.CALLS_DONE: CaseStatus.OPEN,
    CaseEventKind.CONFIRMED: CaseStatus.CONFIRMED,
    CaseEventKind.DISMISSED: CaseStatus.DISMISSED,
}


def status_after(kinds: Iterable[CaseEventKind], *, default: CaseStatus) -> CaseStatus:
    """A case's status after its ledger events ``kinds`` (oldest first); ``default`` when
    none of them changes the status (an added alert or a call outcome does not)."""
    status = default
    for kind in kinds:
        status = _STATUS_AFTER.get(kind, status)
    return status


def build(
    *,
    day: date,
    zone: str,
    run: RunSummary,
    alerts: Iterable[AlertLine],
    opened: Iterable[CaseLine],
    closed: Iterable[ClosedCase],
    still_open: Iterable[CaseLine],
    blacklist_added: Iterable[BlacklistLine],
    blacklist_lifted: Iterable[BlacklistLine],
    calls_done: Iterable[tuple[CallReason, CallOutcome]],
) -> DailyReport:
    """Assemble, count, order and scrub. Alerts and cases come highest score first (the
    order a reviewer works in); closed cases, blacklist changes by time."""
    alert_lines = sorted(
        (
            replace(a, label=_label(a.entity_kind, a.label), explanation=scrub(a.explanation))
            for a in alerts
        ),
        key=lambda a: (-a.score, a.id),
    )
    by_rule = Counter(a.rule for a in alert_lines)
    # Every known rule, then any rule this code does not know yet (a newer batch's).
    rules = [*RULES, *sorted(set(by_rule) - set(RULES))]
    calls = Counter(calls_done)
    return DailyReport(
        day=day,
        zone=zone,
        run=replace(run, actor=scrub(run.actor)),
        rule_counts=tuple((rule, by_rule.get(rule, 0)) for rule in rules),
        alerts=tuple(alert_lines),
        opened=_cases(opened),
        closed=tuple(
            sorted(
                (
                    replace(
                        c,
                        label=_label(c.subject_kind, c.label),
                        by=scrub(c.by),
                        reason=_scrub_or_none(c.reason),
                    )
                    for c in closed
                ),
                key=lambda c: (c.closed_at, c.id),
            )
        ),
        still_open=_cases(still_open),
        blacklist_added=_entries(blacklist_added),
        blacklist_lifted=_entries(blacklist_lifted),
        calls=tuple(
            CallCount(
                outcome=outcome,
                flagged=calls[(CallReason.FLAGGED, outcome)],
                sample=calls[(CallReason.SAMPLE, outcome)],
            )
            for outcome in CallOutcome
        ),
    )


def _cases(lines: Iterable[CaseLine]) -> tuple[CaseLine, ...]:
    return tuple(
        sorted(
            (replace(c, label=_label(c.subject_kind, c.label)) for c in lines),
            key=lambda c: (-c.score, c.opened_at, c.id),
        )
    )


def _entries(lines: Iterable[BlacklistLine]) -> tuple[BlacklistLine, ...]:
    return tuple(
        sorted(
            (
                replace(
                    e,
                    label=scrub(e.label),
                    by=scrub(e.by),
                    case=_scrub_or_none(e.case),
                    reason=_scrub_or_none(e.reason),
                )
                for e in lines
            ),
            key=lambda e: (e.at, e.id),
        )
    )
