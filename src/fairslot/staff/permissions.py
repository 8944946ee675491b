"""What each staff duty needs: one table for the staff API and the console. Pure.

An endpoint or a page asks for a duty (``Duty.DECIDE_CASES``); the roles that may do it
are listed here once, so the JSON API and the console can never disagree.
"""

from __future__ import annotations

import enum

from fairslot.staff.roles import Role


class Duty(enum.StrEnum):
    READ_CASES = "read_cases"
    DECIDE_CASES = "decide_cases"
    KEEP_BLACKLIST = "keep_blacklist"
    MAKE_CALLS = "make_calls"
    READ_REPORTS = "read_reports"
    MANAGE_SCHEDULES = "manage_schedules"
    MANAGE_STAFF = "manage_staff"
    READ_AUDIT = "read_audit"
    TRACE_SLOTS = "trace_slots"
    READ_DRAWS = "read_draws"
    SEE_TODAY = "see_today"


EVERY_ROLE = frozenset(Role)

ROLES_FOR: dict[Duty, frozenset[Role]] = {
    Duty.READ_CASES: frozenset({Role.REVIEWER, Role.AUDITOR}),
    Duty.DECIDE_CASES: frozenset({Role.REVIEWER}),
    Duty.KEEP_BLACKLIST: frozenset({Role.IT_ADMIN}),
    Duty.MAKE_CALLS: frozenset({Role.CUSTOMER_SERVICE}),
    # Reports are read by the office that acts on them and by those who audit it.
    Duty.READ_REPORTS: frozenset({Role.REVIEWER, Role.AUDITOR, Role.IT_ADMIN}),
    Duty.MANAGE_SCHEDULES: frozenset({Role.SCHEDULER}),
    Duty.MANAGE_STAFF: frozenset({Role.IT_ADMIN}),
    Duty.READ_AUDIT: frozenset({Role.AUDITOR}),
    # A slot's history is evidence: for those who judge, audit or support a booking.
    Duty.TRACE_SLOTS: frozenset(
        {Role.REVIEWER, Role.AUDITOR, Role.IT_ADMIN, Role.CUSTOMER_SERVICE, Role.SCHEDULER}
    ),
    # Draws are public (their verification is for anyone); every member of staff sees them.
    Duty.READ_DRAWS: EVERY_ROLE,
    Duty.SEE_TODAY: EVERY_ROLE,
}


def may(roles: frozenset[Role], duty: Duty) -> bool:
    return bool(roles & ROLES_FOR[duty])
