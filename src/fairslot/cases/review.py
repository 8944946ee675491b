"""The review queue's use cases for the medical-affairs office: take the next case,
release it, confirm it (blacklisting the chosen scopes), dismiss it, or ask customer
service to call the case's patients first.

Each action is a compare-and-set transition (``cases/transitions.py``) with its case event,
plus a staff audit row with the reviewer's reason, in the edge's transaction. Only the
reviewer holding a case's live claim may decide it. Services only flush.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.allocation import screening_review
from fairslot.blacklist import service as blacklist
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.bookings.models import Booking
from fairslot.bookings.policy import BookingPolicy
from fairslot.cases import collateral, transitions
from fairslot.cases import evidence as ev
from fairslot.cases import repository as repo
from fairslot.cases.candidates import SCOPES, patients_to_call
from fairslot.cases.errors import CaseConflict, QueueEmpty, ReviewInputInvalid
from fairslot.cases.models import Case
from fairslot.cases.schemas import CaseEvidence
from fairslot.cases.states import CLOSED, CaseStatus
from fairslot.crypto import Protector
from fairslot.followup import repository as calls_repo
from fairslot.followup.models import CallTask
from fairslot.followup.states import CallReason, CallStatus
from fairslot.sanctions import service as sanctions
from fairslot.staff import audit, claims
from fairslot.staff.audit import StaffActor

MAX_BLOCK_DAYS = 36500


def take_next(db: Session, *, actor: StaffActor, now: datetime, lock_minutes: int) -> Case:
    """Claim the best case waiting: the highest score, then the oldest; an open case or
    one whose reviewer's claim has lapsed. Two reviewers never get the same case: each
    claim is a compare-and-set on the case's version, and a lost one tries the next."""
    claims.require_own_account(actor, items="Cases")
    locked_until = now + timedelta(minutes=lock_minutes)

    def claim(case: Case) -> bool:
        take = transitions.take if case.status == CaseStatus.OPEN else transitions.take_lapsed
        try:
            take(db, case=case, actor=actor, now=now, locked_until=locked_until)
        except CaseConflict:
            return False  # another reviewer claimed it first
        return True

    taken = claims.claim_first(
        candidates=lambda tried, limit: repo.next_candidates(
            db, now=now, exclude=tried, limit=limit
        ),
        ident=lambda case: case.id,
        claim=claim,
    )
    if taken is None:
        raise QueueEmpty(
            "No case is waiting for review.",
            code="queue_empty",
            detail_zh="目前没有待审核的案件。",
        )
    audit.record(
        db,
        actor=actor,
        action="case.take",
        target_kind="case",
        target_id=taken.id,
        now=now,
        data={"score": taken.score, "locked_until": locked_until.isoformat()},
    )
    return taken


def listing(db: Session, *, status: CaseStatus | None, limit: int) -> list[Case]:
    return repo.listing(db, status=status, limit=limit)


def release(db: Session, *, case_id: int, actor: StaffActor, now: datetime) -> Case:
    """Put a case one holds back in the queue, undecided."""
    case = ev.require(db, case_id)
    _held(case, actor=actor, now=now, live=False)
    transitions.release(db, case=case, actor=actor, now=now)
    audit.record(
        db, actor=actor, action="case.release", target_kind="case", target_id=case.id, now=now
    )
    return case


@dataclass(frozen=True)
class Confirmed:
    case: Case
    blocked: list[BlacklistEntry]
    already: list[BlacklistEntry]
    withdrawn: list[Booking] = field(default_factory=list)  # upcoming bookings taken back
    waitlist_closed: int = 0
    intents_refused: int = 0
    # identifiers of the chosen scopes not blocked, and why (``cases/collateral.py``)
    held_back: list[collateral.HeldBack] = field(default_factory=list)


def confirm(
    db: Session,
    *,
    case_id: int,
    scopes: Sequence[str],
    days: int | None,
    reason: str,
    actor: StaffActor,
    now: datetime,
    protector: Protector,
    policy: BookingPolicy,
    rng: random.Random,
    evidence_version: int,
) -> Confirmed:
    """The case is a scalper's: blacklist every identifier of the chosen scopes (for
    ``days``, or until lifted in person) and close the case. Identifiers an entry in
    force already blocks are skipped and reported.

    Whatever carries one of those identifiers loses what it was to get: waitlist entries
    are closed, pending draw intents refused, and upcoming held or confirmed bookings
    withdrawn, their slots cooling for a random delay (``policy``, ``rng``) before they
    go to the waitlist or a re-release (``sanctions/service.py``).

    ``evidence_version`` is the case's as the reviewer read it: alerts the batch added
    since would have their identifiers blocked unseen, so the case is refused
    (``case_evidence_changed``) until it is read again."""
    case = ev.require(db, case_id)
    _held(case, actor=actor, now=now)
    _seen(case, evidence_version)
    reason = _reason(reason)
    chosen = _scopes(scopes)
    if days is not None and not 1 <= days <= MAX_BLOCK_DAYS:
        raise ReviewInputInvalid(
            f"days must be 1-{MAX_BLOCK_DAYS}, or null for a block until lifted in person.",
            code="invalid_days",
        )
    gathered = ev.gather(db, case=case, protector=protector)
    found = ev.candidates(gathered, protector=protector)
    offered = [c for c in found if c.scope in chosen]
    empty = sorted(chosen - {c.scope for c in offered}, key=SCOPES.index)
    if empty:
        raise ReviewInputInvalid(
            f"This case has no identifier of scope {', '.join(empty)} to block; "
            "choose among the scopes its candidates list.",
            code="scope_has_no_identifiers",
        )
    # Judge collateral before blocking: shared addresses and identifiers are held back, and
    # bare addresses too where stronger identifiers stop the operator (``collateral.py``).
    blocking = collateral.plan(
        offered,
        scopes=chosen,
        others=ev.collateral(db, gathered=gathered, found=offered, now=now),
    )
    targets = blocking.block
    # Only an entry still in force blocks: an expired one that nobody lifted is closed by
    # ``block_key`` and the identifier blocked again.
    existing = {
        where: entry
        for where, entry in ev.entries_for(db, targets).items()
        if blacklist.in_force(entry, now=now)
    }
    already = [existing[(c.scope, c.key)] for c in targets if (c.scope, c.key) in existing]
    todo = [c for c in targets if (c.scope, c.key) not in existing]
    # The claim first: a reviewer who lost the case blocks nothing.
    transitions.confirm(
        db,
        case=case,
        actor=actor,
        now=now,
        reason=reason,
        data={"scopes": sorted(chosen, key=SCOPES.index), "days": days},
        evidence_version=evidence_version,
    )
    blocked = [
        blacklist.block_key(
            db,
            scope=Scope(c.scope),
            key_hash=c.key,
            label=c.label,
            reason=reason,
            actor=actor,
            now=now,
            days=days,
            case_ref=str(case.id),
        )
        for c in todo
    ]
    in_force = [*blocked, *already]
    closed = sanctions.close_waiting(db, entries=in_force, now=now, protector=protector)
    withdrawn = sanctions.withdraw_bookings(
        db, entries=in_force, actor=actor, now=now, policy=policy, rng=rng, protector=protector
    )
    # Draw entries the pre-draw screening held for this case stay out for good.
    screening_review.settle_case(
        db, case_id=case.id, confirmed=True, actor=actor, reason=reason, now=now
    )
    audit.record(
        db,
        actor=actor,
        action="case.confirm",
        target_kind="case",
        target_id=case.id,
        now=now,
        reason=reason,
        data={
            "scopes": sorted(chosen, key=SCOPES.index),
            "days": days,
            "blocked": [e.id for e in blocked],
            "already_blocked": [e.id for e in already],
            "withdrawn": [b.id for b in withdrawn],
            "waitlist_closed": closed.waitlist_closed,
            "intents_refused": closed.intents_refused,
            "held_back": [
                {"scope": h.candidate.scope, "label": h.candidate.label, "others": h.others}
                | {"reason": h.reason}
                for h in blocking.held_back
            ],
        },
    )
    return Confirmed(
        case=case,
        blocked=blocked,
        already=already,
        withdrawn=withdrawn,
        waitlist_closed=closed.waitlist_closed,
        intents_refused=closed.intents_refused,
        held_back=blocking.held_back,
    )


def dismiss(
    db: Session,
    *,
    case_id: int,
    reason: str,
    actor: StaffActor,
    now: datetime,
    evidence_version: int,
) -> Case:
    """Not a scalper: close the case with the reason; nothing is blocked. Like a
    confirmation, it is refused if alerts came in since the reviewer read the case
    (``evidence_version``): a dismissal would close them unread."""
    case = ev.require(db, case_id)
    _held(case, actor=actor, now=now)
    _seen(case, evidence_version)
    reason = _reason(reason)
    transitions.dismiss(
        db, case=case, actor=actor, now=now, reason=reason, evidence_version=evidence_version
    )
    # Not a scalper: the draw entries held for this case are cleared (after their draw,
    # an entry whose place had won is booked by the worker's next sweep).
    screening_review.settle_case(
        db, case_id=case.id, confirmed=False, actor=actor, reason=reason, now=now
    )
    audit.record(
        db,
        actor=actor,
        action="case.dismiss",
        target_kind="case",
        target_id=case.id,
        now=now,
        reason=reason,
    )
    return case


def request_calls(
    db: Session,
    *,
    case_id: int,
    question: str,
    actor: StaffActor,
    now: datetime,
    protector: Protector,
) -> tuple[Case, list[CallTask]]:
    """Ask customer service to call each patient of the case (one flagged task per
    patient, ``case:<id>:patient:<pid>``); the case waits until every call has its
    outcome, then comes back to the queue with the outcomes in its evidence."""
    case = ev.require(db, case_id)
    _held(case, actor=actor, now=now)
    question = question.strip()
    if not question:
        raise ReviewInputInvalid(
            "Write the question customer service should ask.", code="question_required"
        )
    gathered = ev.gather(db, case=case, protector=protector)
    latest = {row[0].patient_id: row[0].id for row in gathered.rows}  # held_at order
    keys = {pid: f"case:{case.id}:patient:{pid}" for pid in patients_to_call(gathered.facts)}
    if not keys:
        raise CaseConflict(
            "This case names no patient the platform knows, so there is nobody to call.",
            code="no_patient_to_call",
        )
    called = calls_repo.existing_keys(db, keys.values())
    tasks = [
        CallTask(
            dedupe_key=key,
            reason=CallReason.FLAGGED,
            status=CallStatus.PENDING,
            patient_id=pid,
            booking_id=latest.get(pid),
            case_id=case.id,
            question=question[:500],
            version=1,
            created_at=now,
        )
        for pid, key in keys.items()
        if key not in called
    ]
    if not tasks:
        raise CaseConflict(
            "Every patient of this case has been called already; their outcomes are in the "
            "case's evidence. Confirm or dismiss it.",
            code="calls_already_made",
        )
    db.add_all(tasks)
    db.flush()
    transitions.request_calls(
        db, case=case, actor=actor, now=now, question=question, task_ids=[t.id for t in tasks]
    )
    audit.record(
        db,
        actor=actor,
        action="case.request_calls",
        target_kind="case",
        target_id=case.id,
        now=now,
        reason=question,
        data={"tasks": [t.id for t in tasks]},
    )
    return case, tasks


def view(
    db: Session,
    *,
    case_id: int,
    actor: StaffActor,
    now: datetime,
    protector: Protector,
    tz: ZoneInfo,
) -> CaseEvidence:
    """The evidence of a case. Reading it is audited: it names patients."""
    case = ev.require(db, case_id)
    audit.record(
        db, actor=actor, action="case.view", target_kind="case", target_id=case.id, now=now
    )
    return ev.evidence(db, case=case, protector=protector, now=now, tz=tz)


# -- checks ----------------------------------------------------------------------------


def _held(case: Case, *, actor: StaffActor, now: datetime, live: bool = True) -> None:
    """Refuse unless ``actor`` holds the case (with a live claim, when ``live``)."""
    if case.status in CLOSED:
        raise CaseConflict(
            f"This case is closed ({case.status.value}); its decision stands.",
            code="case_closed",
            detail_zh="该案件已结案。",
        )
    if case.status != CaseStatus.IN_REVIEW:
        raise CaseConflict(
            f"This case is {case.status.value}: take it from the queue first "
            "(POST /staff/v1/cases/next).",
            code="case_not_taken",
        )
    if case.assigned_to != actor.staff_id or actor.staff_id is None:
        raise CaseConflict(
            "Another reviewer holds this case.",
            code="case_not_yours",
            detail_zh="该案件由其他审核员处理中。",
        )
    if live and (case.locked_until is None or case.locked_until <= now):
        raise CaseConflict(
            "Your claim on this case lapsed; take a case again from the queue "
            "(it may be this one, if nobody else took it).",
            code="case_lock_lapsed",
            detail_zh="您对该案件的锁定已过期，请重新领取。",
        )


def _seen(case: Case, evidence_version: int) -> None:
    """Refuse a decision made on evidence the case has since outgrown."""
    if case.evidence_version != evidence_version:
        raise CaseConflict(
            "New alerts were added to this case after you read it; read it again before deciding.",
            code="case_evidence_changed",
            detail_zh="您查看后该案件又加入了新的预警，请重新查看后再作决定。",
        )


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ReviewInputInvalid("Give the reason for the decision.", code="reason_required")
    return reason


def _scopes(scopes: Sequence[str]) -> set[str]:
    chosen = {s.strip().lower() for s in scopes if s.strip()}
    if not chosen:
        raise ReviewInputInvalid(
            "Choose at least one scope to block (patient, phone, account, device, network, "
            "payment).",
            code="scopes_required",
        )
    unknown = sorted(chosen - set(SCOPES))
    if unknown:
        raise ReviewInputInvalid(
            f"Unknown scope {', '.join(unknown)}; use patient, phone, account, device, "
            "network or payment.",
            code="unknown_scope",
        )
    return chosen
