"""Everything a reviewer reads to judge a case in a minute, in one read: the evidence
(``evidence.py``), what each rule found against its threshold (``findings.py``), the
subject's timeline (``timeline.py``), the ring as a graph (``ring_graph.py``) and, for each
identifier offered for blocking, how many *other* patients the block would also stop — a
family's home network or a carrier's shared address is not to be blocked blindly.

Reading a case is audited (``case.view``), as through the staff API: it names patients.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.audit.models import RequestRecord
from fairslot.cases import evidence as ev
from fairslot.cases import reading_repository as reading
from fairslot.cases import repository as repo
from fairslot.cases.candidates import SCOPES, Candidate
from fairslot.cases.findings import Finding, findings
from fairslot.cases.models import Case
from fairslot.cases.ring_graph import Link, RingGraph, build
from fairslot.cases.schemas import CandidateView, CaseEvidence
from fairslot.cases.states import CaseStatus
from fairslot.cases.timeline import Entry, RequestFacts, timeline
from fairslot.crypto import Protector
from fairslot.staff import audit
from fairslot.staff.audit import StaffActor

# The subject's requests this far back from the case's opening (the batch's window is a
# week; a second week shows what came before it), and at most this many.
TIMELINE_DAYS: Final = 14
MAX_REQUESTS: Final = 500
# Bookings and requests that link an identifier to other patients count this far back.
LINKED_DAYS: Final = 180
# Blocking an identifier that would also stop more than this many other patients is
# flagged to the reviewer.
COLLATERAL_WARNING_ABOVE: Final = 1


@dataclass(frozen=True)
class Offer:
    """An identifier offered for blocking, with what blocking it would also stop:
    ``others`` patients outside the case (None: not known, the identifier's value is not
    in the case's bookings or requests)."""

    candidate: CandidateView
    others: int | None

    @property
    def warn(self) -> bool:
        return self.others is not None and self.others > COLLATERAL_WARNING_ABOVE


@dataclass(frozen=True)
class ScopeOffer:
    scope: str
    offers: list[Offer]

    @property
    def others(self) -> int:
        return sum(o.others or 0 for o in self.offers)

    @property
    def warn(self) -> bool:
        return any(o.warn for o in self.offers)

    @property
    def unknown(self) -> bool:
        return any(o.others is None for o in self.offers)

    @property
    def all_blocked(self) -> bool:
        return all(o.candidate.blocked for o in self.offers)


@dataclass(frozen=True)
class CasePage:
    evidence: CaseEvidence
    findings: list[Finding]
    timeline: list[Entry]
    graph: RingGraph
    scopes: list[ScopeOffer]
    # The reader holds a live claim on the case: the decision controls are theirs to use.
    mine: bool


def read(
    db: Session,
    *,
    case_id: int,
    actor: StaffActor,
    now: datetime,
    protector: Protector,
    tz: ZoneInfo,
) -> CasePage:
    case = ev.require(db, case_id)
    audit.record(
        db, actor=actor, action="case.view", target_kind="case", target_id=case.id, now=now
    )
    gathered = ev.gather(db, case=case, protector=protector)
    evidence = ev.evidence_of(db, gathered=gathered, protector=protector, now=now, tz=tz)
    bookings = [row[0] for row in gathered.rows]
    account_ids = {b.account_id for b in bookings} | {a.account_id for a in gathered.facts.accounts}
    devices = {b.device_key for b in bookings if b.device_key}
    records = reading.request_records(
        db,
        account_ids=account_ids,
        device_keys=devices,
        since=case.opened_at - timedelta(days=TIMELINE_DAYS),
        limit=MAX_REQUESTS,
    )
    patient_of = {
        p.id_hash: p.id
        for p in repo.patients_by_id_hashes(db, {r.patient_key for r in records if r.patient_key})
    }
    names = {pid: p.name_masked for pid, p in gathered.people.items()}
    channel_ids = {e.channel_id for e in evidence.slot_events if e.channel_id is not None}
    channel_ids |= {r.channel_id for r in records if r.channel_id is not None}
    channels = reading.channel_names(db, channel_ids)
    facts = [_request_facts(r, patient_of, tz) for r in records]
    links = [
        *(
            Link(
                patient_id=b.patient_id,
                account_id=b.account_id,
                device_key=b.device_key,
                ip_key=b.ip_key,
                wifi_key=b.wifi_key,
                payment_hash=b.payment_account_hash,
            )
            for b in bookings
        ),
        *(
            Link(patient_id=pid, account_id=aid)
            for aid, pid in reading.bindings_of(db, account_ids)
            if pid in gathered.people
        ),
        *(
            Link(
                patient_id=patient_of.get(r.patient_key or ""),
                account_id=r.account_id,
                device_key=r.device_key,
                ip_key=r.ip_key,
                wifi_key=r.wifi_key,
                payment_hash=r.payment_account_hash,
            )
            for r in records
        ),
    ]
    found = ev.candidates(gathered, protector=protector)
    graph = build(
        candidates=found,
        people=gathered.facts.people,
        account_phones={a.account_id: a.phone_hash for a in gathered.facts.accounts},
        names=names,
        links=links,
    )
    raw = _raw_values(found)
    others = _others(
        db,
        raw=raw,
        exclude=set(gathered.people),
        since=now - timedelta(days=LINKED_DAYS),
    )
    departments = {b.booking_id: b.department for b in evidence.bookings}
    return CasePage(
        evidence=evidence,
        findings=findings(evidence.alerts, departments=departments),
        timeline=timeline(
            events=evidence.slot_events,
            requests=facts,
            bookings=evidence.bookings,
            channels=channels,
            names=names,
        ),
        graph=graph,
        scopes=_scopes(evidence.candidates, others),
        mine=holds(case, actor=actor, now=now),
    )


def holds(case: Case, *, actor: StaffActor, now: datetime) -> bool:
    """Whether ``actor`` holds a live claim on the case (and so may decide it)."""
    return (
        case.status == CaseStatus.IN_REVIEW
        and actor.staff_id is not None
        and case.assigned_to == actor.staff_id
        and case.locked_until is not None
        and case.locked_until > now
    )


def _request_facts(record: RequestRecord, patient_of: dict[str, int], tz: ZoneInfo) -> RequestFacts:
    return RequestFacts(
        request_id=record.id,
        at=record.at.astimezone(tz),
        action=record.action,
        outcome=record.outcome,
        decision=record.decision,
        reasons=tuple(r for r in (record.reasons or "").split(",") if r),
        account_id=record.account_id,
        patient_id=patient_of.get(record.patient_key or ""),
        booking_id=record.booking_id,
        slot_id=record.slot_id,
        channel_id=record.channel_id,
    )


def _raw_values(found: list[Candidate]) -> dict[tuple[str, str], str]:
    """``(scope, key) → the value bookings store`` for each candidate: hashes (phones,
    payments, and devices and networks, stored as keyed hashes) are stored as they are,
    account ids without their prefix."""
    raw: dict[tuple[str, str], str] = {}
    for c in found:
        if c.scope in ("phone", "payment", "device", "network"):
            raw[(c.scope, c.key)] = c.key
        elif c.scope == "account":
            raw[(c.scope, c.key)] = c.key.removeprefix("account:")
    return raw


def _others(
    db: Session, *, raw: dict[tuple[str, str], str], exclude: set[int], since: datetime
) -> dict[tuple[str, str], int]:
    by_scope: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (scope, key), value in raw.items():
        by_scope[scope].append((key, value))
    counts: dict[tuple[str, str], int] = {}
    for scope, pairs in by_scope.items():
        linked = reading.linked_patient_counts(
            db,
            scope=scope,
            values={value for _, value in pairs},
            exclude=exclude,
            since=since,
        )
        for key, value in pairs:
            counts[(scope, key)] = linked.get(value, 0)
    return counts


def _scopes(
    candidates: list[CandidateView], others: dict[tuple[str, str], int]
) -> list[ScopeOffer]:
    grouped: dict[str, list[Offer]] = defaultdict(list)
    for c in candidates:
        # A patient key names one person: blocking it stops nobody else.
        count = 0 if c.scope == "patient" else others.get((c.scope, c.key))
        grouped[c.scope].append(Offer(candidate=c, others=count))
    return [ScopeOffer(scope=s, offers=grouped[s]) for s in SCOPES if s in grouped]
