"""The daily report as the console page lays it out: the paper's rules and the platform's,
each with its thresholds, its hits (figure against threshold) and their cases. Only
arrangement: the report, the thresholds and the figures come from the risk domain."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from fairslot.cases.states import CaseStatus
from fairslot.risk.facts import RiskSettings
from fairslot.risk.report import AlertLine, DailyReport
from fairslot.risk.report_thresholds import PAPER_RULES, Parameters, figure, parameters, threshold
from fairslot.risk.rings import RingSettings

HITS_SHOWN = 20  # per rule; the CSV and the workbook hold every one
CASES_SHOWN = 15


@dataclass(frozen=True, kw_only=True)
class Hit:
    alert: AlertLine
    figure: int | None
    threshold: int | None


@dataclass(frozen=True, kw_only=True)
class RuleView:
    rule: str
    parameters: Parameters
    count: int
    top_score: float | None
    hits: tuple[Hit, ...]  # the first HITS_SHOWN, highest score first

    @property
    def hidden(self) -> int:
        return self.count - len(self.hits)


@dataclass(frozen=True, kw_only=True)
class ReportView:
    report: DailyReport
    paper: tuple[RuleView, ...]
    platform: tuple[RuleView, ...]

    @property
    def rules(self) -> tuple[RuleView, ...]:
        return self.paper + self.platform

    @property
    def confirmed(self) -> int:
        return self.report.closed_as(CaseStatus.CONFIRMED)

    @property
    def dismissed(self) -> int:
        return self.report.closed_as(CaseStatus.DISMISSED)


def arrange(report: DailyReport, *, risk: RiskSettings, ring: RingSettings) -> ReportView:
    by_rule: dict[str, list[AlertLine]] = defaultdict(list)
    for alert in report.alerts:  # highest score first already
        by_rule[alert.rule].append(alert)

    def view(rule: str, count: int) -> RuleView:
        alerts = by_rule.get(rule, [])
        hits = []
        for alert in alerts[:HITS_SHOWN]:
            limit = threshold(rule, alert.entity_kind, risk=risk, ring=ring)
            hits.append(Hit(alert=alert, figure=figure(alert.score, limit), threshold=limit))
        return RuleView(
            rule=rule,
            parameters=parameters(rule, risk=risk, ring=ring),
            count=count,
            top_score=alerts[0].score if alerts else None,
            hits=tuple(hits),
        )

    views = [view(rule, count) for rule, count in report.rule_counts]
    return ReportView(
        report=report,
        paper=tuple(v for v in views if v.rule in PAPER_RULES),
        platform=tuple(v for v in views if v.rule not in PAPER_RULES),
    )


def neighbours(day: date, *, latest: date) -> tuple[date, date | None]:
    """The day before, and the day after unless that is past the latest report date."""
    after = day + timedelta(days=1)
    return day - timedelta(days=1), (after if after <= latest else None)
