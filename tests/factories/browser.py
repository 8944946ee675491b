"""Browser tests' fixtures: the demo platform served for real, and Debian's chromium
driven by Playwright.

``demo_site`` serves a fresh copy of the demo (seeded once per test session into a
template SQLite file, its past replayed as ``fairslot demo`` does) with uvicorn on a free
port in a thread of the test process, so a test can also read the platform's database.
The demo's clock is the template's: it reads 10:00 in the hospitals' zone, on today's
date there, when the template is seeded, and runs at real speed from then on, so a test
session never crosses the hospitals' midnight between seeding "yesterday" and reading it
(a session started near 00:00 Asia/Shanghai once failed four pages on the day change).
``page`` is a Playwright page in a new browser context at 1366×768 (the office screen)
that refuses — and fails the test for — any request leaving the server, and any
Content-Security-Policy violation.

Outside CI a missing chromium skips the browser tests with a reason; under ``CI=true``
they must run (``.ci/run`` and ``./run test`` install chromium and a CJK font).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as time_of_day
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn

from fairslot.bootstrap import Platform, bootstrap
from fairslot.config import load_settings
from fairslot.db import migrate
from fairslot.db.engine import unit_of_work
from fairslot.demo.past import replay_past
from fairslot.demo.seed import DemoSeed, seed_demo
from fairslot.web.site import create_site

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("FAIRSLOT_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parent.parent / "web" / "vendor" / "axe.min.js"
OFFICE_SCREEN = {"width": 1366, "height": 768}
DEMO_TIME_OF_DAY = time_of_day(10, 0)
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class DemoSite:
    base_url: str
    platform: Platform
    seed: DemoSeed
    outside: list[str] = field(default_factory=list)

    def password(self, username: str) -> str:
        return next(s.password for s in self.seed.staff if s.username == username)

    def channel_key(self, code: str) -> str:
        return next(c.key for c in self.seed.channels if c.code == code)

    def hospital_key(self, code: str) -> str:
        return next(h.key for h in self.seed.hospitals if h.code == code)


@dataclass(frozen=True)
class DemoTemplate:
    path: Path
    seed: DemoSeed
    clock: dict[str, Any]  # the demo clock's settings (sim_clock_start, sim_clock_anchor)


def demo_clock(zone: str) -> dict[str, Any]:
    """Settings of a clock that reads 10:00 today in ``zone`` now and runs at real speed."""
    here = ZoneInfo(zone)
    start = datetime.combine(datetime.now(here).date(), DEMO_TIME_OF_DAY, here)
    return {"sim_clock_start": start.astimezone(UTC), "sim_clock_anchor": datetime.now(UTC)}


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> DemoTemplate:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    clock = demo_clock(load_settings().default_timezone)
    platform = bootstrap(load_settings(database_url=f"sqlite:///{path}", **clock))
    migrate.upgrade(platform.engine)
    with unit_of_work(platform.sessions) as db:
        seeded = seed_demo(
            db,
            now=platform.clock.now(),
            rng=random.Random(2026),
            protector=platform.protector,
            settings=platform.settings,
        )
    replay_past(platform, seeded, seed=2026)  # as ``fairslot demo`` does
    platform.engine.dispose()
    return DemoTemplate(path=path, seed=seeded, clock=clock)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def demo_site(demo_template: DemoTemplate, tmp_path: Path) -> Iterator[DemoSite]:
    seeded = demo_template.seed
    path = tmp_path / "demo.db"
    shutil.copy(demo_template.path, path)
    platform = bootstrap(load_settings(database_url=f"sqlite:///{path}", **demo_template.clock))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_site(platform), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the demo site did not start")
        time.sleep(0.02)
    try:
        yield DemoSite(base_url=f"http://127.0.0.1:{port}", platform=platform, seed=seeded)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        platform.engine.dispose()


# Per module, not per session: Playwright's sync API runs an event loop in this thread
# while it is started, and a later test's ``asyncio.run`` in the same worker would find
# it running ("cannot be called from a running event loop").
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        reason = f"chromium not found at {CHROMIUM} (install Debian's chromium)"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    # An assertion after a tap that navigates waits for that navigation too: the default
    # 5 s was not enough for a department page under the full suite (CI, 2026-12-06).
    expect.set_options(timeout=15_000)
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def new_page(browser: Browser, site: DemoSite, **context_options: Any) -> tuple[Any, Page]:
    """A context that lets only the site's own requests through (anything else is
    aborted and recorded on ``site.outside``), and a page in it."""
    options: dict[str, Any] = {
        "viewport": OFFICE_SCREEN,
        "locale": "zh-CN",
        "base_url": site.base_url,
        **context_options,
    }
    context = browser.new_context(**options)

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(site.base_url + "/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            site.outside.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(15_000)
    # A navigation waits for the server to render the whole page: on a loaded 2-core
    # machine (the suite beside simulator runs) a first page has taken over 15 s. Waiting
    # longer costs a passing run nothing.
    page.set_default_navigation_timeout(60_000)
    return context, page


@pytest.fixture
def page(browser: Browser, demo_site: DemoSite) -> Iterator[Page]:
    context, page = new_page(browser, demo_site)
    violations: list[str] = []

    def watch(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", watch)
    page.on("pageerror", lambda error: violations.append(f"script error: {error}"))
    yield page
    context.close()
    assert not demo_site.outside, f"requests left the server: {demo_site.outside}"
    assert not violations, f"the page broke its policy or threw: {violations}"


def sign_in(page: Page, site: DemoSite, username: str, *, password: str | None = None) -> None:
    page.goto("/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password or site.password(username))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console/**")


def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A/AA violations on the current page (axe ships with the tests
    and is evaluated through the browser's debugging protocol, which the page's CSP does
    not govern)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text("utf-8"))
    result: list[dict[str, Any]] = page.evaluate(
        """async () => (await window.axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
        })).violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))"""
    )
    return result


def assert_accessible(page: Page) -> None:
    found = accessibility_violations(page)
    assert not found, f"accessibility violations on {page.url}: {found}"
