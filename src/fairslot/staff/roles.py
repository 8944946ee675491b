"""Staff roles and what each may do. Pure: no I/O.

The medical-affairs office reviews cases; IT keeps the blacklist and staff accounts;
customer service makes follow-up calls; schedulers manage hospital schedules; auditors
read the audit log and reports. A person may hold several roles.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    REVIEWER = "reviewer"
    IT_ADMIN = "it_admin"
    CUSTOMER_SERVICE = "customer_service"
    SCHEDULER = "scheduler"
    AUDITOR = "auditor"


def parse_roles(raw: str | list[str]) -> frozenset[Role]:
    """Roles from ``"reviewer,auditor"`` or a list; raises ValueError on an unknown one."""
    items = raw.split(",") if isinstance(raw, str) else raw
    return frozenset(Role(item.strip()) for item in items if item.strip())
