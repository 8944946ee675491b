"""The hospital schedule API over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories.supply import create_department, create_doctor, create_hospital_with_key
from fairslot.api import hospital_routes
from fairslot.api.app import create_app
from fairslot.bootstrap import Platform
from fairslot.ledger.models import SlotEvent
from fairslot.schedules.models import Slot

CSV_HEADER = "hospital,session_id,department,doctor,date,period,start,end,fee,capacity,status"


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform)) as test_client:
        yield test_client


@pytest.fixture
def key(db: Session) -> str:
    hospital, api_key = create_hospital_with_key(db, code="FJ01")
    department = create_department(db, hospital=hospital, code="GYN")
    create_doctor(db, hospital=hospital, department=department, code="DR1")
    db.commit()
    return api_key


def _h(api_key: str, **extra: str) -> dict[str, str]:
    return {"X-Hospital-Key": api_key, **extra}


def _session(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "session_id": "S1",
        "department": "GYN",
        "doctor": "DR1",
        "date": "2026-11-30",
        "period": "am",
        "start": "08:00",
        "end": "12:00",
        "fee": "50.00",
        "capacity": 5,
    }
    entry.update(overrides)
    return entry


def _doc(*sessions: dict[str, Any], hospital: str = "FJ01") -> dict[str, Any]:
    return {"hospital": hospital, "sessions": list(sessions)}


def _refusal(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == code
    assert body["detail"]
    return body


def test_a_push_without_a_key_is_refused(client: TestClient) -> None:
    _refusal(client.post("/hospital/v1/schedule", json=_doc()), 401, "hospital_key_missing")


def test_a_push_with_a_wrong_key_is_refused(client: TestClient, key: str) -> None:
    response = client.post("/hospital/v1/schedule", json=_doc(), headers=_h("hk_wrong"))

    _refusal(response, 401, "hospital_key_invalid")


def test_a_hospital_cannot_push_another_hospitals_schedule(
    client: TestClient, key: str, db: Session
) -> None:
    create_hospital_with_key(db, code="OTHER")
    db.commit()

    response = client.post(
        "/hospital/v1/schedule", json=_doc(_session(), hospital="OTHER"), headers=_h(key)
    )

    _refusal(response, 403, "wrong_hospital")
    assert db.scalar(select(func.count()).select_from(Slot)) == 0


def test_a_pushed_schedule_is_reported_session_by_session(
    client: TestClient, key: str, db: Session
) -> None:
    response = client.post(
        "/hospital/v1/schedule",
        json=_doc(_session(), _session(session_id="S2", department="NOPE")),
        headers=_h(key),
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert report["sessions"][0] == {
        "session_id": "S1",
        "outcome": "created",
        "capacity": 5,
        "reason": None,
    }
    assert report["sessions"][1]["reason"].startswith("unknown_department")
    assert db.scalar(select(func.count()).select_from(SlotEvent)) == 5


def test_pushing_the_same_schedule_again_is_answered_unchanged(
    client: TestClient, key: str
) -> None:
    client.post("/hospital/v1/schedule", json=_doc(_session()), headers=_h(key))

    response = client.post("/hospital/v1/schedule", json=_doc(_session()), headers=_h(key))

    assert response.json()["unchanged"] == 1


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"",
        b"null",
        b"[]",
        b'"text"',
        b"\xff\xfe",
        b"{" * 50_000,
        json.dumps({"hospital": "FJ01", "sessions": "all"}).encode(),
        json.dumps({"hospital": ["FJ01"]}).encode(),
        json.dumps(_doc(_session(capacity=10**80))).encode(),
        json.dumps(_doc(_session(fee=1e308))).encode(),
        json.dumps(_doc(_session(date="2026-02-31"))).encode(),
        json.dumps(_doc(_session(start={"h": 8}))).encode(),
        json.dumps(_doc(_session(session_id="../../etc"))).encode(),
        b'{"hospital": "FJ01", "sessions": [{"capacity": NaN}]}',
        b'{"hospital": "FJ01", "departments": [{"code": "G", "name": "\\u0000", '
        b'"specialty": "gynecology"}]}',
        b'{"hospital": "FJ01", "sessions": [' + b"1" * 5000 + b"]}",
    ],
)
def test_a_malformed_schedule_is_a_422_naming_the_problems(
    client: TestClient, key: str, body: bytes
) -> None:
    response = client.post(
        "/hospital/v1/schedule",
        content=body,
        headers=_h(key, **{"Content-Type": "application/json"}),
    )

    refusal = _refusal(response, 422, "schedule_invalid")
    assert refusal["problems"]
    assert refusal["problem_count"] >= 1


def test_a_schedule_past_the_size_limit_is_refused(
    client: TestClient, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hospital_routes, "MAX_BODY_BYTES", 100)

    response = client.post("/hospital/v1/schedule", json=_doc(_session()), headers=_h(key))

    _refusal(response, 413, "schedule_too_large")


def test_a_csv_schedule_is_pushed(client: TestClient, key: str) -> None:
    text = f"{CSV_HEADER}\nFJ01,S1,GYN,DR1,2026-11-25,am,08:00,12:00,50,3,\n"

    response = client.post(
        "/hospital/v1/schedule/csv",
        content=text.encode(),
        headers=_h(key, **{"Content-Type": "text/csv"}),
    )

    assert response.status_code == 200, response.text
    assert response.json()["sessions"][0]["capacity"] == 3


def test_a_csv_schedule_in_gb18030_is_read_when_the_charset_says_so(
    client: TestClient, key: str
) -> None:
    header = "hospital,session_id,department,department_name,specialty,doctor,date,period,"
    header += "start,end,fee,capacity"
    text = f"{header}\nFJ01,S1,GYN,妇科门诊,gynecology,DR1,2026-11-25,pm,14:00,17:00,50,3\n"

    response = client.post(
        "/hospital/v1/schedule/csv",
        content=text.encode("gb18030"),
        headers=_h(key, **{"Content-Type": "text/csv; charset=GB18030"}),
    )

    assert response.status_code == 200, response.text
    assert response.json()["departments"]["updated"] == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xfe\xfa", "text/csv"),
        (b"hospital\nFJ01\n", "text/csv"),
        (f"{CSV_HEADER}\nFJ01,S1\n".encode(), "text/csv"),
        (b"a,b", "text/csv; charset=klingon"),
    ],
)
def test_a_malformed_csv_is_a_422(
    client: TestClient, key: str, body: bytes, content_type: str
) -> None:
    response = client.post(
        "/hospital/v1/schedule/csv", content=body, headers=_h(key, **{"Content-Type": content_type})
    )

    _refusal(response, 422, "schedule_invalid")


def test_a_hospital_lists_its_own_sessions_released_or_not(client: TestClient, key: str) -> None:
    sessions = [_session(), _session(session_id="S2", date="2026-12-05")]
    client.post("/hospital/v1/schedule", json=_doc(*sessions), headers=_h(key))

    response = client.get("/hospital/v1/sessions", params={"date": "2026-12-05"}, headers=_h(key))

    assert response.status_code == 200, response.text
    (view,) = response.json()
    assert (view["session_id"], view["released"], view["slots"]["open"]) == ("S2", False, 5)
    assert view["release_at"] == "2026-11-28T00:30:00+08:00"
    assert view["fee"] == "50.00"


def test_listing_sessions_with_a_bad_date_is_a_422(client: TestClient, key: str) -> None:
    response = client.get("/hospital/v1/sessions", params={"date": "2026-13-45"}, headers=_h(key))

    _refusal(response, 422, "invalid_request")


def test_a_session_is_withdrawn_over_the_api(client: TestClient, key: str) -> None:
    client.post("/hospital/v1/schedule", json=_doc(_session()), headers=_h(key))

    response = client.post(
        "/hospital/v1/sessions/S1/withdraw", json={"reason": "doctor ill"}, headers=_h(key)
    )
    again = client.post("/hospital/v1/sessions/S1/withdraw", headers=_h(key))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "session_id": "S1",
        "status": "withdrawn",
        "slots_withdrawn": 5,
        "bookings_withdrawn": 0,
        "already_withdrawn": False,
    }
    assert again.json()["already_withdrawn"] is True


def test_withdrawing_an_unknown_session_is_a_404(client: TestClient, key: str) -> None:
    response = client.post("/hospital/v1/sessions/NOPE/withdraw", headers=_h(key))

    _refusal(response, 404, "session_not_found")


def test_a_withdrawal_with_a_malformed_body_is_a_422(client: TestClient, key: str) -> None:
    response = client.post(
        "/hospital/v1/sessions/S1/withdraw",
        content=b"{not json",
        headers=_h(key, **{"Content-Type": "application/json"}),
    )

    _refusal(response, 422, "invalid_request")


def test_another_hospitals_session_cannot_be_withdrawn(
    client: TestClient, key: str, db: Session
) -> None:
    _, other_key = create_hospital_with_key(db, code="OTHER")
    db.commit()
    client.post("/hospital/v1/schedule", json=_doc(_session()), headers=_h(key))

    response = client.post("/hospital/v1/sessions/S1/withdraw", headers=_h(other_key))

    _refusal(response, 404, "session_not_found")


def test_a_session_id_with_a_control_character_is_a_422(client: TestClient, key: str) -> None:
    response = client.post("/hospital/v1/sessions/S%001/withdraw", headers=_h(key))

    _refusal(response, 422, "invalid_request")


@pytest.mark.parametrize(
    ("charset", "body"),
    [("punycode", b"abc-9999999"), ("undefined", b"a"), ("idna", b"xn--a.b"), ("zzz", b"a")],
)
def test_a_csv_push_in_an_unsupported_charset_is_refused_not_crashed(
    client: TestClient, key: str, charset: str, body: bytes
) -> None:
    response = client.post(
        "/hospital/v1/schedule/csv",
        content=body,
        headers=_h(key, **{"Content-Type": f"text/csv; charset={charset}"}),
    )
    assert response.status_code == 422
    assert response.json()["error"] == "schedule_invalid"


def test_a_late_push_goes_on_sale_only_after_a_random_delay(
    client: TestClient, key: str, db: Session, platform: Platform
) -> None:
    # 2026-11-25 was released on 2026-11-18: pushed now, it is late supply that a radar
    # would otherwise catch the instant it appears.
    response = client.post(
        "/hospital/v1/schedule", json=_doc(_session(date="2026-11-25")), headers=_h(key)
    )
    slots = db.scalars(select(Slot)).all()
    events = db.scalars(select(SlotEvent).order_by(SlotEvent.id)).all()

    assert response.status_code == 200
    assert {s.state.value for s in slots} == {"cooling"}
    delays = {(s.reopen_at - platform.clock.now()).total_seconds() for s in slots}
    assert all(5 * 60 <= d <= 60 * 60 for d in delays) and len(delays) > 1  # each its own
    assert [e.kind.value for e in events[:2]] == ["pushed", "cooling"]
    assert events[1].data["reason"] == "late_supply"
