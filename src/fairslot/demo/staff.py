"""The demo's staff: one account per role, with a development password printed once.

Only flushes; the caller commits. Development settings only (:func:`require_development`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.config import Settings
from fairslot.demo import catalog
from fairslot.staff import service as staff_service
from fairslot.staff.audit import cli_actor


@dataclass(frozen=True)
class StaffLogin:
    username: str
    role: str
    duty: str
    password: str  # development only, printed once and stored only as an argon2 hash


def require_development(settings: Settings) -> None:
    """The demo prints staff passwords: it never runs on production settings."""
    if settings.is_production:
        raise RuntimeError(
            "the demo seeds staff accounts with printed development passwords; it runs "
            "only with FAIRSLOT_ENVIRONMENT=development"
        )


def seed_staff(db: Session, *, now: datetime) -> list[StaffLogin]:
    """One account per role, each with a fresh random password (not drawn from the seed:
    a password anyone could recompute from the published seed would be no password)."""
    logins = []
    for spec in catalog.STAFF:
        password = "demo-" + secrets.token_urlsafe(12)
        staff_service.create_user(
            db,
            username=spec.username,
            display_name=spec.name,
            roles=frozenset({spec.role}),
            password=password,
            by=cli_actor("demo"),
            now=now,
        )
        logins.append(StaffLogin(spec.username, spec.role.value, spec.duty, password))
    return logins
