"""Staff accounts: creation by IT, login (argon2-verified password → bearer token), the
token check every staff endpoint makes, logout, password change and deactivation.

Services only flush; the edge commits. Every change made by someone is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from fairslot.errors import Conflict, InvalidInput, NotFound, Unauthorized
from fairslot.staff import audit, throttle
from fairslot.staff import repository as repo
from fairslot.staff.audit import StaffActor
from fairslot.staff.errors import LastITAdmin, LoginFailed, OwnAccountChange, SignInThrottled
from fairslot.staff.models import StaffToken, StaffUser
from fairslot.staff.roles import Role, parse_roles
from fairslot.staff.signin_guard import SignInGuard
from fairslot.staff.throttle import RecentFailures

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong name costs the same time as a
# wrong password and does not reveal which staff usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_of(user: StaffUser) -> StaffActor:
    return StaffActor(username=user.username, roles=parse_roles(user.roles), staff_id=user.id)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"A staff password needs at least {MIN_PASSWORD_LENGTH} characters.",
            code="password_too_short",
        )


def _roles_text(roles: frozenset[Role]) -> str:
    if not roles:
        raise InvalidInput("Give the staff member at least one role.", code="roles_required")
    return ",".join(sorted(r.value for r in roles))


def create_user(
    db: Session,
    *,
    username: str,
    display_name: str,
    roles: frozenset[Role],
    password: str,
    by: StaffActor,
    now: datetime,
) -> StaffUser:
    username = username.strip().lower()
    if (
        not username
        or len(username) > 64
        or not username.replace("_", "").replace(".", "").isalnum()
    ):
        raise InvalidInput(
            "A username is 1-64 letters, digits, dots or underscores.", code="invalid_username"
        )
    _check_password(password)
    if repo.by_username(db, username) is not None:
        raise Conflict("A staff member already has this username.", code="username_taken")
    user = StaffUser(
        username=username,
        display_name=display_name.strip()[:100] or username,
        roles=_roles_text(roles),
        password_hash=_hasher.hash(password),
        active=True,
        created_at=now,
        created_by=by.username[:64],
    )
    db.add(user)
    db.flush()
    audit.record(
        db,
        actor=by,
        action="staff.create",
        target_kind="staff",
        target_id=user.id,
        now=now,
        data={"username": username, "roles": user.roles},
    )
    return user


def login(
    db: Session,
    *,
    username: str,
    password: str,
    now: datetime,
    hours: int,
    address: str | None,
    guard: SignInGuard,
) -> tuple[StaffUser, str, StaffToken]:
    """Verify the password and issue a bearer token (only its hash is stored).

    First the throttle (``staff/throttle.py``): too many recent failures of this username
    from this address, or of any username from it, refuse the try (429
    ``sign_in_throttled``, with ``retry_after``) before any hashing. The verification
    itself takes one of the process's few slots (``signin_guard.py``).

    A refusal is audited (``staff.login_failed``, with the username tried and the address
    masked and as a keyed hash, never the password) and raised with ``keep_changes``: the
    edge keeps that one row instead of rolling it back with the refusal. Nothing else is
    written before it.
    """
    tried = username.strip().lower()[:64]
    address_key = guard.address_key(address)
    failures = repo.sign_in_failures(
        db, username=tried, address_key=address_key, since=now - guard.policy.window
    )
    wait = throttle.retry_after(failures, now=now, policy=guard.policy)
    if wait is not None:
        raise SignInThrottled(
            f"Too many failed sign-ins from this address; try again in {wait} s.",
            detail_zh=f"该地址登录失败次数过多，请 {wait} 秒后再试。",
            retry_after=wait,
        )
    user = repo.by_username(db, tried)
    verified = guard.verifier.verify(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not verified or not user.active:
        audit.record(
            db,
            actor=StaffActor(username="anonymous"),
            action=repo.LOGIN_FAILED,
            target_kind="staff",
            target_id=user.id if user is not None else "-",
            now=now,
            data={
                "username": tried,
                "why": "unknown_user"
                if user is None
                else "wrong_password"
                if not verified
                else "inactive",
                "address": throttle.address_label(address),
                "address_key": address_key,
            },
        )
        raise LoginFailed(
            "Wrong username or password.", keep_changes=True, detail_zh="用户名或密码错误。"
        )
    token = secrets.token_urlsafe(32)
    row = StaffToken(
        staff_id=user.id,
        token_hash=hash_token(token),
        issued_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    db.add(row)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    db.flush()
    audit.record(
        db,
        actor=actor_of(user),
        action=repo.LOGIN,
        target_kind="staff",
        target_id=user.id,
        now=now,
    )
    return user, token, row


def authenticate(db: Session, *, token: str, now: datetime) -> StaffUser:
    row = repo.live_token(db, token_hash=hash_token(token), now=now)
    user = repo.get(db, row.staff_id) if row is not None else None
    if user is None or not user.active:
        raise Unauthorized(
            "The staff token is not valid or has expired; log in again.", code="staff_token_invalid"
        )
    return user


def recent_failed_sign_ins(db: Session, *, staff_id: int) -> RecentFailures:
    """Failed sign-ins for this member's username since their previous sign-in: shown to
    them after signing in (console home, ``GET /staff/v1/me``)."""
    return repo.failures_since_previous_sign_in(db, staff_id=staff_id)


def logout(db: Session, *, token: str, actor: StaffActor, now: datetime) -> None:
    repo.revoke_token(db, token_hash=hash_token(token), now=now)
    audit.record(
        db,
        actor=actor,
        action="staff.logout",
        target_kind="staff",
        target_id=actor.staff_id or 0,
        now=now,
    )


def list_staff(db: Session) -> list[StaffUser]:
    """Every staff account, active or not, by username."""
    return repo.listing(db)


def get_staff(db: Session, *, username: str) -> StaffUser:
    """One staff account (404 ``staff_not_found``)."""
    return _user(db, username)


def _user(db: Session, username: str) -> StaffUser:
    user = repo.by_username(db, username.strip().lower())
    if user is None:
        raise NotFound("No staff member has this username.", code="staff_not_found")
    return user


def set_password(
    db: Session, *, username: str, password: str, by: StaffActor, now: datetime
) -> StaffUser:
    _check_password(password)
    user = _user(db, username)
    user.password_hash = _hasher.hash(password)
    repo.revoke_tokens(db, staff_id=user.id, now=now)
    db.flush()
    audit.record(
        db, actor=by, action="staff.password", target_kind="staff", target_id=user.id, now=now
    )
    return user


def change_own_password(
    db: Session, *, actor: StaffActor, current: str, new: str, now: datetime
) -> StaffUser:
    """A member of staff changes their own password, proving the current one. Every
    session of theirs ends (the console signs them in again)."""
    user = repo.get(db, actor.staff_id) if actor.staff_id is not None else None
    if user is None:
        raise NotFound("No staff member has this username.", code="staff_not_found")
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError) as exc:
        raise InvalidInput(
            "The current password is not right.", code="current_password_wrong"
        ) from exc
    if new == current:
        raise InvalidInput(
            "Choose a new password different from the current one.", code="password_unchanged"
        )
    return set_password(db, username=user.username, password=new, by=actor, now=now)


def set_active(
    db: Session, *, username: str, active: bool, reason: str, by: StaffActor, now: datetime
) -> StaffUser:
    """Deactivate (ending every token) or reactivate an account, with the reason. No one
    deactivates themselves, and the last active IT admin stays (:func:`_keep_an_it_admin`)."""
    reason = _reason(reason)
    user = _user(db, username)
    if not active:
        _not_oneself(user, by=by, code="own_account", what="deactivate your own account")
        if user.active and Role.IT_ADMIN in parse_roles(user.roles):
            _keep_an_it_admin(db, losing=user)
    user.active = active
    if not active:
        repo.revoke_tokens(db, staff_id=user.id, now=now)
    db.flush()
    audit.record(
        db,
        actor=by,
        action="staff.activate" if active else "staff.deactivate",
        target_kind="staff",
        target_id=user.id,
        now=now,
        reason=reason,
    )
    return user


def set_roles(
    db: Session,
    *,
    username: str,
    roles: frozenset[Role],
    by: StaffActor,
    now: datetime,
    reason: str | None = None,
) -> StaffUser:
    """Replace a member's roles, with the reason (422 ``reason_required``); the audit row
    names who, why, and the roles before and after. No one changes their own roles (an IT
    admin granting themselves the reviewer role could decide cases), and the last active
    IT admin keeps the role."""
    why = _reason(reason or "")
    user = _user(db, username)
    _not_oneself(user, by=by, code="own_roles", what="change your own roles")
    if user.active and Role.IT_ADMIN in parse_roles(user.roles) and Role.IT_ADMIN not in roles:
        _keep_an_it_admin(db, losing=user)
    before = user.roles
    user.roles = _roles_text(roles)
    db.flush()
    audit.record(
        db,
        actor=by,
        action="staff.roles",
        target_kind="staff",
        target_id=user.id,
        now=now,
        reason=why,
        data={"before": before, "after": user.roles},
    )
    return user


def _reason(raw: str) -> str:
    if not raw.strip():
        raise InvalidInput("Give the reason.", code="reason_required", detail_zh="请填写原因。")
    return raw.strip()


def _not_oneself(user: StaffUser, *, by: StaffActor, code: str, what: str) -> None:
    if by.staff_id is not None and by.staff_id == user.id:
        raise OwnAccountChange(
            f"You cannot {what}; ask another IT admin.",
            code=code,
            detail_zh="不能修改自己的角色或停用自己的账号，请由另一位 IT 管理员操作。",
        )


def _keep_an_it_admin(db: Session, *, losing: StaffUser) -> None:
    """Refuse to take the IT admin role or the account away from the last active IT admin:
    without one, staff accounts and the blacklist could only be managed from the server.
    The active IT admins' rows are locked first, so two admins removing each other at the
    same moment cannot both succeed."""
    if all(admin.id == losing.id for admin in repo.lock_active_it_admins(db)):
        raise LastITAdmin(
            f"{losing.username} is the last active IT admin; make another IT admin first.",
            detail_zh=f"{losing.username} 是最后一位在职的 IT 管理员，请先任命另一位 IT 管理员。",
        )
