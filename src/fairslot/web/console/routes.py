"""Every console page module's router, in one list the site includes."""

from __future__ import annotations

from fastapi import APIRouter

from fairslot.web.console import (
    audit,
    blacklist,
    calls,
    case_page,
    cases,
    draws,
    held_entries,
    metrics,
    reports,
    schedules,
    signin,
    slots,
    staff,
    today,
)

ROUTERS: list[APIRouter] = [
    signin.router,
    today.router,
    cases.router,
    case_page.router,
    held_entries.router,
    blacklist.router,
    calls.router,
    reports.router,
    metrics.router,
    slots.router,
    draws.router,
    schedules.router,
    staff.router,
    audit.router,
]
