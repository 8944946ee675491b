"""The daily risk report over a hand-built day (``factories/report_data.py``), read from the
database on SQLite and PostgreSQL: the run, every rule's count, the alerts, the cases
opened, closed and still open, blacklist changes and calls — and nothing personal in the
clear in any of its shapes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook

from factories.report_data import (
    DAY,
    PAYMENT_LABEL,
    QUIET_DAY,
    RING_LABEL,
    SHEETS,
    ReportDay,
    hand_built_day,
)
from fairslot.cases.states import CaseStatus
from fairslot.followup.states import CallOutcome
from fairslot.risk import report_files
from fairslot.risk.report import RULES, DailyReport, ReportNotFound
from fairslot.risk.report_service import daily_report
from fairslot.risk.report_shapes import as_json

ZONE = "Asia/Shanghai"


@pytest.fixture
def day(db, platform) -> ReportDay:
    return hand_built_day(db, platform)


@pytest.fixture
def report(db, day: ReportDay) -> DailyReport:
    return daily_report(db, day=DAY, zone=ZONE)


def test_the_run_of_the_day_is_summarised_in_the_hospital_zone(report: DailyReport) -> None:
    run = as_json(report)["run"]
    assert run["run_date"] == "2026-11-21"
    assert run["window_start"] == "2026-11-15T00:00:00+08:00"
    assert run["window_end"] == "2026-11-22T00:00:00+08:00"
    assert run["started_at"] == "2026-11-22T00:40:00+08:00"
    assert (run["bookings_seen"], run["events_seen"], run["runs"]) == (8410, 20877, 1)


def test_every_rule_is_counted_zeros_included(report: DailyReport) -> None:
    counts = dict(report.rule_counts)
    assert [rule for rule, _ in report.rule_counts] == list(RULES)
    assert {rule: n for rule, n in counts.items() if n} == {
        "same_payment_same_department": 1,
        "shared_payment_account": 1,
        "ring": 1,
        "transfer": 1,
        "realtime_review": 1,
    }
    assert counts["sex_mismatch"] == counts["no_shows"] == 0
    assert sum(counts.values()) == len(report.alerts) == 5


def test_the_alerts_come_highest_score_first_with_their_case(
    report: DailyReport, day: ReportDay
) -> None:
    alerts = [(a.rule, a.label, a.score, a.bookings, a.case_id) for a in report.alerts]
    assert alerts == [
        ("ring", RING_LABEL, 2.0, 19, day.cases["R"].id),
        ("same_payment_same_department", PAYMENT_LABEL, 1.4, 7, day.cases["A"].id),
        ("shared_payment_account", PAYMENT_LABEL, 1.2, 6, day.cases["A"].id),
        ("realtime_review", "device ime***19", 1.0, 1, day.cases["E"].id),
        ("transfer", "patient ****0021", 1.0, 2, day.cases["O"].id),
    ]


def test_cases_opened_by_the_day_include_those_its_run_opened_after_midnight(
    report: DailyReport, day: ReportDay
) -> None:
    # A and R were opened by the run of DAY at 00:41 the next day; E during DAY. O got an
    # alert on DAY but was opened two days earlier.
    opened = {c.id: c.alerts for c in report.opened}
    assert opened == {day.cases["A"].id: 2, day.cases["R"].id: 1, day.cases["E"].id: 1}


def test_cases_closed_that_day_say_how_by_whom_and_why(report: DailyReport, day: ReportDay) -> None:
    closed = [(c.id, c.outcome, c.by) for c in report.closed]
    assert closed == [
        (day.cases["X"].id, CaseStatus.CONFIRMED, "wang"),
        (day.cases["Y"].id, CaseStatus.DISMISSED, "li"),
    ]
    assert report.closed[1].reason == "a family of four on one home network; the visits were real"


def test_cases_still_open_show_their_status_at_the_close_of_the_day(
    report: DailyReport, day: ReportDay
) -> None:
    # V was dismissed and W's calls were done the next morning, after the run of DAY: the
    # report of DAY shows them as they were then, whenever it is read.
    status = {c.id: c.status for c in report.still_open}
    assert status == {
        day.cases["O"].id: CaseStatus.OPEN,
        day.cases["Z"].id: CaseStatus.IN_REVIEW,
        day.cases["W"].id: CaseStatus.AWAITING_CALL,
        day.cases["V"].id: CaseStatus.IN_REVIEW,
        day.cases["E"].id: CaseStatus.OPEN,
        day.cases["A"].id: CaseStatus.OPEN,
        day.cases["R"].id: CaseStatus.OPEN,
    }
    assert [c.score for c in report.still_open] == sorted(
        (c.score for c in report.still_open), reverse=True
    )


def test_blacklist_changes_of_the_day_only(report: DailyReport, day: ReportDay) -> None:
    added = [(e.id, e.scope, e.label, e.by, e.case) for e in report.blacklist_added]
    assert added == [
        (day.entries["phone"].id, "phone", "138***78", "zhao", str(day.cases["X"].id)),
        (day.entries["payment"].id, "payment", "622***23", "zhao", str(day.cases["X"].id)),
    ]
    assert report.blacklist_added[1].expires_at is not None
    assert [(e.id, e.scope, e.by) for e in report.blacklist_lifted] == [
        (day.entries["lifted"].id, "patient", "zhao")
    ]


def test_calls_done_that_day_are_counted_by_outcome(report: DailyReport) -> None:
    calls = {c.outcome: (c.flagged, c.sample) for c in report.calls}
    assert calls == {
        CallOutcome.GENUINE: (1, 1),
        CallOutcome.SUSPICIOUS: (2, 0),
        CallOutcome.UNREACHABLE: (0, 1),
    }


def test_a_day_whose_run_found_nothing_lists_every_rule_with_zero(db, day: ReportDay) -> None:
    quiet = daily_report(db, day=QUIET_DAY, zone=ZONE)
    assert quiet.rule_counts == tuple((rule, 0) for rule in RULES)
    assert quiet.alerts == quiet.opened == quiet.closed == ()
    assert quiet.run.bookings_seen == 8123
    rows = list(csv.reader(io.StringIO(report_files.to_csv(quiet))))
    start = rows.index(["Rule counts"]) + 2
    assert rows[start : start + len(RULES)] == [[rule, "0"] for rule in RULES]


def test_a_date_without_a_run_is_not_found_with_the_command_to_run(db, day: ReportDay) -> None:
    with pytest.raises(ReportNotFound) as missing:
        daily_report(db, day=dt.date(2026, 11, 22), zone=ZONE)
    assert missing.value.code == "report_not_found"
    assert missing.value.status == 404
    assert "fairslot risk run --date 2026-11-22" in missing.value.detail


def _xlsx_text(content: bytes) -> str:
    workbook = load_workbook(io.BytesIO(content))
    return "\n".join(
        str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row
    )


def test_no_id_phone_or_payment_account_leaves_in_the_clear(
    report: DailyReport, day: ReportDay
) -> None:
    # The data holds them in full in a reviewer's reason, IT's block reason and the desk's
    # note of what was checked in person.
    shapes = {
        "json": json.dumps(as_json(report), ensure_ascii=False),
        "csv": report_files.to_csv(report),
        "xlsx": _xlsx_text(report_files.to_xlsx(report)),
    }
    for name, text in shapes.items():
        for secret in day.secrets:
            assert secret not in text, (name, secret)
        assert "called 138***78: a broker answered" in text, name
        assert f"from {day.payment_account[:3]}***{day.payment_account[-2:]}" in text, name


def test_the_workbook_has_one_sheet_per_section_with_bold_headers_and_real_times(
    report: DailyReport,
) -> None:
    workbook = load_workbook(io.BytesIO(report_files.to_xlsx(report)))
    assert workbook.sheetnames == SHEETS
    cases = workbook["Cases"]
    assert all(cell.font.bold for cell in cases[1])
    assert cases.freeze_panes == "A2"
    header = [cell.value for cell in cases[1]]
    opened_at = header.index("opened at")
    first = next(cases.iter_rows(min_row=2, values_only=True))
    assert isinstance(first[opened_at], dt.datetime)
    assert first[opened_at].tzinfo is None
    # Local time: the ring's case R, highest score, was opened at 00:41 in Shanghai on the 22nd.
    assert first[1] == report.opened[0].id
    assert first[opened_at] == dt.datetime(2026, 11, 22, 0, 41)  # noqa: DTZ001 (zone-less)
    rules = workbook["Rule counts"]
    assert [row for row in rules.iter_rows(min_row=2, values_only=True)] == list(report.rule_counts)
    assert rules.column_dimensions["A"].width >= len("same_payment_same_department")
