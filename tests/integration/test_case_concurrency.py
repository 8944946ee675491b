"""Many reviewers press "next case" at the same instant; many agents finish a case's last
calls at once. Each thread plays one request as ``api/deps.py::get_db`` does: its own
session, one transaction, commit on success, rollback on a refusal. PostgreSQL is the
backend that matters (READ COMMITTED, row locks); SQLite serialises writers and runs the
same hammers as a check. Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories.review import ask_for_calls
from factories.risk import book_for_patients, device_case, payment_case
from factories.staff import actor, create_staff
from factories.world import World
from fairslot.bootstrap import Platform
from fairslot.cases import calls as case_calls
from fairslot.cases import review
from fairslot.cases.models import Case, CaseEvent
from fairslot.cases.states import CaseEventKind, CaseStatus
from fairslot.config import Settings, load_settings
from fairslot.errors import DomainError
from fairslot.followup import service as calls
from fairslot.followup.states import CallOutcome
from fairslot.staff.audit import StaffActor
from fairslot.staff.roles import Role

POOL_SIZE = 20
REVIEWERS = 30
CASES = 8


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(database_url=database_url, db_pool_size=POOL_SIZE)


def in_threads(platform: Platform, jobs: list[Callable[[Session], object]]) -> list[object]:
    """Run each job in its own thread and transaction, all released by one barrier;
    a job's result, or the code of the DomainError it raised."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[Session], object]) -> object:
        barrier.wait(timeout=60)
        session = platform.sessions()
        try:
            result = job(session)
            session.commit()
            return result
        except DomainError as exc:
            session.rollback()
            return exc.code
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def test_thirty_reviewers_pressing_next_at_once_never_get_the_same_case(
    world: World, platform: Platform, backend: str
) -> None:
    ops = [book_for_patients(world, patients=1) for _ in range(CASES // 2)]
    cases = [payment_case(world, op) for op in ops] + [device_case(world, op) for op in ops]
    reviewers = [
        actor(create_staff(world.db, username=f"r{n:02d}", roles={Role.REVIEWER}, now=world.now()))
        for n in range(REVIEWERS)
    ]

    def press_next(who: StaffActor) -> Callable[[Session], object]:
        return lambda db: (
            review.take_next(db, actor=who, now=platform.clock.now(), lock_minutes=30).id
        )

    started = time.perf_counter()
    results = in_threads(platform, [press_next(r) for r in reviewers])
    seconds = time.perf_counter() - started

    taken = [r for r in results if isinstance(r, int)]
    print(
        f"\n[{backend}] {REVIEWERS} reviewers, {CASES} cases: {len(taken)} taken, "
        f"{dict(Counter(r for r in results if isinstance(r, str)))} in {seconds:.2f}s"
    )
    assert sorted(taken) == sorted(c.id for c in cases)  # each case once, all of them
    assert Counter(r for r in results if not isinstance(r, int)) == {
        "queue_empty": REVIEWERS - CASES
    }
    db = world.db
    db.rollback()
    holders = db.execute(select(Case.id, Case.assigned_to, Case.status)).all()
    assert {status for _, _, status in holders} == {CaseStatus.IN_REVIEW}
    assert len({holder for _, holder, _ in holders}) == CASES
    per_case = db.execute(
        select(CaseEvent.case_id, func.count())
        .where(CaseEvent.kind == CaseEventKind.TAKEN)
        .group_by(CaseEvent.case_id)
    ).all()
    assert sorted(n for _, n in per_case) == [1] * CASES


def test_agents_finishing_a_cases_last_calls_at_once_send_it_back_exactly_once(
    world: World, platform: Platform
) -> None:
    wang = actor(create_staff(world.db, username="wang", roles={Role.REVIEWER}, now=world.now()))
    agents = [
        actor(
            create_staff(
                world.db, username=f"cs{n}", roles={Role.CUSTOMER_SERVICE}, now=world.now()
            )
        )
        for n in range(4)
    ]
    case = payment_case(world, book_for_patients(world, patients=4))
    review.take_next(world.db, actor=wang, now=world.now(), lock_minutes=30)
    ask_for_calls(world, case_id=case.id, actor=wang, question="Who booked for you?")
    world.db.commit()
    held = []
    for agent in agents:
        held.append(calls.take_next(world.db, actor=agent, now=world.now(), lock_minutes=30).id)
        world.db.commit()

    def finish(agent: StaffActor, task_id: int) -> Callable[[Session], object]:
        return lambda db: (
            case_calls.record_outcome(
                db,
                task_id=task_id,
                outcome=CallOutcome.SUSPICIOUS,
                note=None,
                actor=agent,
                now=platform.clock.now(),
            ).id
        )

    results = in_threads(platform, [finish(a, t) for a, t in zip(agents, held, strict=True)])

    assert sorted(results) == sorted(held)
    db = world.db
    db.rollback()
    db.expire_all()  # the case was loaded before the threads changed it
    assert db.get(Case, case.id).status == CaseStatus.OPEN
    kinds = db.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert Counter(kinds)[CaseEventKind.CALLS_DONE] == 1
    assert Counter(kinds)[CaseEventKind.CALL_OUTCOME] == 4
