"""Reading a hospital's schedule: a JSON document or a CSV file. Pure: no I/O.

Both formats become the same :class:`ScheduleDocument`. Every problem is collected, named
by its place in the document (``sessions[3].capacity``, ``line 7: fee``), and raised at
once as :class:`ScheduleInvalid` (422), so a hospital fixes its export in one round.
See docs/schedule-format.md.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Self, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from fairslot.hospitals.schemas import CODE_PATTERN, Code, DepartmentIn, DoctorIn
from fairslot.schedules.errors import ScheduleInvalid
from fairslot.schedules.states import Period, SessionStatus

MAX_SESSIONS = 20_000
MAX_DEPARTMENTS = 5_000
MAX_DOCTORS = 20_000
MAX_CAPACITY = 500
MAX_FEE = Decimal("99999999.99")  # NUMERIC(10, 2)
PAST_DAYS_ALLOWED = 1
# Far enough for any release policy (days_ahead <= 60); keeps dates clear of datetime's
# year-9999 edge in every time zone.
FUTURE_DAYS_ALLOWED = 366

CSV_COLUMNS = (
    "hospital",
    "session_id",
    "department",
    "department_name",
    "specialty",
    "allocation_mode",
    "doctor",
    "doctor_name",
    "doctor_title",
    "date",
    "period",
    "start",
    "end",
    "fee",
    "capacity",
    "status",
)
CSV_REQUIRED = frozenset(
    {"hospital", "session_id", "department", "doctor", "date", "period", "start", "end"}
    | {"fee", "capacity"}
)

Problem = dict[str, Any]


@dataclass(frozen=True)
class SessionSpec:
    his_session_id: str
    department: str
    doctor: str
    session_date: date
    period: Period
    local_start: time
    local_end: time
    fee: Decimal
    capacity: int
    status: SessionStatus = SessionStatus.ACTIVE
    # Where the document gives it ("sessions[3]", "line 7"): how a person finds the row.
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class ScheduleDocument:
    hospital: str
    sessions: tuple[SessionSpec, ...] = ()
    departments: tuple[DepartmentIn, ...] = ()
    doctors: tuple[DoctorIn, ...] = ()


# --- field readers (shared by both formats) -------------------------------------------

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::00)?")
_COUNT = re.compile(r"[0-9]{1,6}")
_CENT = Decimal("0.01")


def _iso_date(value: object) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
        raise PydanticCustomError("date_format", "must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise PydanticCustomError("date_value", "is not a real calendar date") from None


def _hhmm(value: object) -> time:
    if isinstance(value, time):
        return value
    match = _HHMM.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise PydanticCustomError("time_format", "must be a time of day written HH:MM")
    return time(int(match[1]), int(match[2]))


def _fee(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise PydanticCustomError("fee_type", 'must be an amount such as "50.00"')
    text = str(value).strip()
    try:
        amount = Decimal(text) if len(text) <= 20 else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise PydanticCustomError("fee_format", 'must be an amount such as "50.00"')
    if amount < 0:
        raise PydanticCustomError("fee_negative", "must not be negative")
    if amount > MAX_FEE:
        raise PydanticCustomError("fee_too_large", f"must not exceed {MAX_FEE}")
    if amount != amount.quantize(_CENT):
        raise PydanticCustomError("fee_precision", "has at most two decimal places")
    return abs(amount).quantize(_CENT)  # abs: "-0" is a free session, not a negative fee


def _capacity(value: object) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and _COUNT.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("capacity_type", "must be a whole number")
    if not 0 <= value <= MAX_CAPACITY:
        raise PydanticCustomError("capacity_range", f"must be between 0 and {MAX_CAPACITY}")
    return value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


SessionCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=CODE_PATTERN)
]


class _SessionRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    session_id: SessionCode
    department: Code
    doctor: Code
    session_date: Annotated[date, BeforeValidator(_iso_date)] = Field(alias="date")
    period: Annotated[Period, BeforeValidator(_lower)]
    start: Annotated[time, BeforeValidator(_hhmm)]
    end: Annotated[time, BeforeValidator(_hhmm)]
    fee: Annotated[Decimal, BeforeValidator(_fee)]
    capacity: Annotated[int, BeforeValidator(_capacity)]
    status: Annotated[SessionStatus, BeforeValidator(_lower)] = SessionStatus.ACTIVE

    @field_validator("session_date")
    @classmethod
    def _not_past(cls, value: date, info: ValidationInfo) -> date:
        today = (info.context or {}).get("today")
        if not isinstance(today, date):
            raise TypeError("validate sessions with context={'today': <local date>}")
        if value < today - timedelta(days=PAST_DAYS_ALLOWED):
            raise PydanticCustomError(
                "date_past", "is in the past: sessions may be pushed from yesterday on"
            )
        if value > today + timedelta(days=FUTURE_DAYS_ALLOWED):
            raise PydanticCustomError(
                "date_future", f"is more than {FUTURE_DAYS_ALLOWED} days ahead"
            )
        return value

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if self.end <= self.start:
            raise PydanticCustomError("end_before_start", "end must be later than start (same day)")
        return self

    def spec(self, where: str = "") -> SessionSpec:
        return SessionSpec(
            his_session_id=self.session_id,
            department=self.department,
            doctor=self.doctor,
            session_date=self.session_date,
            period=self.period,
            local_start=self.start,
            local_end=self.end,
            fee=self.fee,
            capacity=self.capacity,
            status=self.status,
            where=where,
        )


_HOSPITAL_CODE: TypeAdapter[str] = TypeAdapter(Code)
_M = TypeVar("_M", bound=BaseModel)


# --- JSON ------------------------------------------------------------------------------

_JSON_KEYS = frozenset({"hospital", "departments", "doctors", "sessions"})


def parse_json(raw: bytes | str, *, today: date) -> ScheduleDocument:
    """Read a JSON schedule document; ``today`` is the hospital's local date."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        # ValueError covers malformed JSON, bad UTF-8 and absurdly long numbers.
        raise ScheduleInvalid(
            [{"location": "document", "message": "is not valid JSON (UTF-8)"}]
        ) from None
    return parse_json_document(data, today=today)


def parse_json_document(data: object, *, today: date) -> ScheduleDocument:
    """Read an already decoded JSON schedule document."""
    if not isinstance(data, dict):
        raise ScheduleInvalid(
            [{"location": "document", "message": "must be a JSON object with a 'hospital' key"}]
        )
    problems: list[Problem] = [
        {"location": str(key)[:64], "message": "is not a known key"}
        for key in data
        if key not in _JSON_KEYS
    ]
    hospital = ""
    try:
        hospital = _HOSPITAL_CODE.validate_python(data.get("hospital"))
    except ValidationError as exc:
        problems += _problems(exc, prefix="hospital")
    entries = {
        name: _entries(data, name, limit, problems)
        for name, limit in (
            ("departments", MAX_DEPARTMENTS),
            ("doctors", MAX_DOCTORS),
            ("sessions", MAX_SESSIONS),
        )
    }
    departments = _validate_each(DepartmentIn, entries["departments"], "departments", problems)
    doctors = _validate_each(DoctorIn, entries["doctors"], "doctors", problems)
    rows = _validate_each(
        _SessionRow, entries["sessions"], "sessions", problems, context={"today": today}
    )
    _no_duplicates(departments, "code", lambda d: d.code, problems)
    _no_duplicates(doctors, "code", lambda d: d.code, problems)
    _no_duplicates(rows, "session_id", lambda r: r.session_id, problems)
    if problems:
        raise ScheduleInvalid(problems)
    return ScheduleDocument(
        hospital=hospital,
        sessions=tuple(row.spec(where) for where, row in rows),
        departments=tuple(department for _, department in departments),
        doctors=tuple(doctor for _, doctor in doctors),
    )


def _entries(data: Mapping[str, Any], name: str, limit: int, problems: list[Problem]) -> list[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        problems.append({"location": name, "message": "must be a list"})
        return []
    if len(value) > limit:
        problems.append(
            {"location": name, "message": f"has {len(value)} entries; at most {limit} per document"}
        )
        return []
    return value


def _validate_each(
    model: type[_M],
    entries: list[Any],
    name: str,
    problems: list[Problem],
    *,
    context: dict[str, Any] | None = None,
) -> list[tuple[str, _M]]:
    valid: list[tuple[str, _M]] = []
    for index, entry in enumerate(entries):
        where = f"{name}[{index}]"
        try:
            valid.append((where, model.model_validate(entry, context=context)))
        except ValidationError as exc:
            problems += _problems(exc, prefix=where, session_id=_session_id(entry))
    return valid


def _session_id(entry: object) -> str | None:
    if isinstance(entry, dict) and isinstance(entry.get("session_id"), str | int):
        return str(entry["session_id"])[:64]
    return None


# --- CSV -------------------------------------------------------------------------------

# The text encodings a hospital system may send CSV in. Anything else (idna, punycode,
# binary codecs...) is refused: those codecs raise errors of their own, or decode nonsense.
CSV_CHARSETS = frozenset(
    {"utf-8", "utf8", "utf-8-sig", "gb18030", "gbk", "gb2312", "big5", "utf-16"}
)


def charset_of(content_type: str) -> str:
    """The charset a Content-Type names (``text/csv; charset=GB18030``), else UTF-8."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"').lower()
    return "utf-8-sig"


def decode_csv(body: bytes, *, charset: str = "utf-8-sig") -> str:
    """A CSV file's text; a UTF-8 byte-order mark is dropped."""
    charset = charset.lower()
    if charset not in CSV_CHARSETS:
        message = f"unsupported charset {charset[:40]!r}; use one of " + ", ".join(
            sorted(CSV_CHARSETS)
        )
        raise ScheduleInvalid([{"location": "document", "message": message}])
    try:
        return body.decode("utf-8-sig" if charset in ("utf-8", "utf8") else charset)
    except UnicodeError:
        message = f"is not valid {charset} text"
    raise ScheduleInvalid([{"location": "document", "message": message}])


def parse_csv(text: str, *, today: date) -> ScheduleDocument:
    """Read a CSV schedule: a header line, then one session per line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[Problem] = []
    try:
        header = _csv_header(next(reader, None))
        rows = _csv_rows(reader, header, today=today, problems=problems)
    except csv.Error as exc:
        where = f"line {reader.line_num}"
        problems.append({"location": where, "message": f"unreadable CSV: {exc}"})
        raise ScheduleInvalid(problems) from None
    if problems:
        raise ScheduleInvalid(problems)
    return rows


def _csv_header(row: list[str] | None) -> list[str]:
    if row is None:
        raise ScheduleInvalid([{"location": "line 1", "message": "the file is empty"}])
    header = [cell.strip().lstrip("\ufeff").lower() for cell in row]
    problems: list[Problem] = [
        {"location": "line 1", "message": f"unknown column {name[:40]!r}"}
        for name in header
        if name not in CSV_COLUMNS
    ]
    problems += [
        {"location": "line 1", "message": f"column {name!r} appears more than once"}
        for name in sorted({n for n in header if header.count(n) > 1})
    ]
    problems += [
        {"location": "line 1", "message": f"missing column {name!r}"}
        for name in sorted(CSV_REQUIRED - set(header))
    ]
    if problems:
        raise ScheduleInvalid(problems)
    return header


def _csv_rows(
    reader: Any, header: list[str], *, today: date, problems: list[Problem]
) -> ScheduleDocument:
    hospitals: dict[str, int] = {}
    sessions: list[tuple[str, _SessionRow]] = []
    departments: dict[str, tuple[int, DepartmentIn]] = {}
    doctors: dict[str, tuple[int, DoctorIn]] = {}
    count = 0
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        count += 1
        if count > MAX_SESSIONS:
            problems.append(
                {"location": f"line {line}", "message": f"at most {MAX_SESSIONS} sessions per file"}
            )
            break
        if len(cells) != len(header):
            problems.append(
                {
                    "location": f"line {line}",
                    "message": f"has {len(cells)} fields; the header has {len(header)}",
                }
            )
            continue
        row = {name: cell.strip() for name, cell in zip(header, cells, strict=True) if cell.strip()}
        where = f"line {line}"
        if "hospital" in row:
            hospitals.setdefault(row["hospital"], line)
        session = _csv_session(row, where=where, today=today, problems=problems)
        if session is not None:
            sessions.append((where, session))
        _csv_department(row, line=line, seen=departments, problems=problems)
        _csv_doctor(row, line=line, seen=doctors, problems=problems)
    if count == 0:
        problems.append({"location": "line 2", "message": "the file has no session lines"})
    if len(hospitals) > 1:
        problems.append(
            {
                "location": "hospital",
                "message": "every line must name the same hospital; found "
                + ", ".join(f"{code[:32]!r} (line {line})" for code, line in hospitals.items()),
            }
        )
    hospital = ""
    if len(hospitals) == 1:
        try:
            hospital = _HOSPITAL_CODE.validate_python(next(iter(hospitals)))
        except ValidationError as exc:
            problems += _problems(exc, prefix="hospital")
    _no_duplicates(sessions, "session_id", lambda r: r.session_id, problems, sep=": ")
    return ScheduleDocument(
        hospital=hospital,
        sessions=tuple(row.spec(where) for where, row in sessions),
        departments=tuple(spec for _, spec in departments.values()),
        doctors=tuple(spec for _, spec in doctors.values()),
    )


def _csv_session(
    row: dict[str, str], *, where: str, today: date, problems: list[Problem]
) -> _SessionRow | None:
    fields = ("session_id", "department", "doctor", "date", "period", "start", "end")
    data = {name: row[name] for name in (*fields, "fee", "capacity", "status") if name in row}
    try:
        return _SessionRow.model_validate(data, context={"today": today})
    except ValidationError as exc:
        problems += _problems(exc, prefix=where, sep=": ", session_id=row.get("session_id"))
        return None


def _csv_department(
    row: dict[str, str],
    *,
    line: int,
    seen: dict[str, tuple[int, DepartmentIn]],
    problems: list[Problem],
) -> None:
    if "department_name" not in row and "specialty" not in row:
        return
    names = {"code": "department", "name": "department_name", "specialty": "specialty"}
    names |= {"allocation_mode": "allocation_mode"}
    data = {key: row[column] for key, column in names.items() if column in row}
    _csv_upsert(
        DepartmentIn, data, names, code=lambda d: d.code, line=line, seen=seen, problems=problems
    )


def _csv_doctor(
    row: dict[str, str],
    *,
    line: int,
    seen: dict[str, tuple[int, DoctorIn]],
    problems: list[Problem],
) -> None:
    if "doctor_name" not in row and "doctor_title" not in row:
        return
    names = {"code": "doctor", "name": "doctor_name", "title": "doctor_title"}
    names |= {"department": "department"}
    data = {key: row[column] for key, column in names.items() if column in row}
    _csv_upsert(
        DoctorIn, data, names, code=lambda d: d.code, line=line, seen=seen, problems=problems
    )


def _csv_upsert(
    model: type[_M],
    data: dict[str, str],
    columns: dict[str, str],
    *,
    code: Callable[[_M], str],
    line: int,
    seen: dict[str, tuple[int, _M]],
    problems: list[Problem],
) -> None:
    """Validate a department or doctor given on a session line; the same code on several
    lines must say the same thing each time."""
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        problems += _problems(exc, prefix=f"line {line}", sep=": ", columns=columns)
        return
    first = seen.setdefault(code(spec), (line, spec))
    if first[1] != spec:
        kind = columns["code"]
        problems.append(
            {
                "location": f"line {line}: {kind}",
                "message": f"{kind} {code(spec)!r} is described differently on line {first[0]}",
            }
        )


# --- shared ----------------------------------------------------------------------------


JSON, CSV = "json", "csv"


def kind_of(*, filename: str = "", content_type: str = "", raw: bytes = b"") -> str:
    """Whether an uploaded schedule is JSON or CSV: by the file's extension, else by its
    media type, else by its first character (a JSON document is an object)."""
    name = filename.lower()
    if name.endswith(".json"):
        return JSON
    if name.endswith((".csv", ".txt")):
        return CSV
    media = content_type.split(";")[0].strip().lower()
    if media.endswith("json"):
        return JSON
    if media in ("text/csv", "application/csv", "text/plain"):
        return CSV
    return JSON if raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else CSV


def parse_document(
    raw: bytes, *, kind: str, today: date, charset: str = "utf-8-sig"
) -> ScheduleDocument:
    """Read a JSON (``kind="json"``) or CSV (``"csv"``, text in ``charset``) schedule."""
    if kind == JSON:
        return parse_json(raw, today=today)
    if kind == CSV:
        return parse_csv(decode_csv(raw, charset=charset), today=today)
    raise ValueError(f"unknown schedule format {kind!r}")


def _problems(
    exc: ValidationError,
    *,
    prefix: str,
    sep: str = ".",
    session_id: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> list[Problem]:
    found: list[Problem] = []
    for error in exc.errors(include_url=False, include_input=False):
        parts = [str(columns.get(str(p), p) if columns else p) for p in error["loc"]]
        location = prefix + (sep + ".".join(parts) if parts else "")
        problem: Problem = {"location": location, "message": error["msg"]}
        if session_id is not None:
            problem["session_id"] = session_id
        found.append(problem)
    return found


def _no_duplicates(
    items: list[tuple[str, _M]],
    key_name: str,
    key: Callable[[_M], str],
    problems: list[Problem],
    *,
    sep: str = ".",
) -> None:
    first_seen: dict[str, str] = {}
    for where, item in items:
        value = key(item)
        if value in first_seen:
            location = f"{where}{sep}{key_name}"
            problems.append(
                {"location": location, "message": f"{value!r} already given at {first_seen[value]}"}
            )
        else:
            first_seen[value] = where
