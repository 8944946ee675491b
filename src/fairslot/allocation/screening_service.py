"""Pre-draw screening use cases: gather the entrants' facts, hold the suspects out of the
draw for review (each with a case a reviewer sees), and clear a wrongly held entry.

The rules are pure (``screening.py``); this module reads the facts through
``screening_repository.py``, applies the decisions with compare-and-set moves and one
``screening_events`` row per change, and only flushes: the edge (the worker, the draw run,
the console) commits. The review cases sit above allocation: what screening reads of them
and the filing of a held group go through the ``desk`` it is handed
(``screening_ports.CaseDesk``, from the composition root).

:func:`screen_intents` reads and decides without writing, for any set of entries (a
draw's intents, a release batch's holds turned into entries); :func:`hold_suspects` is
what a draw run calls, and the worker calls it during the intent window too, so reviewers
have the window's time before the draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from fairslot.allocation import screening
from fairslot.allocation import screening_repository as repo
from fairslot.allocation.models import Draw, Intent
from fairslot.allocation.screening import EntrantFacts, Screening, ScreeningSettings
from fairslot.allocation.screening_ports import CaseDesk, HeldGroup, Witness
from fairslot.allocation.service import identifiers
from fairslot.allocation.states import IntentStatus
from fairslot.blacklist import gate as blacklist_gate
from fairslot.context import short_key
from fairslot.crypto import Protector
from fairslot.notifications import service as notify
from fairslot.patients.models import Patient

RULE: Final = "draw_screening"  # the review alert's rule
SCORE: Final = 1.0  # the review alert's score: a held entry always waits for a reviewer
ACTOR: Final = "draw-screening"
# A network more than this many distinct patients booked or entered from in the last
# HISTORY_DAYS is public (the ring batch's own threshold, ``risk/rings.py``).
PUBLIC_NETWORK_PATIENTS: Final = 25
HISTORY_DAYS: Final = 30
REVIEW_REFUSED: Final = "review_refused"  # a reviewer kept the entry out

# What the patient's channel is told while an entry is held: that it is under review,
# never what was detected.
UNDER_REVIEW_ZH: Final = (
    "您的摇号登记正在审核中，审核期间暂不参加抽签。审核通过后将恢复资格，结果会另行通知。"
)
UNDER_REVIEW_EN: Final = (
    "Your draw entry is under review and takes no part in the draw meanwhile. "
    "If it is cleared it keeps its chance; you will be told the outcome."
)
OWED_ZH: Final = "您的登记已审核通过。按公开的抽签顺序您本应中签，平台将为您预约下一个空出的号源。"
OWED_EN: Final = (
    "Your entry was cleared. Its place in the published draw order had won, so the next "
    "slot that comes free for it is booked for you."
)


def notice(status: IntentStatus) -> dict[str, str]:
    """What the patient's channel shows beside an intent's status (empty: nothing)."""
    if status == IntentStatus.HELD:
        return {"notice_zh": UNDER_REVIEW_ZH, "notice_en": UNDER_REVIEW_EN}
    if status == IntentStatus.OWED:
        return {"notice_zh": OWED_ZH, "notice_en": OWED_EN}
    return {}


# -- reading and deciding -----------------------------------------------------------------


def screen_intents(
    db: Session,
    *,
    intents: Sequence[Intent],
    now: datetime,
    protector: Protector,
    desk: CaseDesk,
    settings: ScreeningSettings = ScreeningSettings(),
) -> Screening:
    """Decide every entry (no writes): the facts are read in a few queries, the rules are
    pure. A release batch calls this with its entries as well."""
    facts, known_public = entrant_facts(
        db, intents=intents, now=now, protector=protector, desk=desk
    )
    return screening.screen(facts, now=now, settings=settings, known_public_networks=known_public)


def entrant_facts(
    db: Session, *, intents: Sequence[Intent], now: datetime, protector: Protector, desk: CaseDesk
) -> tuple[list[EntrantFacts], frozenset[str]]:
    """The facts of each entry, and the networks the platform's history knows as public."""
    if not intents:
        return [], frozenset()
    people = repo.patients(db, patient_ids=[i.patient_id for i in intents])
    bound = repo.bindings(db, account_ids=[i.account_id for i in intents])
    bound_at = {(a, p): at for a, p, at in bound}
    by_account: dict[int, list[datetime]] = {}
    for account_id, _, at in bound:
        by_account.setdefault(account_id, []).append(at)
    booked = repo.past_bookings(db, patient_ids=list(people), before=now)
    networks = {k for i in intents for k in (i.ip_key, i.wifi_key) if k}
    seen = repo.network_patients(db, keys=networks, since=now - timedelta(days=HISTORY_DAYS))
    public = frozenset(k for k, n in seen.items() if n > PUBLIC_NETWORK_PATIENTS)
    subjects = {i.id: identifiers(i, patient=people[i.patient_id]) for i in intents}
    blocked = blacklist_gate.blocked_among(db, subjects=subjects, now=now, protector=protector)
    cases = _open_cases(db, intents=intents, people=people, public=public, desk=desk)
    facts = [
        EntrantFacts(
            intent_id=i.id,
            patient_key=people[i.patient_id].id_hash,
            account_id=i.account_id,
            device_key=i.device_key,
            ip_key=i.ip_key,
            wifi_key=i.wifi_key,
            payment_key=i.payment_account_hash,
            entered_at=i.created_at,
            bound_at=bound_at.get((i.account_id, i.patient_id)),
            account_bindings=tuple(by_account.get(i.account_id, ())),
            patient_since=people[i.patient_id].created_at,
            past_bookings=booked.get(i.patient_id, 0),
            blacklisted=i.id in blocked,
            # (An entry a reviewer cleared is not held again in its draw: hold_suspects.)
            open_cases=tuple(cases.get(i.id, ())),
        )
        for i in intents
    ]
    return facts, public


def _open_cases(
    db: Session,
    *,
    intents: Sequence[Intent],
    people: dict[int, Patient],
    public: frozenset[str],
    desk: CaseDesk,
) -> dict[str, list[int]]:
    """Entry id -> open review cases on its patient, its ring or one of its identifiers.
    A public network's case holds nobody: it would hold every stranger behind it."""
    subjects_of: dict[str, list[tuple[str, str]]] = {}
    for i in intents:
        patient = people[i.patient_id]
        found = [
            ("patient", patient.id_hash),
            ("phone", patient.phone_hash),
            ("account", f"account:{i.account_id}"),
        ]
        found += [("device", i.device_key)] if i.device_key else []
        found += [("payment_account", i.payment_account_hash)] if i.payment_account_hash else []
        found += [("network", k) for k in (i.ip_key, i.wifi_key) if k and k not in public]
        subjects_of[i.id] = found
    wanted = {s for found in subjects_of.values() for s in found}
    open_by_subject = desk.open_cases_of(db, subjects=wanted)
    ring_members = desk.open_ring_members(db)
    held_elsewhere = repo.held_in_open_cases(db, patient_ids=list(people))
    result: dict[str, list[int]] = {}
    for i in intents:
        ids = {open_by_subject[s] for s in subjects_of[i.id] if s in open_by_subject}
        key = people[i.patient_id].id_hash
        ids |= {case_id for case_id, members in ring_members.items() if key in members}
        ids |= held_elsewhere.get(i.patient_id, set())
        if ids:
            result[i.id] = sorted(ids)
    return result


# -- holding -----------------------------------------------------------------------------


@dataclass
class HeldOut:
    """What screening keeps out of a draw: blacklisted entries (refused at the draw) and
    entries held for review (with their reasons; they stay HELD after the draw)."""

    blacklisted: set[str] = field(default_factory=set)
    held: dict[str, tuple[str, ...]] = field(default_factory=dict)
    newly_held: list[str] = field(default_factory=list)
    cases: set[int] = field(default_factory=set)


def hold_suspects(
    db: Session,
    *,
    draw: Draw,
    intents: Sequence[Intent],
    now: datetime,
    protector: Protector,
    desk: CaseDesk,
    settings: ScreeningSettings = ScreeningSettings(),
) -> HeldOut:
    """Screen a draw's entries (registered or already held) and hold the suspects out:
    each newly held entry moves to HELD with its reasons, a ``held`` event, an open case
    (one per ring, else one per patient), and its channel is told it is under review.

    An entry a reviewer cleared is not held again for the same draw, except by a
    blacklist entry; an entry already held keeps its case."""
    found = screen_intents(
        db, intents=intents, now=now, protector=protector, desk=desk, settings=settings
    )
    by_id = {i.id: i for i in intents}
    out = HeldOut()
    to_hold: list[Intent] = []
    for intent_id, reasons in found.held.items():
        intent = by_id[intent_id]
        if screening.BLACKLISTED in reasons:
            out.blacklisted.add(intent_id)
        elif intent.status == IntentStatus.HELD:
            out.held[intent_id] = tuple(intent.held_reasons or reasons)
        elif intent.cleared_at is None:
            to_hold.append(intent)
    for intent in intents:
        # Held earlier (a rule's figure may have changed since): held until reviewed.
        if intent.status == IntentStatus.HELD and intent.id not in out.blacklisted:
            out.held.setdefault(intent.id, tuple(intent.held_reasons or ()))
    for group in _groups(to_hold, found):
        case_id = _case_for(
            db, draw=draw, group=group, found=found, by_id=by_id, now=now, desk=desk
        )
        out.cases.add(case_id)
        for intent in group:
            reasons = found.decisions[intent.id].reasons
            if not repo.hold(db, intent_id=intent.id, reasons=reasons, case_id=case_id, now=now):
                continue  # withdrawn meanwhile
            out.held[intent.id] = reasons
            out.newly_held.append(intent.id)
            repo.add_event(
                db,
                intent=intent,
                kind="held",
                at=now,
                actor=ACTOR,
                reasons=reasons,
                case_id=case_id,
                data={"ring": found.decisions[intent.id].ring},
            )
            notify.to_channel(
                db,
                channel_id=intent.channel_id,
                kind="intent_under_review",
                at=now,
                account_id=intent.account_id,
                payload={
                    "intent_id": intent.id,
                    "draw_id": intent.draw_id,
                    "patient_id": intent.patient_id,
                    "status": IntentStatus.HELD.value,
                    "message_zh": UNDER_REVIEW_ZH,
                    "message_en": UNDER_REVIEW_EN,
                },
            )
    return out


def screen_open_draws(db: Session, *, now: datetime, protector: Protector, desk: CaseDesk) -> int:
    """The worker's pass over the draws taking intents now; how many entries it held."""
    held = 0
    for draw in repo.open_draws_in_window(db, now=now):
        intents = repo.screenable(db, draw_id=draw.id)
        found = hold_suspects(
            db, draw=draw, intents=intents, now=now, protector=protector, desk=desk
        )
        held += len(found.newly_held)
    return held


def _groups(to_hold: Sequence[Intent], found: Screening) -> list[list[Intent]]:
    """One group per ring (a ring is reviewed as a whole), else one per entry."""
    groups: dict[str, list[Intent]] = {}
    for intent in sorted(to_hold, key=lambda i: i.id):
        key = found.decisions[intent.id].ring or intent.id
        groups.setdefault(key, []).append(intent)
    return list(groups.values())


def _case_for(
    db: Session,
    *,
    draw: Draw,
    group: Sequence[Intent],
    found: Screening,
    by_id: dict[str, Intent],
    now: datetime,
    desk: CaseDesk,
) -> int:
    """The case the group is reviewed in, where the desk files the group's review alert:
    the case a member of its ring was held in earlier (latecomers join the ring's case,
    and their alert names them, so confirming the case blocks them too), else the open
    case an entrant was held for, else through case intake (the subject's open case, if
    any, takes it in). A ring's case closed meanwhile takes nothing: intake decides."""
    first = found.decisions[group[0].id]
    concerned = first.case_ids[0] if first.case_ids else None
    if first.ring is not None:
        ring = next(r for r in found.rings if r.ring_id == first.ring)
        # Members still held are in open cases (closing a case settles its entries); a
        # cleared member keeps the case id of a case since closed, which takes nothing.
        earlier = sorted(
            case_id
            for m in ring.intent_ids
            if by_id[m].status == IntentStatus.HELD and (case_id := by_id[m].case_id) is not None
        )
        concerned = earlier[0] if earlier else concerned
    people = repo.patients(db, patient_ids=[i.patient_id for i in group])
    if first.ring is not None:
        key = f"{first.ring}-d{draw.id}"
        label = f"draw {draw.id} ring of {len(group)}"
        members = frozenset(people[i.patient_id].id_hash for i in group)
    else:
        patient = people[group[0].patient_id]
        key, label, members = patient.id_hash, f"patient ****{patient.id_last4}", frozenset()
    reasons = sorted({r for i in group for r in found.decisions[i.id].reasons})
    witnesses = _witnesses(found, ring_id=first.ring, by_id=by_id)
    identifiers: dict[str, list[dict[str, str]]] = {}
    for witness in witnesses:
        identifiers.setdefault(witness.kind, []).append(
            {"key": witness.key, "label": witness.label}
        )
    held = HeldGroup(
        rule=RULE,
        score=SCORE,
        ring_id=first.ring,
        key=key,
        label=label,
        members=members,
        explanation=_explanation(draw, group, reasons),
        details={
            "draw_id": draw.id,
            "intents": [i.id for i in group],
            "reasons": {i.id: list(found.decisions[i.id].reasons) for i in group},
            "patients": [
                {
                    "key": people[i.patient_id].id_hash,
                    "label": f"patient ****{people[i.patient_id].id_last4}",
                }
                for i in group
            ],
            # The witnesses, in the form ``cases/candidates.py::ring_entries`` reads: every
            # case this alert lands in can show and block them, even where a witness's own
            # alert of the day sits in another ring's case.
            "identifiers": identifiers,
        },
        # Reviewed in the ring's case, or an entrant's open case (the first, if several).
        concerned_case=concerned,
        witnesses=witnesses,
    )
    return desk.file_held_group(db, group=held, now=now, actor=ACTOR)


def _witnesses(
    found: Screening,
    *,
    ring_id: str | None,
    by_id: Mapping[str, Intent],
) -> tuple[Witness, ...]:
    """The held ring's witnesses (``screening.witnesses``) as the reviewer reads them:
    stored keys, masked labels, and how many of the ring's accounts and patients each
    served."""
    ring = next((r for r in found.rings if r.ring_id == ring_id), None)
    if ring is None:
        return ()
    members = [by_id[i] for i in ring.intent_ids if i in by_id]
    out = []
    for kind, key in ring.witnesses:
        payment = kind == "payment"
        users = [m for m in members if (m.payment_account_hash if payment else m.device_key) == key]
        out.append(
            Witness(
                kind="payment_account" if payment else "device",
                key=key,
                label=f"payment {short_key(key)}" if payment else f"device {short_key(key)}",
                accounts=len({m.account_id for m in users}),
                patients=len({m.patient_id for m in users}),
            )
        )
    return tuple(out)


def _explanation(draw: Draw, group: Sequence[Intent], reasons: Sequence[str]) -> str:
    """What the reviewer reads first: the draw, how many entries, the reason codes."""
    return (
        f"Held out of draw {draw.id} ({draw.session_date.isoformat()}) before it was run: "
        f"{len(group)} entr{'y' if len(group) == 1 else 'ies'}, reasons "
        f"{', '.join(reasons)}. Clear an entry wrongly held on this page; it then keeps "
        f"its chance. 抽签前筛查暂缓 {len(group)} 个登记，原因代码：{'、'.join(reasons)}。"
    )
