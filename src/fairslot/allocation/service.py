"""Release-draw use cases: open a draw, register and withdraw intents.

One real person has one chance per department-day: the unique (draw, patient) pair
collapses repeated, parallel and multi-account intents into the first one. Running a
draw is in ``drawing.py``; checking one in ``verification.py``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fairslot.allocation import batches, modes
from fairslot.allocation import repository as repo
from fairslot.allocation.errors import (
    DrawNotFound,
    IntentNotFound,
    IntentNotWithdrawable,
    IntentWindowClosed,
    NotADrawSession,
)
from fairslot.allocation.models import Draw, Intent
from fairslot.allocation.opening import open_draw
from fairslot.allocation.states import AllocationMode, DrawKind, DrawStatus, IntentStatus
from fairslot.blacklist import gate as blacklist_gate
from fairslot.blacklist.gate import BlockedKeys
from fairslot.blacklist.models import Scope
from fairslot.bookings import repository as booking_repo
from fairslot.bookings import service as bookings
from fairslot.bookings.policy import BookingPolicy
from fairslot.context import RequestContext
from fairslot.crypto import Protector, mask_account
from fairslot.errors import NotFound
from fairslot.hospitals.kinds import DoctorTitle
from fairslot.notifications import service as notify
from fairslot.patients.models import Patient
from fairslot.patients.service import require_binding
from fairslot.schedules.models import ClinicSession
from fairslot.schedules.states import SessionStatus

BLACKLISTED = "blacklisted"  # the reason an intent refused for a block gives


@dataclass(frozen=True)
class IntentTarget:
    """What the patient will accept: one session, or any doctor of a title that day."""

    session_id: int | None = None
    department_id: int | None = None
    session_date: date | None = None
    title: DoctorTitle | None = None


# -- draws -----------------------------------------------------------------------------


def ensure_draw(
    db: Session, *, department_id: int, session_date: date, protector: Protector
) -> Draw | None:
    """The draw of a draw-mode department-day, made on first need with a fresh secret
    seed (only its commitment is shown until the draw). None: no active session."""
    existing = repo.draw_for(db, department_id=department_id, session_date=session_date)
    if existing is not None:
        return existing
    window = draw_window(db, department_id=department_id, session_date=session_date)
    if window is None:
        return None
    opens_at, due_at = window
    # Two first intents may race to make the draw: the unique pair keeps one.
    return open_draw(
        db,
        department_id=department_id,
        session_date=session_date,
        kind=DrawKind.DRAW,
        opens_at=opens_at,
        due_at=due_at,
        seed=secrets.token_hex(32),
        protector=protector,
    )


def draw_window(
    db: Session, *, department_id: int, session_date: date
) -> tuple[datetime, datetime] | None:
    """(opens_at, due_at) of a department-day's draw: intents open at the push time, or
    ``intent_lead_minutes`` earlier if the hospital opens its window earlier; the draw is
    due at the release. None: the day has no active session."""
    sessions = [
        s
        for s, _ in repo.department_day_sessions(
            db, department_id=department_id, session_date=session_date
        )
    ]
    department = repo.department(db, department_id)
    if not sessions or department is None:
        return None
    hospital = repo.hospital(db, department.hospital_id)
    lead = hospital.intent_lead_minutes if hospital else None
    due_at = min(s.release_at for s in sessions)
    opens_at = min(s.push_at for s in sessions) - timedelta(minutes=lead or 0)
    return min(opens_at, due_at), due_at


def get_draw(db: Session, *, draw_id: int) -> Draw:
    draw = repo.get_draw(db, draw_id)
    if draw is None:
        raise DrawNotFound("No draw has this id.")
    return draw


def find_draw(db: Session, *, department_id: int, session_date: date) -> Draw:
    draw = repo.draw_for(db, department_id=department_id, session_date=session_date)
    if draw is None:
        raise DrawNotFound("No draw has been opened for this department and day yet.")
    return draw


# -- intents ---------------------------------------------------------------------------


def draw_of_session(db: Session, *, session_id: int) -> Draw:
    """The draw of a session's department-day (404 when the session or draw is unknown)."""
    session = repo.get_session(db, session_id)
    if session is None:
        raise DrawNotFound("No session has this id.")
    return find_draw(db, department_id=session.department_id, session_date=session.session_date)


def register_intent(
    db: Session,
    *,
    account_id: int,
    patient_id: int,
    target: IntentTarget,
    payment_account: str,
    payment_reference: str,
    now: datetime,
    ctx: RequestContext,
    policy: BookingPolicy,
    protector: Protector,
) -> tuple[Intent, bool]:
    """Register a patient's one chance in a draw; returns (intent, created).

    A repeated or parallel intent for the same patient — from any account or channel —
    answers the existing intent instead of adding a second chance.
    """
    booking_repo.lock_patient(db, patient_id=patient_id)
    _, patient = require_binding(
        db, account_id=account_id, patient_id=patient_id, channel_id=ctx.channel_id
    )
    sessions = _target_sessions(db, target=target)
    draw = _draw_to_enter(db, session=sessions[0], now=now, policy=policy, protector=protector)
    existing = repo.intent_of(db, draw_id=draw.id, patient_id=patient.id)
    if existing is not None and existing.status == IntentStatus.REGISTERED:
        return existing, False
    # Every booking rule applies now, so nobody is led to hope for a slot they could
    # not book; the draw checks them again when it books.
    bookings.check_rules(db, patient=patient, session=sessions[0], now=now, policy=policy)
    payment_account = payment_account.strip()
    values: dict[str, Any] = {
        "account_id": account_id,
        "channel_id": ctx.channel_id or 0,
        "session_id": target.session_id,
        "title": target.title,
        "payment_account_hash": protector.keyed_hash(payment_account, purpose="payment_account"),
        "payment_account_masked": mask_account(payment_account),
        "payment_reference": payment_reference.strip(),
        "device_key": ctx.device_key,
        "ip_key": ctx.ip_key,
        "ip_label": ctx.ip_label,
        "wifi_key": ctx.wifi_key,
        "created_at": now,
        "decided_at": None,
        "booking_id": None,
        "reason": None,
    }
    if existing is not None:
        # Withdrawn earlier and back before the draw: the same chance, renewed.
        if not repo.move_intent(
            db,
            intent_id=existing.id,
            expected=IntentStatus.WITHDRAWN,
            target=IntentStatus.REGISTERED,
            **values,
        ):
            return _reload(db, existing.id), False
        return _reload(db, existing.id), True
    intent = Intent(
        draw_id=draw.id, patient_id=patient.id, status=IntentStatus.REGISTERED, **values
    )
    # A parallel request for the same patient may get there first: that is the intent.
    return repo.insert_intent_once(db, intent)


def get_intent(db: Session, *, intent_id: str, account_id: int, channel_id: int | None) -> Intent:
    """The intent, to an account bound to its patient (the collapsed intent of a second
    account is visible to it too)."""
    intent = repo.get_intent(db, intent_id)
    if intent is None:
        raise IntentNotFound("No intent has this id.")
    require_binding(db, account_id=account_id, patient_id=intent.patient_id, channel_id=channel_id)
    return intent


def withdraw_intent(
    db: Session, *, intent_id: str, account_id: int, now: datetime, ctx: RequestContext
) -> Intent:
    intent = get_intent(db, intent_id=intent_id, account_id=account_id, channel_id=ctx.channel_id)
    draw = get_draw(db, draw_id=intent.draw_id)
    if draw.status != DrawStatus.OPEN or now >= draw.due_at:
        raise IntentNotWithdrawable("The draw has run; cancel the booking instead if you won.")
    if intent.status == IntentStatus.WITHDRAWN:
        return intent
    # An entry held for review may be withdrawn too: the patient owes no one a wait.
    expected = IntentStatus.HELD if intent.status == IntentStatus.HELD else IntentStatus.REGISTERED
    if not repo.move_intent(
        db,
        intent_id=intent.id,
        expected=expected,
        target=IntentStatus.WITHDRAWN,
        decided_at=now,
    ):
        raise IntentNotWithdrawable("The intent changed while being withdrawn; try again.")
    return _reload(db, intent.id)


def identifiers(intent: Intent, *, patient: Patient) -> blacklist_gate.Identifiers:
    """What an intent is known by, as the gate reads a request."""
    return blacklist_gate.Identifiers(
        patient_key=patient.id_hash,
        phone_hash=patient.phone_hash,
        account_id=intent.account_id,
        device_key=intent.device_key,
        ip_key=intent.ip_key,
        wifi_key=intent.wifi_key,
        payment_account_hash=intent.payment_account_hash,
    )


def refuse_blocked(
    db: Session, *, blocked: BlockedKeys, now: datetime, protector: Protector
) -> int:
    """A block was just recorded: every registered intent of a draw not yet run that
    carries one of its keys is refused (reason ``blacklisted``, the pre-authorisation
    released, the channel told). The draw re-checks at draw time too, for blocks that
    came another way. Returns how many were refused."""
    candidates = repo.pending_intents_with_identifiers(
        db,
        patient_keys=blocked.of(Scope.PATIENT),
        phone_hashes=blocked.of(Scope.PHONE),
        account_ids=blocked.account_ids,
        payment_hashes=blocked.of(Scope.PAYMENT),
        device_keys=blocked.of(Scope.DEVICE),
        network_keys=blocked.of(Scope.NETWORK),
    )
    refused = 0
    for intent, patient in candidates:
        if not blocked.hit(identifiers(intent, patient=patient), protector=protector):
            continue
        if not repo.move_intent(
            db,
            intent_id=intent.id,
            expected=IntentStatus.REGISTERED,
            target=IntentStatus.REFUSED,
            reason=BLACKLISTED,
            decided_at=now,
        ):
            continue  # withdrawn or drawn meanwhile: nothing pending to refuse
        refused += 1
        notify.to_channel(
            db,
            channel_id=intent.channel_id,
            kind="draw_refused",
            at=now,
            account_id=intent.account_id,
            payload={
                "intent_id": intent.id,
                "draw_id": intent.draw_id,
                "patient_id": intent.patient_id,
                "reason": BLACKLISTED,
                "preauthorisation": "released",
            },
        )
    return refused


def _draw_to_enter(
    db: Session,
    *,
    session: ClinicSession,
    now: datetime,
    policy: BookingPolicy,
    protector: Protector,
) -> Draw:
    """The draw or release batch an intent for ``session``'s department-day enters now.

    The department's *effective* mode decides (``modes.py``: the hospital's override, else
    its schedule's mode, raised to a release batch where the platform judges a first-come
    clinic scarce). A release batch takes intents like a draw, from the push (or the
    hospital's earlier ``intent_lead_minutes``) until its window after the release closes:
    a patient who cannot be there at the release instant enters ahead of it, one who comes
    at the release enters with a hold, and either way it is the same one entry. A row the
    department-day already has decides over the mode (a day batched after its push keeps
    its batch)."""
    department = repo.department(db, session.department_id)
    assert department is not None  # foreign key
    existing = repo.draw_for(db, department_id=department.id, session_date=session.session_date)
    kind = existing.kind if existing is not None else _kind_for(modes.effective(department))
    if kind is None:
        raise NotADrawSession(
            "This department sells first-come at release; hold a slot then instead.",
        )
    window = draw_window(db, department_id=department.id, session_date=session.session_date)
    if window is None or now < window[0]:
        raise NotFound("No such session is open for intents.", code="session_not_found")
    draw = existing
    if draw is None and kind == DrawKind.DRAW:
        draw = ensure_draw(
            db,
            department_id=department.id,
            session_date=session.session_date,
            protector=protector,
        )
    elif draw is None:
        draw = batches.ensure_batch(
            db,
            department_id=department.id,
            session_date=session.session_date,
            protector=protector,
            default_seconds=policy.batch_window_seconds,
        )
    if draw is None or (draw.kind == DrawKind.DRAW and now < draw.opens_at):
        raise NotFound("No such session is open for intents.", code="session_not_found")
    if draw.status != DrawStatus.OPEN or now >= draw.due_at:
        raise IntentWindowClosed(
            "The intent window for this session has closed; its slots went to the draw.",
            detail_zh="该时段的预约登记已截止。",
        )
    return draw


def _kind_for(mode: AllocationMode) -> DrawKind | None:
    """What an intent enters under a department's effective mode (None: first-come)."""
    return {
        AllocationMode.DRAW: DrawKind.DRAW,
        AllocationMode.RELEASE_BATCH: DrawKind.RELEASE_BATCH,
    }.get(mode)


def _target_sessions(db: Session, *, target: IntentTarget) -> list[ClinicSession]:
    if target.session_id is not None:
        session = repo.get_session(db, target.session_id)
        found = [session] if session is not None else []
    else:
        assert target.department_id is not None and target.session_date is not None
        found = [
            s
            for s, title in repo.department_day_sessions(
                db, department_id=target.department_id, session_date=target.session_date
            )
            if target.title is not None and title == target.title.value
        ]
    found = [s for s in found if s.status == SessionStatus.ACTIVE]
    if not found:
        raise NotFound("No such session is open for intents.", code="session_not_found")
    return found


def _reload(db: Session, intent_id: str) -> Intent:
    intent = repo.get_intent(db, intent_id)
    assert intent is not None
    return intent
