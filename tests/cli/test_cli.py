"""The ``fairslot`` command, run in-process with Typer's CliRunner against a real database.

Each test gets its own SQLite file (made with ``fairslot db upgrade``); the last test runs
hospital create, schedule import and slot trace on PostgreSQL.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fairslot.availability import service as availability
from fairslot.bootstrap import bootstrap
from fairslot.channels.models import Channel
from fairslot.cli import common
from fairslot.cli.main import app
from fairslot.config import load_settings
from fairslot.crypto import hash_api_key
from fairslot.db.engine import unit_of_work
from fairslot.hospitals import repository as hospitals_repo
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import Hospital
from fairslot.schedules import views
from fairslot.schedules.models import ClinicSession, Slot

KEY = re.compile(r"\b(?:ck|hk)_[A-Za-z0-9_-]{43}\b")
SHANGHAI = ZoneInfo("Asia/Shanghai")

Cli = Callable[..., Result]


def _runner(url: str) -> Cli:
    runner = CliRunner()

    def run(*args: str, expect: int = 0) -> Result:
        result = runner.invoke(app, list(args), env={"FAIRSLOT_DATABASE_URL": url})
        assert result.exit_code == expect, (result.output, result.exception)
        return result

    return run


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Print as on a wide terminal: off a terminal Rich takes 80 columns (or whatever
    COLUMNS said when the consoles were made) and folds the words the tests look for."""
    for shared in (common.console, common.err_console):
        monkeypatch.setattr(shared, "_width", 200)


@contextmanager
def database(url: str) -> Iterator[Session]:
    platform = bootstrap(load_settings(database_url=url))
    try:
        with unit_of_work(platform.sessions) as db:
            yield db
    finally:
        platform.engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def cli(sqlite_url: str) -> Cli:
    run = _runner(sqlite_url)
    run("db", "upgrade")
    return run


def _shanghai_today() -> date:
    return datetime.now(SHANGHAI).date()


def _schedule_json(hospital: str, *, day: date, capacity: int = 10) -> dict[str, object]:
    return {
        "hospital": hospital,
        "departments": [
            {
                "code": "GYN",
                "name": "Gynaecology 妇科",
                "specialty": "gynecology",
                "sex_restriction": "female",
            }
        ],
        "doctors": [{"code": "DR1", "name": "林芳", "title": "chief", "department": "GYN"}],
        "sessions": [
            {
                "session_id": "S1",
                "department": "GYN",
                "doctor": "DR1",
                "date": day.isoformat(),
                "period": "am",
                "start": "08:00",
                "end": "12:00",
                "fee": "100.00",
                "capacity": capacity,
            }
        ],
    }


def _write_json(path: Path, data: dict[str, object]) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _create_hospital(cli: Cli, code: str = "FZ1") -> str:
    args = ["create", code, "--name", "福州第一医院", "--grade", "三级甲等", "--city", "福州"]
    out = cli("hospital", *args).output
    keys = KEY.findall(out)
    assert len(keys) == 1
    return keys[0]


def _slot_of(db: Session, his_session_id: str) -> str:
    return (
        db.scalars(
            select(Slot.id)
            .join(ClinicSession, ClinicSession.id == Slot.session_id)
            .where(ClinicSession.his_session_id == his_session_id)
            .order_by(Slot.number)
        ).first()
        or ""
    )


def _count_sessions(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(ClinicSession)) or 0


# --- demo ------------------------------------------------------------------------------


def _seeded_table(output: str) -> str:
    """The "what was seeded" part of the demo's output (no keys in it)."""
    return output.split("what was seeded", 1)[1].split("try it", 1)[0]


def test_demo_seeds_a_platform_prints_working_keys_and_recreates_it(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "demo.db"
    url = f"sqlite:///{path}"
    run = _runner(url)

    first = run("demo", "--no-serve", "--db", str(path), "--port", "8123").output
    for shown in ("/docs", "/openapi.json", "/healthz", "curl", "http://127.0.0.1:8123"):
        assert shown in first
    keys = set(KEY.findall(first))
    assert len({k for k in keys if k.startswith("ck_")}) == 6
    assert len({k for k in keys if k.startswith("hk_")}) == 4
    with database(url) as db:
        listed = hospitals.list_hospitals(db)
        assert len(listed) >= 3
        assert len({h.grade for h in listed}) >= 3
        doctors = [
            d
            for h in listed
            for d in hospitals.list_doctors(db, hospital=hospitals.get_hospital(db, code=h.code))
        ]
        assert len(doctors) >= 40
        assert len({d.title for d in doctors}) == 4
        for key in keys:
            known = (
                db.scalar(select(Channel).where(Channel.api_key_hash == hash_api_key(key)))
                if key.startswith("ck_")
                else hospitals_repo.by_key_hash(db, hash_api_key(key))
            )
            assert known is not None, f"printed key {key[:8]}... does not authenticate"
        first_names = sorted(d.name for d in doctors)

    second = run("demo", "--no-serve", "--db", str(path)).output
    assert _seeded_table(second) == _seeded_table(first)  # same seed, same platform
    with database(url) as db:
        assert len(hospitals.list_hospitals(db)) == len(listed)  # recreated, not added to
        again = [
            d.name
            for h in hospitals.list_hospitals(db)
            for d in hospitals.list_doctors(db, hospital=hospitals.get_hospital(db, code=h.code))
        ]
        assert sorted(again) == first_names
        assert all(hospitals_repo.by_key_hash(db, hash_api_key(k)) is None for k in keys)
    assert not keys & set(KEY.findall(second))


def test_demo_keep_leaves_the_existing_platform_alone(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    run = _runner(f"sqlite:///{path}")
    first = run("demo", "--no-serve", "--db", str(path)).output
    kept = run("demo", "--no-serve", "--keep", "--db", str(path)).output

    assert "kept the existing demo data" in kept
    assert KEY.findall(kept) == []
    hospital_key = next(k for k in KEY.findall(first) if k.startswith("hk_"))
    with database(f"sqlite:///{path}") as db:
        assert hospitals_repo.by_key_hash(db, hash_api_key(hospital_key)) is not None


def _visible(db: Session, *, hospital: Hospital, department: str, day: date, now: datetime) -> int:
    """How many sessions of the department on ``day`` WeChat can see now."""
    found = hospitals_repo.department_by_code(db, hospital_id=hospital.id, code=department)
    wechat = db.scalars(select(Channel).where(Channel.code == "wechat")).one()
    assert found is not None
    return len(
        availability.availability(
            db,
            department_id=found.id,
            date_from=day,
            date_to=day,
            title=None,
            now=now,
            channel_id=wechat.id,
        )
    )


def test_demo_day_eight_is_pushed_but_not_released(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    url = f"sqlite:///{path}"
    _runner(url)("demo", "--no-serve", "--db", str(path))

    with database(url) as db:
        hospital = hospitals.get_hospital(db, code="PUH1")
        now = datetime.now(UTC)
        today = views.local_today(hospital, now)
        day8 = today + timedelta(days=8)
        pushed = views.list_sessions(db, hospital=hospital, day=day8, now=now)
        assert pushed
        assert not any(s.released for s in pushed)
        departments = {s.department for s in pushed}
        for code in departments:
            assert _visible(db, hospital=hospital, department=code, day=day8, now=now) == 0
        # The same departments are open inside the booking horizon.
        assert sum(
            _visible(db, hospital=hospital, department=code, day=today + timedelta(days=n), now=now)
            for code in departments
            for n in range(1, 8)
        )
        # The window channel keeps a fifth of every session.
        window = db.scalars(select(Channel).where(Channel.code == "window")).one()
        reserved = db.scalar(
            select(func.count()).select_from(Slot).where(Slot.reserved_channel_id == window.id)
        )
        total = db.scalar(select(func.count()).select_from(Slot))
        assert reserved and total and 0.15 < reserved / total <= 0.2


# --- hospitals -------------------------------------------------------------------------


def test_hospital_create_prints_its_key_once_and_list_never_shows_it(cli: Cli) -> None:
    key = _create_hospital(cli)

    listed = cli("hospital", "list").output
    assert "FZ1" in listed and "福州第一医院" in listed
    assert key not in listed
    assert KEY.findall(listed) == []


def test_hospital_create_refuses_a_duplicate_code(cli: Cli) -> None:
    _create_hospital(cli)
    out = cli(
        "hospital", "create", "FZ1", "--name", "x", "--grade", "g", "--city", "c", expect=1
    ).output
    assert "hospital_exists" in out


def test_hospital_policy_changes_the_release_time_of_sessions_to_come(
    cli: Cli, sqlite_url: str, tmp_path: Path
) -> None:
    _create_hospital(cli)
    day = _shanghai_today() + timedelta(days=9)  # released only on day+2
    cli("schedule", "import", str(_write_json(tmp_path / "s.json", _schedule_json("FZ1", day=day))))

    out = cli("hospital", "policy", "FZ1", "--release-time", "08:00", "--days-ahead", "8").output
    assert "released at 08:00 on D-8" in out
    assert "1 session(s)" in out
    with database(sqlite_url) as db:
        hospital = hospitals.get_hospital(db, code="FZ1")
        now = datetime.now(UTC)
        (session,) = views.list_sessions(db, hospital=hospital, day=day, now=now)
        assert session.release_at.date() == day - timedelta(days=8)
        assert session.release_at.strftime("%H:%M") == "08:00"


def test_hospital_policy_refuses_a_push_after_the_release(cli: Cli) -> None:
    _create_hospital(cli)
    out = cli("hospital", "policy", "FZ1", "--push-time", "01:00", expect=1).output
    assert "invalid_release_time" in out
    assert "released at 00:30" in cli("hospital", "policy", "FZ1").output


def test_hospital_policy_rejects_a_malformed_time(cli: Cli) -> None:
    _create_hospital(cli)
    assert "HH:MM" in cli("hospital", "policy", "FZ1", "--release-time", "25:00", expect=2).output


# --- schedules -------------------------------------------------------------------------


def test_schedule_import_of_json_creates_the_sessions_and_a_reimport_changes_nothing(
    cli: Cli, sqlite_url: str, tmp_path: Path
) -> None:
    _create_hospital(cli)
    day = _shanghai_today() + timedelta(days=1)
    path = _write_json(tmp_path / "week.json", _schedule_json("FZ1", day=day, capacity=12))

    out = cli("schedule", "import", str(path)).output
    assert re.search(r"sessions\s*│\s*1\s*│\s*0\s*│\s*0\s*│\s*0\s*│\s*0", out), out
    again = cli("schedule", "import", str(path)).output
    assert re.search(r"sessions\s*│\s*0\s*│\s*0\s*│\s*1\s*│\s*0\s*│\s*0", again), again
    with database(sqlite_url) as db:
        assert _count_sessions(db) == 1
        assert db.scalar(select(func.count()).select_from(Slot)) == 12


def test_schedule_import_of_csv_creates_the_sessions_and_a_reimport_changes_nothing(
    cli: Cli, sqlite_url: str, tmp_path: Path
) -> None:
    _create_hospital(cli)
    day = _shanghai_today() + timedelta(days=2)
    path = tmp_path / "week.csv"
    cardiology = "CAR,Cardiology 心内科,cardiology,DR7,王伟,attending"
    path.write_text(
        "hospital,session_id,department,department_name,specialty,doctor,doctor_name,"
        "doctor_title,date,period,start,end,fee,capacity\n"
        f"FZ1,C1,{cardiology},{day},am,08:00,12:00,50.00,20\n"
        f"FZ1,C2,{cardiology},{day},pm,13:30,17:00,50.00,15\n",
        encoding="utf-8",
    )

    out = cli("schedule", "import", str(path)).output
    assert re.search(r"sessions\s*│\s*2\s*│\s*0\s*│\s*0\s*│", out), out
    assert re.search(r"doctors\s*│\s*1\s*│", out), out
    again = cli("schedule", "import", str(path)).output
    assert re.search(r"sessions\s*│\s*0\s*│\s*0\s*│\s*2\s*│", again), again
    with database(sqlite_url) as db:
        assert _count_sessions(db) == 2
        assert db.scalar(select(func.count()).select_from(Slot)) == 35


def test_a_rejected_session_is_listed_with_its_reason_and_the_rest_imported(
    cli: Cli, sqlite_url: str, tmp_path: Path
) -> None:
    _create_hospital(cli)
    data = _schedule_json("FZ1", day=_shanghai_today() + timedelta(days=1))
    sessions = data["sessions"]
    assert isinstance(sessions, list)
    sessions.append(dict(sessions[0], session_id="S2", doctor="NOBODY", period="pm"))
    sessions[1].update(start="13:30", end="17:00")

    out = cli("schedule", "import", str(_write_json(tmp_path / "s.json", data))).output
    assert "unknown_doctor" in out and "S2" in out
    with database(sqlite_url) as db:
        assert _count_sessions(db) == 1


def test_an_invalid_file_exits_1_with_every_problem_and_imports_nothing(
    cli: Cli, sqlite_url: str, tmp_path: Path
) -> None:
    _create_hospital(cli)
    data = _schedule_json("FZ1", day=_shanghai_today() + timedelta(days=1))
    sessions = data["sessions"]
    assert isinstance(sessions, list)
    sessions.append(dict(sessions[0], session_id="S2", capacity=-3, fee="abc"))

    out = cli("schedule", "import", str(_write_json(tmp_path / "bad.json", data)), expect=1).output
    assert "schedule_invalid" in out
    assert "nothing was imported" in out
    assert "sessions[1].capacity" in out and "sessions[1].fee" in out
    with database(sqlite_url) as db:
        assert _count_sessions(db) == 0
        hospital = hospitals.get_hospital(db, code="FZ1")
        assert hospitals.list_departments(db, hospital=hospital) == []


def test_an_invalid_csv_names_its_line_and_imports_nothing(
    cli: Cli, sqlite_url: str, tmp_path: Path
) -> None:
    _create_hospital(cli)
    day = _shanghai_today() + timedelta(days=1)
    path = tmp_path / "bad.csv"
    path.write_text(
        "hospital,session_id,department,doctor,date,period,start,end,fee,capacity\n"
        f"FZ1,C1,GYN,DR1,{day},am,08:00,12:00,50.00,10\n"
        f"FZ1,C2,GYN,DR1,{day},noon,08:00,12:00,50.00,10\n",
        encoding="utf-8",
    )

    out = cli("schedule", "import", str(path), expect=1).output
    assert "line 3: period" in out
    with database(sqlite_url) as db:
        assert _count_sessions(db) == 0


def test_a_schedule_for_an_unknown_hospital_exits_1(cli: Cli, tmp_path: Path) -> None:
    path = _write_json(tmp_path / "s.json", _schedule_json("NOPE", day=_shanghai_today()))
    assert "hospital_not_found" in cli("schedule", "import", str(path), expect=1).output


def test_a_file_of_unknown_format_needs_the_format_option(cli: Cli, tmp_path: Path) -> None:
    day = _shanghai_today() + timedelta(days=1)
    path = _write_json(tmp_path / "schedule.txt", _schedule_json("FZ1", day=day))
    assert "--format" in cli("schedule", "import", str(path), expect=2).output
    _create_hospital(cli)
    cli("schedule", "import", str(path), "--format", "json")


# --- slots, channels, database ---------------------------------------------------------


def test_slot_trace_shows_the_pushed_event_and_a_matching_replay(
    cli: Cli, sqlite_url: str, tmp_path: Path
) -> None:
    _create_hospital(cli)
    day = _shanghai_today() + timedelta(days=1)
    cli("schedule", "import", str(_write_json(tmp_path / "s.json", _schedule_json("FZ1", day=day))))
    with database(sqlite_url) as db:
        guid = _slot_of(db, "S1")

    out = cli("slot", "trace", guid).output
    assert "pushed" in out
    # day+1 was released six days ago: pushed now, it is late supply released after a
    # random delay, and the trace shows it cooling
    assert "cooling" in out and "late_supply" in out
    assert "replay matches" in out


def test_slot_trace_of_an_unknown_slot_exits_1(cli: Cli) -> None:
    assert "slot_not_found" in cli("slot", "trace", str(uuid.uuid4()), expect=1).output


def test_slot_trace_of_an_unknown_booking_exits_1(cli: Cli) -> None:
    out = cli("slot", "trace", "--booking", str(uuid.uuid4()), expect=1).output
    assert "booking_not_found" in out


def test_slot_trace_takes_a_guid_or_a_booking_not_both(cli: Cli) -> None:
    both = cli("slot", "trace", str(uuid.uuid4()), "--booking", str(uuid.uuid4()), expect=2)
    assert "not both" in both.output


def test_channel_create_prints_a_key_that_channel_list_never_shows(cli: Cli) -> None:
    args = ["wechat", "--name", "WeChat", "--kind", "wechat", "--reserved-share", "0.1"]
    out = cli("channel", "create", *args).output
    (key,) = KEY.findall(out)

    listed = cli("channel", "list").output
    assert "wechat" in listed
    assert key not in listed
    assert KEY.findall(listed) == []


def test_db_check_passes(cli: Cli) -> None:
    assert "agree" in cli("db", "check").output


# --- PostgreSQL ------------------------------------------------------------------------


@pytest.mark.postgres
def test_hospital_create_schedule_import_and_slot_trace_on_postgresql(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = str(request.getfixturevalue("pg_database"))
    run = _runner(url)
    run("db", "upgrade")
    # The database is shared by the session's PostgreSQL tests: use a code of our own.
    code = f"PG{uuid.uuid4().hex[:8].upper()}"
    _create_hospital(run, code)
    day = _shanghai_today() + timedelta(days=1)
    path = _write_json(tmp_path / "s.json", _schedule_json(code, day=day, capacity=8))

    assert re.search(r"sessions\s*│\s*1\s*│", run("schedule", "import", str(path)).output)
    assert re.search(
        r"sessions\s*│\s*0\s*│\s*0\s*│\s*1\s*│", run("schedule", "import", str(path)).output
    )
    with database(url) as db:
        hospital = hospitals.get_hospital(db, code=code)
        guid = db.scalars(
            select(Slot.id)
            .join(ClinicSession, ClinicSession.id == Slot.session_id)
            .where(ClinicSession.hospital_id == hospital.id)
            .order_by(Slot.number)
        ).first()
    assert guid is not None
    out = run("slot", "trace", guid).output
    assert "pushed" in out
    assert "replay matches" in out


def test_worker_once_sweeps_and_reports(cli: Cli) -> None:
    out = cli("worker", "--once").output
    assert "holds expired: 0" in out and "slots re-released: 0" in out


def test_blacklist_add_list_and_lift_in_person(cli: Cli) -> None:
    added = cli(
        "blacklist",
        "add",
        "--scope",
        "phone",
        "--value",
        "13800138000",
        "--reason",
        "confirmed ring",
        "--by",
        "it-admin",
    ).output
    listed = cli("blacklist", "list").output
    lifted = cli("blacklist", "lift", "1", "--by", "desk", "--checked", "ID card seen").output
    assert "blocked phone" in added and "138" in listed and "13800138000" not in listed
    assert "lifted by cli:desk" in lifted
    assert "138" not in cli("blacklist", "list").output
