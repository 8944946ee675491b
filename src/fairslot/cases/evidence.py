"""What a reviewer sees of a case: the evidence, and the identifiers they may block.

Personal identifiers leave here masked: the resident ID as ``110***********002X``, the
phone as ``+86138****1234``. Both are decrypted only to be masked; the full values never
reach a view. Times are converted to the hospital's zone here, at the edge of the domain.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.cases import reading_repository as reading
from fairslot.cases import repository as repo
from fairslot.cases.candidates import (
    AccountFacts,
    AlertFacts,
    BookingFacts,
    Candidate,
    CaseFacts,
    PersonFacts,
    account_id_of,
    derive,
    ring_members,
)
from fairslot.cases.collateral import LINKED_DAYS, shared
from fairslot.cases.errors import CaseNotFound
from fairslot.cases.models import Case
from fairslot.cases.schemas import (
    AlertView,
    BookingEvidence,
    CallSummary,
    CandidateView,
    CaseEventView,
    CaseEvidence,
    CaseSummary,
    PatientLabel,
    SlotEventView,
)
from fairslot.crypto import Protector
from fairslot.followup import repository as calls_repo
from fairslot.patients.identity import mask_id, mask_phone
from fairslot.patients.models import Patient
from fairslot.risk.models import RiskAlert

MAX_SLOT_EVENTS = 500


@dataclass(frozen=True)
class Gathered:
    """A case's alerts, the bookings behind them and the people they involve."""

    case: Case
    alerts: list[RiskAlert]
    rows: list[repo.BookingRow]
    people: dict[int, Patient]
    facts: CaseFacts


def require(db: Session, case_id: int) -> Case:
    case = repo.get(db, case_id)
    if case is None:
        raise CaseNotFound("No case has this id.", code="case_not_found")
    return case


def masked_id(patient: Patient, protector: Protector) -> str:
    return mask_id(protector.decrypt(patient.id_encrypted))


def masked_phone(encrypted: str, protector: Protector) -> str:
    return mask_phone(protector.decrypt(encrypted))


def gather(db: Session, *, case: Case, protector: Protector) -> Gathered:
    alerts = repo.alerts_of(db, case.id)
    booking_ids = sorted({b for alert in alerts for b in alert.booking_ids})
    rows = repo.booking_rows(db, booking_ids)
    named = [(case.subject_kind, case.subject_key)]
    for alert in alerts:
        named.append((alert.entity_kind, alert.entity_key))
        named.extend(ring_members(alert.details))
    people = {row[5].id: row[5] for row in rows}
    for patient in [
        *repo.patients_by_id_hashes(db, {v for k, v in named if k == "patient"}),
        *repo.patients_by_phone_hashes(db, {v for k, v in named if k == "phone"}),
    ]:
        people.setdefault(patient.id, patient)
    account_ids = {row[0].account_id for row in rows}
    account_ids |= {
        account_id
        for k, v in named
        if k == "account" and (account_id := account_id_of(v)) is not None
    }
    accounts = repo.accounts_by_ids(db, account_ids)
    payments = repo.masked_payment_accounts(
        db, {v for k, v in named if k in ("payment_account", "payment")}
    )
    facts = CaseFacts(
        subject_kind=case.subject_kind,
        subject_key=case.subject_key,
        subject_label=case.subject_label,
        alerts=[
            AlertFacts(
                alert_id=a.id,
                entity_kind=a.entity_kind,
                entity_key=a.entity_key,
                entity_label=a.entity_label,
                details=a.details or {},
            )
            for a in alerts
        ],
        bookings=[
            BookingFacts(
                booking_id=b.id,
                patient_id=b.patient_id,
                account_id=b.account_id,
                device_key=b.device_key,
                ip_key=b.ip_key,
                ip_label=b.ip_label,
                wifi_key=b.wifi_key,
                payment_account_hash=b.payment_account_hash,
                payment_account_masked=b.payment_account_masked,
            )
            for b, *_ in rows
        ],
        people=[
            PersonFacts(
                patient_id=p.id,
                id_hash=p.id_hash,
                phone_hash=p.phone_hash,
                id_masked=masked_id(p, protector),
                phone_masked=masked_phone(p.phone_encrypted, protector),
            )
            for p in people.values()
        ],
        accounts=[
            AccountFacts(
                account_id=a.id,
                phone_hash=a.phone_hash,
                phone_masked=masked_phone(a.phone_encrypted, protector),
            )
            for a in accounts
        ],
        payments=payments,
    )
    return Gathered(case=case, alerts=alerts, rows=rows, people=people, facts=facts)


def candidates(gathered: Gathered, *, protector: Protector) -> list[Candidate]:
    return derive(gathered.facts, keyed_hash=protector.keyed_hash)


def collateral(
    db: Session, *, gathered: Gathered, found: list[Candidate], now: datetime
) -> dict[tuple[str, str], int | None]:
    """``(scope, key) → patients outside the case`` that blocking it would also stop
    (``cases/collateral.py``); a patient key stops its own patient only (0)."""
    raw: dict[str, dict[str, str]] = defaultdict(dict)  # scope -> value as stored -> key
    for c in found:
        if c.scope in ("phone", "payment", "device", "network"):
            raw[c.scope][c.key] = c.key
        elif c.scope == "account":
            raw[c.scope][c.key.removeprefix("account:")] = c.key
    counts: dict[tuple[str, str], int | None] = {
        (c.scope, c.key): 0 if c.scope == "patient" else None for c in found
    }
    since = now - timedelta(days=LINKED_DAYS)
    for scope, values in raw.items():
        linked = reading.linked_patient_counts(
            db, scope=scope, values=set(values), exclude=set(gathered.people), since=since
        )
        for value, key in values.items():
            counts[(scope, key)] = linked.get(value, 0)
    return counts


def entries_for(db: Session, found: list[Candidate]) -> dict[tuple[str, str], BlacklistEntry]:
    entries = repo.unlifted_entries(db, keys=[(Scope(c.scope), c.key) for c in found])
    return {(e.scope.value, e.key_hash): e for e in entries}


def summary(db: Session, case: Case, *, tz: ZoneInfo) -> CaseSummary:
    return summaries(db, [case], tz=tz)[0]


def summaries(db: Session, cases: list[Case], *, tz: ZoneInfo) -> list[CaseSummary]:
    names = repo.staff_names(db, {c.assigned_to for c in cases if c.assigned_to})
    return [_summary(c, names=names, tz=tz) for c in cases]


def _summary(case: Case, *, names: dict[int, str], tz: ZoneInfo) -> CaseSummary:
    return CaseSummary(
        case_id=case.id,
        subject_kind=case.subject_kind,
        subject_label=case.subject_label,
        status=case.status,
        score=case.score,
        version=case.version,
        evidence_version=case.evidence_version,
        opened_at=case.opened_at.astimezone(tz),
        updated_at=case.updated_at.astimezone(tz),
        closed_at=_local(case.closed_at, tz),
        assigned_to=names.get(case.assigned_to) if case.assigned_to else None,
        locked_until=_local(case.locked_until, tz),
        decision_reason=case.decision_reason,
    )


def evidence(
    db: Session, *, case: Case, protector: Protector, now: datetime, tz: ZoneInfo
) -> CaseEvidence:
    gathered = gather(db, case=case, protector=protector)
    return evidence_of(db, gathered=gathered, protector=protector, now=now, tz=tz)


def evidence_of(
    db: Session, *, gathered: Gathered, protector: Protector, now: datetime, tz: ZoneInfo
) -> CaseEvidence:
    """The evidence of a case already gathered (a page that reads more of it gathers once)."""
    case = gathered.case
    found = candidates(gathered, protector=protector)
    entries = entries_for(db, found)
    others = collateral(db, gathered=gathered, found=found, now=now)
    masked = {p.patient_id: p for p in gathered.facts.people}
    booking_ids = [row[0].id for row in gathered.rows]
    event_ids = sorted({e for alert in gathered.alerts for e in alert.event_ids})
    events = repo.slot_events(
        db, event_ids=event_ids, booking_ids=booking_ids, limit=MAX_SLOT_EVENTS
    )
    return CaseEvidence(
        case=summary(db, case, tz=tz),
        alerts=[
            AlertView(
                alert_id=a.id,
                run_date=a.run_date,
                rule=a.rule,
                entity_kind=a.entity_kind,
                entity_label=a.entity_label,
                score=a.score,
                explanation=a.explanation,
                details=a.details or {},
                booking_ids=list(a.booking_ids),
                event_ids=list(a.event_ids),
                ring_id=a.ring_id,
            )
            for a in gathered.alerts
        ],
        bookings=[
            BookingEvidence(
                booking_id=b.id,
                status=b.status.value,
                department_id=dep.id,
                department=dep.name,
                doctor=doc.name,
                doctor_title=doc.title.value,
                session_date=session.session_date,
                period=session.period.value,
                channel=channel.name,
                channel_kind=channel.kind.value,
                device_key=b.device_key,
                ip_key=b.ip_key,
                ip_label=b.ip_label,
                wifi_key=b.wifi_key,
                payment_account=b.payment_account_masked,
                patient=PatientLabel(
                    patient_id=patient.id,
                    name=patient.name_masked,
                    id_masked=masked[patient.id].id_masked,
                    phone_masked=masked[patient.id].phone_masked,
                ),
                account_id=b.account_id,
                held_at=b.held_at.astimezone(tz),
                booked_at=_local(b.booked_at, tz),
                ended_at=_local(b.ended_at, tz),
            )
            for b, dep, doc, session, channel, patient in gathered.rows
        ],
        slot_events=[
            SlotEventView(
                event_id=e.id,
                slot_id=e.slot_id,
                kind=e.kind.value,
                at=e.at.astimezone(tz),
                booking_id=e.booking_id,
                account_id=e.account_id,
                channel_id=e.channel_id,
                device_key=e.device_key,
                ip_key=e.ip_key,
                ip_label=e.ip_label,
                wifi_key=e.wifi_key,
            )
            for e in events
        ],
        history=[
            CaseEventView(
                event_id=e.id, kind=e.kind, at=e.at.astimezone(tz), actor=e.actor, data=e.data
            )
            for e in repo.events_of(db, case.id)
        ],
        calls=[
            CallSummary(
                task_id=t.id,
                patient_id=p.id,
                patient_name=p.name_masked,
                booking_id=t.booking_id,
                status=t.status.value,
                question=t.question,
                outcome=t.outcome.value if t.outcome else None,
                note=t.note,
                done_at=_local(t.done_at, tz),
            )
            for t, p in calls_repo.tasks_of_case(db, case.id)
        ],
        candidates=[
            _candidate_view(c, entries.get((c.scope, c.key)), now, tz, others.get((c.scope, c.key)))
            for c in found
        ],
    )


def _candidate_view(
    c: Candidate, entry: BlacklistEntry | None, now: datetime, tz: ZoneInfo, others: int | None
) -> CandidateView:
    in_force = entry is not None and (entry.expires_at is None or entry.expires_at > now)
    return CandidateView(
        scope=c.scope,
        key=c.key,
        label=c.label,
        sources=list(c.sources),
        blocked=in_force,
        entry_id=entry.id if entry else None,
        blocked_until=_local(entry.expires_at, tz) if entry else None,
        others=others,
        shared=shared(c.scope, others),
    )


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return value.astimezone(tz) if value is not None else None
