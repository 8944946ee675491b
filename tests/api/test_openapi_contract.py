"""The OpenAPI document says what the server answers: schemathesis generates requests from it
for the channel, hospital and staff APIs, with real credentials in a seeded world, and every
response must be no server error, of a declared status, of the declared content type and
match the declared schema. Then a stateful run follows the links schemathesis infers
between operations (an id one answer gives, the next request uses).

Bounded for CI: a few examples per operation, derandomized (the same cases on every run),
no shrinking. A longer run: ``FAIRSLOT_SCHEMATHESIS_EXAMPLES=300 .venv/bin/pytest
tests/api/test_openapi_contract.py -s`` (each test prints how many cases it ran).
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from factories.staff import signed_in
from factories.world import RELEASED_DAY, World, make_world
from fairslot.api.app import create_app
from fairslot.bootstrap import Platform, bootstrap
from fairslot.clock import ManualClock
from fairslot.config import Settings, load_settings
from fairslot.hospitals.service import rotate_hospital_key
from fairslot.staff.roles import Role

EXAMPLES = int(os.environ.get("FAIRSLOT_SCHEMATHESIS_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Ends the test's own sign-in for every later case (the stateful run restores the world
# before each scenario, so it keeps it).
SIGN_OUT = "/staff/v1/logout"


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the contract does not depend on the backend; SQLite is fast


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Limits high enough that generated requests reach the endpoints; 429 stays declared.
    return load_settings(database_url=database_url, db_pool_size=5, rate_limits="1000/second")


@pytest.fixture
def platform(settings: Settings, clock: ManualClock) -> Iterator[Platform]:
    plat = bootstrap(settings, clock=clock, rng=random.Random(1234))
    yield plat
    plat.engine.dispose()


class Credentials:
    """The headers each API takes, by path."""

    def __init__(self, *, channel: str, hospital: str, staff: str) -> None:
        self.by_prefix = {
            "/v1/": {"X-Channel-Key": channel, "X-Device-Id": "contract-device"},
            "/hospital/": {"X-Hospital-Key": hospital},
            "/staff/": {"Authorization": staff},
        }

    def apply(self, case: schemathesis.Case) -> None:
        """Put the real credentials on ``case``, over whatever was generated for them."""
        path = case.operation.path
        headers = next((h for p, h in self.by_prefix.items() if path.startswith(p)), {})
        given_headers = dict(case.headers or {})
        for name in list(given_headers):
            if name.lower() in {h.lower() for h in headers}:
                del given_headers[name]
        case.headers = {**given_headers, **headers}


@pytest.fixture
def app(platform: Platform) -> FastAPI:
    return create_app(platform)


@pytest.fixture
def seeded(db: Session, platform: Platform, app: FastAPI) -> tuple[World, Credentials]:
    """A world with released sessions, a hospital key and a signed-in member of staff
    holding every role."""
    world = make_world(db, platform)
    for day in (RELEASED_DAY, platform.clock.now().date()):
        world.session(day=day, capacity=3)
    hospital_key = rotate_hospital_key(db, hospital=world.hospital)
    db.commit()
    with TestClient(app) as client:
        staff = signed_in(client, db, username="contract", roles=set(Role), now=world.now())
    creds = Credentials(
        channel=world.channel_key, hospital=hospital_key, staff=staff["Authorization"]
    )
    return world, creds


def _schema(app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _settings(examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the case as found
        suppress_health_check=list(HealthCheck),
    )


def _run_operations(schema: Any, creds: Credentials, *, examples: int) -> tuple[int, list[str]]:
    """Every operation of ``schema`` with ``examples`` generated cases: (cases, failures)."""
    cases = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @_settings(examples)
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            nonlocal cases
            cases += 1
            creds.apply(case)
            case.call_and_validate(checks=CHECKS)

        try:
            check()
        except Exception as exc:  # one failing operation must not hide the others
            failures.append(f"{operation.label}: {_summary(exc)}")
    return cases, failures


def _summary(exc: BaseException) -> str:
    """The failing checks' titles and the request to reproduce one with."""
    text = str(exc)
    inner = getattr(exc, "exceptions", None)
    if inner:
        text = " | ".join(str(e).splitlines()[0] for e in inner)
    curl = next((line.strip() for line in str(exc).splitlines() if "curl " in line), "")
    return f"{text.splitlines()[0] if text else type(exc).__name__} [{curl}]"


def _timed(label: str, run: Callable[[], tuple[int, list[str]]]) -> list[str]:
    started = time.perf_counter()
    cases, failures = run()
    print(
        f"\n{label}: {cases} cases in {time.perf_counter() - started:.1f} s, "
        f"{len(failures)} failing operations"
    )
    return failures


@pytest.mark.parametrize(
    "api", [r"^/v1/", r"^/hospital/v1/", r"^/staff/v1/"], ids=["channel", "hospital", "staff"]
)
def test_every_answer_of_an_api_is_declared_in_the_openapi_document(
    app: FastAPI, seeded: tuple[World, Credentials], api: str
) -> None:
    _, creds = seeded
    schema = _schema(app).include(path_regex=api).exclude(path=SIGN_OUT)

    failures = _timed(api, lambda: _run_operations(schema, creds, examples=EXAMPLES))

    assert failures == []


class Snapshot:
    """The seeded SQLite file, put back before each scenario: a sequence's next step
    depends on what earlier answers gave, so each one must start from the same world or
    Hypothesis sees the same choices lead elsewhere (``FlakyStrategyDefinition``)."""

    def __init__(self, platform: Platform, directory: Path) -> None:
        self.platform = platform
        self.path = Path(str(platform.engine.url.database))
        self.copy = directory / "seeded.db"
        platform.engine.dispose()
        shutil.copy(self.path, self.copy)

    def restore(self) -> None:
        self.platform.engine.dispose()
        for leftover in (Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copy(self.copy, self.path)
        self.platform.memos.changed()  # what this process recalls of the old world


def test_sequences_along_the_inferred_links_are_answered_as_declared(
    app: FastAPI,
    seeded: tuple[World, Credentials],
    db: Session,
    platform: Platform,
    tmp_path: Path,
) -> None:
    _, creds = seeded
    db.close()
    snapshot = Snapshot(platform, tmp_path)
    schema = _schema(app).include(path_regex=r"^/(v1|hospital/v1|staff/v1)/")
    steps = 0

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            snapshot.restore()

        def before_call(self, case: schemathesis.Case) -> None:
            nonlocal steps
            steps += 1
            creds.apply(case)

        def validate_response(self, response: Any, case: schemathesis.Case, **_: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    started = time.perf_counter()
    Machine.run(
        settings=hypothesis.settings(
            # Scenarios grow with the budget; their length stops at 30 steps.
            _settings(max(1, EXAMPLES * 2)),
            stateful_step_count=min(EXAMPLES + 3, 30),
        )
    )
    print(f"\nstateful: {steps} calls in {time.perf_counter() - started:.1f} s")
