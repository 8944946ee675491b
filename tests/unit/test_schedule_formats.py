"""Reading schedule documents (JSON and CSV). No database."""

from __future__ import annotations

import json
from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairslot.hospitals.models import DoctorTitle, SexRestriction
from fairslot.schedules.errors import ScheduleInvalid
from fairslot.schedules.formats import (
    MAX_SESSIONS,
    ScheduleDocument,
    parse_csv,
    parse_json,
    parse_json_document,
)
from fairslot.schedules.states import Period, SessionStatus

TODAY = date(2026, 11, 22)
HEADER = (
    "hospital,session_id,department,department_name,specialty,doctor,doctor_name,"
    "doctor_title,date,period,start,end,fee,capacity,status"
)


def _session(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "session_id": "S1",
        "department": "GYN",
        "doctor": "DR1",
        "date": "2026-11-29",
        "period": "am",
        "start": "08:00",
        "end": "12:00",
        "fee": "50.00",
        "capacity": 20,
    }
    entry.update(overrides)
    return entry


def _doc(*sessions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"hospital": "H1", "sessions": list(sessions), **extra}


def _problems(data: Any) -> list[dict[str, Any]]:
    with pytest.raises(ScheduleInvalid) as caught:
        parse_json_document(data, today=TODAY)
    return caught.value.problems


def _locations(data: Any) -> set[str]:
    return {p["location"] for p in _problems(data)}


def test_a_json_document_becomes_typed_sessions() -> None:
    doc = parse_json(json.dumps(_doc(_session())), today=TODAY)

    assert doc.hospital == "H1"
    (session,) = doc.sessions
    assert session.his_session_id == "S1"
    assert session.session_date == date(2026, 11, 29)
    assert session.period is Period.MORNING
    assert (session.local_start, session.local_end) == (time(8), time(12))
    assert session.fee == Decimal("50.00")
    assert session.capacity == 20
    assert session.status is SessionStatus.ACTIVE


def test_departments_and_doctors_are_read_with_their_restrictions() -> None:
    data = _doc(
        departments=[
            {"code": "GYN", "name": "妇科", "specialty": "gynecology", "sex_restriction": "female"},
            {"code": "PED", "name": "儿科", "specialty": "pediatrics", "max_age": 14},
        ],
        doctors=[{"code": "DR1", "name": "王医生", "title": "chief", "department": "GYN"}],
    )

    doc = parse_json_document(data, today=TODAY)

    gyn, ped = doc.departments
    assert gyn.sex_restriction is SexRestriction.FEMALE
    assert ped.max_age == 14 and ped.min_age is None
    assert "sex_restriction" not in ped.model_fields_set  # an update keeps what is stored
    assert doc.doctors[0].title is DoctorTitle.CHIEF


def test_every_problem_is_reported_with_its_place() -> None:
    data = _doc(
        _session(session_id="S1", capacity=501),
        _session(session_id="S2", start="13:00", end="12:00"),
        _session(session_id="S3", period="night", fee="-1"),
    )

    problems = _problems(data)

    locations = {p["location"] for p in problems}
    assert {"sessions[0].capacity", "sessions[1]", "sessions[2].period", "sessions[2].fee"} <= (
        locations
    )
    assert {p["session_id"] for p in problems} == {"S1", "S2", "S3"}


def test_the_error_is_a_422_schedule_invalid_naming_the_first_problem() -> None:
    with pytest.raises(ScheduleInvalid) as caught:
        parse_json_document(_doc(_session(capacity=501)), today=TODAY)

    error = caught.value
    assert (error.status, error.code) == (422, "schedule_invalid")
    assert "sessions[0].capacity" in error.detail
    assert error.extra["problem_count"] == 1


@pytest.mark.parametrize(
    "raw",
    [b"{", b"", b"\xff\xfe\x00", b"[1, 2", b"{" * 100_000, b'{"hospital": 1' + b"0" * 5000 + b"}"],
)
def test_malformed_json_is_a_schedule_problem(raw: bytes) -> None:
    with pytest.raises(ScheduleInvalid) as caught:
        parse_json(raw, today=TODAY)

    assert caught.value.problems[0]["location"] == "document"


@pytest.mark.parametrize("data", [[], "text", 12, None])
def test_a_document_must_be_an_object(data: Any) -> None:
    assert _locations(data) == {"document"}


def test_a_document_needs_a_hospital_and_lists() -> None:
    locations = _locations({"sessions": {"S1": {}}, "doctors": "x"})

    assert locations == {"hospital", "sessions", "doctors"}


def test_unknown_keys_are_refused_so_a_typo_is_not_silently_ignored() -> None:
    locations = _locations(_doc(_session(capacty=5), hopsital="H1"))

    assert {"hopsital", "sessions[0].capacty"} <= locations


def test_more_than_the_maximum_sessions_is_refused_before_reading_them() -> None:
    problems = _problems(_doc(*[_session()] * (MAX_SESSIONS + 1)))

    assert problems == [
        {
            "location": "sessions",
            "message": f"has {MAX_SESSIONS + 1} entries; at most 20000 per document",
        }
    ]


def test_a_session_id_may_not_appear_twice() -> None:
    problems = _problems(_doc(_session(session_id="S1"), _session(session_id="S1")))

    assert problems[0]["location"] == "sessions[1].session_id"
    assert "sessions[0]" in problems[0]["message"]


def test_yesterday_is_accepted_but_older_dates_are_not() -> None:
    doc = parse_json_document(_doc(_session(date="2026-11-21")), today=TODAY)
    assert doc.sessions[0].session_date == date(2026, 11, 21)

    assert _locations(_doc(_session(date="2026-11-20"))) == {"sessions[0].date"}


def test_a_date_more_than_a_year_ahead_is_refused() -> None:
    assert _locations(_doc(_session(date="9999-12-31"))) == {"sessions[0].date"}


def test_names_may_not_hold_control_characters() -> None:
    data = _doc(departments=[{"code": "G", "name": "妇\x00科", "specialty": "gynecology"}])

    assert _locations(data) == {"departments[0].name"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date", "2026-02-30"),
        ("date", "29/11/2026"),
        ("date", 20261129),
        ("start", "8h"),
        ("start", "24:00"),
        ("end", 1200),
        ("fee", "50.001"),
        ("fee", "NaN"),
        ("fee", "1e400"),
        ("fee", 10**30),
        ("fee", True),
        ("fee", None),
        ("capacity", -1),
        ("capacity", 10**100),
        ("capacity", 2.5),
        ("capacity", True),
        ("capacity", "twenty"),
        ("status", "cancelled"),
        ("session_id", "a/b"),
        ("session_id", "x" * 65),
        ("department", ""),
        ("doctor", ["DR1"]),
    ],
)
def test_a_bad_field_value_is_named(field: str, value: Any) -> None:
    assert _locations(_doc(_session(**{field: value}))) == {f"sessions[0].{field}"}


def test_lenient_spellings_are_read() -> None:
    doc = parse_json_document(
        _doc(_session(session_id=12345, period="PM", start="8:00", capacity="20", fee=30)),
        today=TODAY,
    )

    session = doc.sessions[0]
    assert session.his_session_id == "12345"
    assert session.period is Period.AFTERNOON
    assert session.local_start == time(8)
    assert (session.capacity, session.fee) == (20, Decimal("30.00"))


def test_a_department_with_an_impossible_age_range_is_refused() -> None:
    data = _doc(
        departments=[
            {"code": "P", "name": "儿科", "specialty": "pediatrics", "min_age": 14, "max_age": 3}
        ]
    )

    assert _locations(data) == {"departments[0]"}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@given(field=st.sampled_from(sorted(_session())), value=JSON_VALUES)
def test_no_value_in_any_field_breaks_the_json_reader(field: str, value: Any) -> None:
    try:
        parse_json_document(_doc(_session(**{field: value})), today=TODAY)
    except ScheduleInvalid as exc:
        assert exc.problems


# --- CSV -------------------------------------------------------------------------------


def _csv(*lines: str, header: str = HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


LINE = "H1,S1,GYN,妇科,gynecology,DR1,王医生,chief,2026-11-29,am,08:00,12:00,50.00,20,"


def _csv_problems(text: str) -> list[dict[str, Any]]:
    with pytest.raises(ScheduleInvalid) as caught:
        parse_csv(text, today=TODAY)
    return caught.value.problems


def test_a_csv_file_becomes_the_same_document_as_json() -> None:
    doc = parse_csv(_csv(LINE, LINE.replace("S1", "S2").replace(",am,", ",pm,")), today=TODAY)

    assert isinstance(doc, ScheduleDocument)
    assert doc.hospital == "H1"
    assert [s.his_session_id for s in doc.sessions] == ["S1", "S2"]
    assert doc.sessions[1].period is Period.AFTERNOON
    assert doc.sessions[0].status is SessionStatus.ACTIVE
    (department,) = doc.departments
    assert (department.code, department.name, department.specialty) == (
        "GYN",
        "妇科",
        "gynecology",
    )
    (doctor,) = doc.doctors
    assert (doctor.code, doctor.department, doctor.title) == ("DR1", "GYN", DoctorTitle.CHIEF)


def test_csv_name_columns_may_be_left_empty() -> None:
    line = "H1,S1,GYN,,,DR1,,,2026-11-29,am,08:00,12:00,50,20,withdrawn"
    doc = parse_csv(_csv(line), today=TODAY)

    assert doc.departments == () and doc.doctors == ()
    assert doc.sessions[0].status is SessionStatus.WITHDRAWN


def test_a_csv_header_with_a_byte_order_mark_and_only_required_columns_is_read() -> None:
    header = "\ufeffhospital,session_id,department,doctor,date,period,start,end,fee,capacity"
    doc = parse_csv(
        _csv("H1,S1,GYN,DR1,2026-11-29,am,08:00,12:00,50,20", header=header), today=TODAY
    )

    assert doc.sessions[0].capacity == 20


def test_csv_problems_name_the_line_and_column() -> None:
    text = _csv(
        LINE,
        LINE.replace("S1", "S2").replace(",20,", ",999,"),
        LINE.replace("S1", "S3").replace("2026-11-29", "2026-13-01"),
    )

    locations = {p["location"] for p in _csv_problems(text)}

    assert locations == {"line 3: capacity", "line 4: date"}


def test_a_csv_header_with_unknown_or_missing_columns_is_refused() -> None:
    problems = _csv_problems(_csv("x", header="hospital,session_id,capcity"))

    messages = " ".join(p["message"] for p in problems)
    assert "unknown column 'capcity'" in messages
    assert "missing column 'capacity'" in messages


def test_a_csv_line_with_the_wrong_number_of_fields_is_named() -> None:
    problems = _csv_problems(_csv(LINE, "H1,S2,GYN"))

    assert problems == [{"location": "line 3", "message": "has 3 fields; the header has 15"}]


def test_every_csv_line_must_name_the_same_hospital() -> None:
    problems = _csv_problems(_csv(LINE, LINE.replace("H1,S1", "H2,S2")))

    assert problems[0]["location"] == "hospital"


def test_a_department_described_two_ways_in_one_file_is_refused() -> None:
    problems = _csv_problems(_csv(LINE, LINE.replace("S1", "S2").replace("妇科", "产科")))

    assert problems[0]["location"] == "line 3: department"


def test_a_department_name_without_a_specialty_is_refused() -> None:
    problems = _csv_problems(_csv(LINE.replace("gynecology", "")))

    assert problems[0]["location"] == "line 2: specialty"


def test_an_unreadable_or_empty_csv_is_a_schedule_problem() -> None:
    assert _csv_problems("")[0]["message"] == "the file is empty"
    assert _csv_problems(_csv())[0]["message"] == "the file has no session lines"
    assert "unreadable CSV" in _csv_problems(_csv('H1,"S1' + "x" * 200_000))[-1]["message"]


def test_a_duplicated_csv_session_is_named_by_line() -> None:
    problems = _csv_problems(_csv(LINE, LINE))

    assert problems == [
        {"location": "line 3: session_id", "message": "'S1' already given at line 2"}
    ]


@given(text=st.text(max_size=300))
def test_no_text_breaks_the_csv_reader(text: str) -> None:
    try:
        parse_csv(f"{HEADER}\n{text}", today=TODAY)
    except ScheduleInvalid as exc:
        assert exc.problems
