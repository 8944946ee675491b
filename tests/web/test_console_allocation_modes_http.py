"""The console's draws page shows what the platform decided for each department and why,
and release batches among the draws (over HTTP, both backends)."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient

from factories.batches import batch_department, hold, open_batch, run_worker
from factories.console import page_text as text
from factories.console import sign_in
from factories.staff import create_staff
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation import modes, scarcity
from fairslot.staff.roles import Role


def test_the_draws_page_shows_batches_and_each_departments_mode_and_why(
    site: TestClient, world: World
) -> None:
    department = batch_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=1, department=department)
    world.platform.clock.set(session.push_at)
    batch = open_batch(world, session, rng=random.Random(3))
    world.platform.clock.set(session.release_at)
    hold(world, *world.patient(), session)
    world.platform.clock.set(batch.due_at)
    run_worker(world)
    modes.judge_department(
        world.db, department=department, now=world.now(), rule=scarcity.ScarcityRule()
    )
    world.db.commit()
    create_staff(world.db, username="sched", roles={Role.SCHEDULER}, now=world.now())
    sign_in(site, "sched")

    page = text(site.get("/console/draws").text)

    assert "放号批次" in page and "各科室的分配方式" in page
    assert department.name in page
    assert "不紧俏：仅有 1 个放号日记录，需要 3 个" in page
    detail = site.get(f"/console/draws/{batch.id}")
    assert detail.status_code == 200
    assert "验证通过" in text(detail.text)
