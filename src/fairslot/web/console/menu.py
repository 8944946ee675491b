"""The console's menu: each page area, its address and the duty it needs. A member of
staff sees only the entries their roles may open."""

from __future__ import annotations

from dataclasses import dataclass

from fairslot.staff.permissions import Duty, may
from fairslot.staff.roles import Role


@dataclass(frozen=True)
class MenuItem:
    key: str  # the message key menu.<key> and the page's id
    href: str
    duty: Duty


MENU: tuple[MenuItem, ...] = (
    MenuItem("today", "/console/", Duty.SEE_TODAY),
    MenuItem("cases", "/console/cases", Duty.READ_CASES),
    MenuItem("blacklist", "/console/blacklist", Duty.KEEP_BLACKLIST),
    MenuItem("calls", "/console/calls", Duty.MAKE_CALLS),
    MenuItem("reports", "/console/reports", Duty.READ_REPORTS),
    MenuItem("metrics", "/console/metrics", Duty.READ_REPORTS),
    MenuItem("slots", "/console/slots", Duty.TRACE_SLOTS),
    MenuItem("draws", "/console/draws", Duty.READ_DRAWS),
    MenuItem("schedules", "/console/schedules", Duty.MANAGE_SCHEDULES),
    MenuItem("staff", "/console/staff", Duty.MANAGE_STAFF),
    MenuItem("audit", "/console/audit", Duty.READ_AUDIT),
)


def visible(roles: frozenset[Role]) -> list[MenuItem]:
    return [item for item in MENU if may(roles, item.duty)]
