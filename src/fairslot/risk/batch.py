"""The daily anomaly batch: one date's window in, alerts and cases out.

``run_batch`` reads the window's bookings, requests and bindings once as columns, straight
from their tables (``risk/window_columns_repository.py``), counts over them what each rule
needs (``risk/window_columns.py``), reads back as facts only the bookings of what the
counts let through (``risk/window_repository.py``), groups the week's
identities for the rings over the same columns (``risk/ring_groups.py``), runs the pure
rules and the ring scoring, stores every hit and every flagged ring as a ``RiskAlert`` and
files the new alerts into cases (``cases/intake.py``). It is idempotent for a date:
re-running it stores only alerts not stored yet (unique per date, rule and entity), so no
case or case event is written twice, and it counts the re-run on the date's ``RiskRun`` row.

Only flushes; the caller (``fairslot risk run``, the worker) commits. Two runs of one date
at the same moment cannot both store: the unique run date and alert keys refuse the second,
which rolls back.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as clock_time
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from fairslot.blacklist.models import Scope
from fairslot.cases import intake
from fairslot.cases.grouping import RING, Evidence, Subject, subject_of
from fairslot.crypto import Protector
from fairslot.db.beside import Beside
from fairslot.gate import repository as gate_repo
from fairslot.gate.repository import FlaggedRequest
from fairslot.risk import alerts as drafts
from fairslot.risk import linking, realtime
from fairslot.risk import operator_repository as op_repo
from fairslot.risk import repository as repo
from fairslot.risk import window_columns as columns
from fairslot.risk import window_columns_repository as column_repo
from fairslot.risk import window_repository as window_repo
from fairslot.risk.facts import BookingFact, RiskSettings, SlotEventFact
from fairslot.risk.linking import BindingFact, RequestFact
from fairslot.risk.models import RiskRun
from fairslot.risk.operators import (
    OPERATOR_RULES,
    ActFact,
    PollFact,
    ScarceEntry,
    operator_groups,
    run_operator_rules,
)
from fairslot.risk.rings import Ring, RingSettings, build_graph, rings
from fairslot.risk.rings import ring_id as group_id
from fairslot.risk.rules import EntityKind, Hit, Window, run_all, window_ending
from fairslot.risk.window_columns import ActorColumns, BindingColumns

PHASES = ("load", "rules", "rings", "store", "intake")
# The blacklist entries whose reappearance the batch looks for (``risk/operators.py``).
_REAPPEAR_SCOPES = (Scope.PATIENT, Scope.PAYMENT, Scope.NETWORK)


@dataclass
class BatchReport:
    """What one run did, for the command line and the benchmark."""

    run: RiskRun
    window: Window
    bookings: int = 0
    events: int = 0
    bindings: int = 0
    request_groups: int = 0  # the requests read, one per patient and set of identifiers
    requests: int = 0  # how many requests those groups hold
    hits_by_rule: Counter[str] = field(default_factory=Counter)
    new_by_rule: Counter[str] = field(default_factory=Counter)
    rings_found: int = 0  # groups of two or more patients
    ring_candidates: int = 0  # groups large enough to be scored as possible rings
    rings_flagged: int = 0
    new_alerts: int = 0
    cases_opened: int = 0
    cases_updated: int = 0
    already_reviewed: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase: wall-clock seconds, and this process's CPU seconds (on a shared
        machine the two differ by however long the process waited for a core)."""
        started, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu


def run_batch(
    db: Session,
    *,
    day: date,
    now: datetime,
    settings: RiskSettings,
    ring_settings: RingSettings,
    actor: str,
    protector: Protector,
    zone: tzinfo,
) -> BatchReport:
    """Run the batch for ``day`` (the last local day of its window): the date's run row
    and the figures of every phase."""
    window = window_ending(day, settings=settings, zone=zone)

    def hasher(value: str, purpose: str) -> str:
        return protector.keyed_hash(value, purpose=purpose)

    report = BatchReport(run=_placeholder_run(day, window, now, actor), window=window)

    # The reads that need nothing of this transaction run beside it where they can
    # (``db/beside.py``): PostgreSQL executes them while this thread reads the window.
    with report.phase("load"), Beside(db, prepare=repo.prepare) as beside:
        repo.prepare(db)
        later = _reads_beside(beside, day=day, now=now, window=window, settings=settings, zone=zone)
        window_repo.open_window(db)
        # Read once as columns, for every count and the ring grouping.
        booked = column_repo.window_columns(db, window=window)
        window_members = columns.Members.of(booked)
        bound = later.bindings.result().of_window(window_members)
        acted = later.acted.result()
        report.bookings, report.bindings = len(booked.patient), len(bound)
        events = later.events.result()
        requests = later.requests.result()
        flagged_requests = later.flagged_requests.result()
        polls = later.polls.result()
        listed = later.listed.result()
        (staffed, acts), scarce = later.acts.result(), later.scarce_entries.result()
        del later  # the futures hold their results: what is dropped below is freed
    report.events = len(events)
    report.request_groups, report.requests = len(requests), sum(r.requests for r in requests)

    with report.phase("rules"):
        # Only the bookings of entities whose counts reach a rule come back as facts
        # (``risk/window_columns.py``); the pure rules judge them as ever.
        suspects = window_repo.facts_of_patients(
            db, window=window, numbers=columns.rule_suspect_patients(booked, settings)
        )
        hits = run_all(bookings=suspects, events=events, window=window, settings=settings)
        del events
        # Operators who lost are linked by what they did: requests, polls, the blacklist.
        hits += run_operator_rules(
            bookings=_operator_bookings(
                db,
                window=window,
                suspects=columns.operator_suspects(
                    booked, acted, settings, staffed=sorted(staffed)
                ),
                requests=requests,
                polls=polls,
                listed=listed,
            ),
            requests=requests,
            polls=polls,
            blacklisted_patients={k for scope, k in listed if scope == Scope.PATIENT},
            blacklisted_payments={k for scope, k in listed if scope == Scope.PAYMENT},
            blacklisted_networks={k for scope, k in listed if scope == Scope.NETWORK},
            window=window,
            settings=settings,
            staffed_channels=staffed,
            scarce_entries=scarce,
            acts=acts,
        )
        del acts, scarce  # the operator rules' alone: freed before the rings

    with report.phase("rings"):
        grouped = columns.ring_grouping(booked, acted, bound, settings=ring_settings)
        del booked, bound
        patients = frozenset(
            window_repo.patient_keys_of(db, numbers=[n for n in grouped.patients if n >= 0])
            | {acted.unregistered[n] for n in grouped.patients if n < 0}
        )
        del acted
        ring_facts = window_repo.facts_with_keys(db, window=window, patients=patients)
        # Public networks matter only where the candidates' links carry them.
        linked: list[BookingFact | RequestFact] = [*ring_facts, *requests]
        candidates = grouped.picked(
            patients,
            networks={
                n
                for fact in linked
                if fact.patient_key in patients
                for n in (fact.ip_key, fact.wifi_key)
                if n
            },
        )
        graph = build_graph(
            linking.links(
                bookings=ring_facts,
                bindings=_bindings_of(db, patients=candidates.patients, members=window_members),
                requests=requests,
                sessions=repo.supply_of_sessions(db, ids={f.session_id for f in ring_facts}),
                window=window,
                patients=candidates.patients,
                public_networks=candidates.public_networks,
            )
        )
        del requests, window_members
        flagged = [r for r in rings(graph, ring_settings) if r.flagged]
    report.rings_found, report.rings_flagged = candidates.groups, len(flagged)
    report.ring_candidates = candidates.candidates

    with report.phase("store"):
        labels = _labels(db, window=window, hits=hits, flagged=flagged)
        members = drafts.ring_members(flagged, hasher=hasher, labels=labels)
        found_alerts = _draft_alerts(
            hits=hits,
            flagged=flagged,
            members=members,
            bookings_of=_bookings_of(ring_facts, flagged),
            ring_settings=ring_settings,
            hasher=hasher,
            labels=labels,
        )
        # The gate's decisions join the rules' hits; one on a ring member names its ring.
        gate_alerts = [
            _in_ring(d, ring_id) if (ring_id := members.get(_key(d))) else d
            for d in realtime.realtime_alerts(
                flagged_requests,
                hasher=hasher,
                labels=labels,
                min_requests=settings.realtime_min_requests,
            )
        ]
        found_alerts += gate_alerts
        report.hits_by_rule.update(d.rule for d in found_alerts)
        stored = repo.stored_alerts(db, run_date=day)
        new = [d for d in found_alerts if d.identity not in stored]
        ids = repo.insert_alerts(db, rows=[_row(d, day=day, now=now) for d in new])
        report.new_by_rule.update(d.rule for d in new)
        report.new_alerts = len(ids)
        window_repo.close_window(db)
        report.run = _record_run(
            db, report=report, day=day, now=now, actor=actor, hits=len(hits) + len(gate_alerts)
        )

    with report.phase("intake"):
        subjects = _ring_subjects(flagged, found_alerts, members)
        subjects = _operator_subjects(found_alerts, taken=subjects) | subjects
        taken = intake.take_in(
            db,
            alerts=[
                intake.IntakeAlert(
                    alert_id=alert_id,
                    rule=d.rule,
                    score=d.score,
                    subject=subject_of(
                        entity_kind=d.entity.kind,
                        entity_key=d.entity.key,
                        entity_label=d.entity.label,
                        rings=subjects,
                    ),
                    evidence=Evidence.of(booking_ids=d.booking_ids, event_ids=d.event_ids),
                )
                for alert_id, d in zip(ids, new, strict=True)
            ],
            now=now,
        )
        report.cases_opened, report.cases_updated = len(taken.opened), len(taken.updated)
        report.already_reviewed = taken.already_reviewed
    report.run.finished_at = now + timedelta(seconds=report.total_seconds)
    db.flush()
    return report


@dataclass(frozen=True)
class _Later:
    """The load's reads that need nothing of the batch's transaction, asked at once."""

    events: Future[list[SlotEventFact]]
    bindings: Future[BindingColumns]
    acted: Future[ActorColumns]
    requests: Future[list[RequestFact]]
    flagged_requests: Future[list[FlaggedRequest]]
    polls: Future[list[PollFact]]
    listed: Future[set[tuple[str, str]]]
    acts: Future[tuple[frozenset[int], list[ActFact]]]
    scarce_entries: Future[list[ScarceEntry]]


def _reads_beside(
    beside: Beside,
    *,
    day: date,
    now: datetime,
    window: Window,
    settings: RiskSettings,
    zone: tzinfo,
) -> _Later:
    """Ask every read of the load (and the rules' acts and scarce entries) that needs
    nothing of the batch's transaction, the slowest first."""

    def acts(db: Session) -> tuple[frozenset[int], list[ActFact]]:
        staffed = repo.staffed_channel_ids(db)
        return staffed, op_repo.act_facts(db, window=window, staffed=staffed)

    return _Later(
        events=beside.submit(
            lambda db: repo.slot_event_facts(db, window=window, lead=settings.transfer_max_gap)
        ),
        bindings=beside.submit(column_repo.binding_columns),
        acted=beside.submit(lambda db: column_repo.request_columns(db, window=window)),
        requests=beside.submit(lambda db: repo.request_facts(db, window=window)),
        flagged_requests=beside.submit(
            lambda db: gate_repo.review_decisions(db, **_report_day(day, zone))
        ),
        polls=beside.submit(
            lambda db: op_repo.poll_facts(db, window=window, at_least=settings.poll_count)
        ),
        listed=beside.submit(
            lambda db: op_repo.blacklisted_keys(db, now=now, scopes=_REAPPEAR_SCOPES)
        ),
        acts=beside.submit(acts),
        scarce_entries=beside.submit(lambda db: op_repo.scarce_entries(db, window=window)),
    )


def _bindings_of(
    db: Session, *, patients: Collection[str], members: columns.Members
) -> list[BindingFact]:
    """The bindings the batch reads (``window_columns.read_bindings``) of ``patients``."""
    found = window_repo.bindings_of(db, patients=patients)
    keep = columns.read_bindings(
        members,
        np.array([patient for patient, _, _ in found], dtype=np.int64),
        np.array([account for _, account, _ in found], dtype=np.int64),
    )
    return [fact for (_, _, fact), kept in zip(found, keep.tolist(), strict=True) if kept]


def _operator_bookings(
    db: Session,
    *,
    window: Window,
    suspects: columns.OperatorSuspects,
    requests: Sequence[RequestFact],
    polls: Sequence[PollFact],
    listed: set[tuple[str, str]],
) -> list[BookingFact]:
    """The bookings the operator rules must see to answer as over the whole window: those
    of a payment account or device that acted for enough accounts and patients (``rows``,
    counted by ``window_columns.operator_suspects``), of a polling device, of a
    blacklisted patient, and with the payment account or Wi-Fi of a blacklisted identity
    (``operators.blacklist_reappearance``'s taint)."""
    banned = {k for scope, k in listed if scope == Scope.PATIENT}
    found = [
        fact
        for fact in window_repo.facts_of_patients(db, window=window, numbers=suspects.patients)
        if suspects.chosen(payment=fact.payment_account_hash, device=fact.device_key)
    ]
    found += window_repo.facts_with_keys(
        db, window=window, patients=banned, devices={p.device_key for p in polls}
    )
    tainted_payments = {k for scope, k in listed if scope == Scope.PAYMENT}
    tainted_wifis = {k for scope, k in listed if scope == Scope.NETWORK}
    facts: list[BookingFact | RequestFact] = [*found, *requests]
    for fact in facts:
        if fact.patient_key in banned:
            if fact.payment_account_hash:
                tainted_payments.add(fact.payment_account_hash)
            if fact.wifi_key:
                tainted_wifis.add(fact.wifi_key)
    found += window_repo.facts_with_keys(
        db, window=window, payments=tainted_payments, wifis=tainted_wifis
    )
    unique = {fact.booking_id: fact for fact in found}
    return list(unique.values())


def _labels(
    db: Session, *, window: Window, hits: Sequence[Hit], flagged: Sequence[Ring]
) -> drafts.Labels:
    """The masked labels of every patient, payment account and address the alerts name,
    as the window's bookings carry them."""
    wanted: dict[str, set[str]] = {"patient": set(), "payment": set(), "network": set()}
    kinds = {
        EntityKind.PATIENT: "patient",
        EntityKind.PAYMENT_ACCOUNT: "payment",
        EntityKind.NETWORK: "network",
    }
    for hit in hits:
        for kind, key in ((hit.entity_kind, hit.entity_key), *hit.members):
            if kind in kinds:
                wanted[kinds[kind]].add(
                    key.partition(":")[2] if kind is EntityKind.NETWORK else key
                )
    for ring in flagged:
        for node_kind, value in ring.members:
            if node_kind in wanted:
                wanted[node_kind].add(value)
    last4, masked, ips = window_repo.labels_of(
        db,
        window=window,
        patients=wanted["patient"],
        payments=wanted["payment"],
        ips=wanted["network"],
    )
    return drafts.Labels(patient_last4=last4, payment_masked=masked, ip_labels=ips)


def _draft_alerts(
    *,
    hits: Sequence[Hit],
    flagged: Sequence[Ring],
    members: Mapping[tuple[str, str], str],
    bookings_of: Mapping[str, list[str]],
    ring_settings: RingSettings,
    hasher: drafts.Hasher,
    labels: drafts.Labels,
) -> list[drafts.AlertDraft]:
    """Every hit and every flagged ring as an alert; a hit on a ring member names its ring."""
    found = []
    for hit in hits:
        draft = drafts.hit_alert(hit, hasher=hasher, labels=labels)
        ring_id = members.get((draft.entity.kind, draft.entity.key))
        found.append(draft if ring_id is None else _in_ring(draft, ring_id))
    for ring in flagged:
        found.append(
            drafts.ring_alert(
                ring,
                settings=ring_settings,
                hasher=hasher,
                labels=labels,
                booking_ids=(b for p in ring.patients for b in bookings_of.get(p, ())),
            )
        )
    return drafts.merged(found)


def _report_day(day: date, zone: tzinfo) -> dict[str, datetime]:
    """The report's own local day, in UTC. The gate's decisions are taken from this day
    only (not the whole window): each was one moment's judgement, so it is alerted once,
    on the day it was made, and a later run does not file it again."""
    start = datetime.combine(day, clock_time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), clock_time(), tzinfo=zone)
    return {"start": start.astimezone(UTC), "end": end.astimezone(UTC)}


def _key(draft: drafts.AlertDraft) -> tuple[str, str]:
    return (draft.entity.kind, draft.entity.key)


def _in_ring(draft: drafts.AlertDraft, ring_id: str) -> drafts.AlertDraft:
    return drafts.AlertDraft(
        rule=draft.rule,
        entity=draft.entity,
        score=draft.score,
        explanation=draft.explanation,
        booking_ids=draft.booking_ids,
        event_ids=draft.event_ids,
        details={**draft.details, "ring_id": ring_id},
        ring_id=ring_id,
    )


def _bookings_of(facts: Sequence[BookingFact], flagged: Sequence[Ring]) -> dict[str, list[str]]:
    """Booking ids of the flagged rings' patients (their evidence)."""
    wanted = {p for ring in flagged for p in ring.patients}
    found: dict[str, list[str]] = {}
    if wanted:
        for fact in facts:
            if fact.patient_key in wanted:
                found.setdefault(fact.patient_key, []).append(fact.booking_id)
    return found


def _ring_subjects(
    flagged: Sequence[Ring],
    found: Sequence[drafts.AlertDraft],
    members: Mapping[tuple[str, str], str],
) -> dict[tuple[str, str], Subject]:
    """Each flagged ring, and each of its members, mapped to the ring's subject."""
    ring_labels = {d.entity.key: d.entity.label for d in found if d.entity.kind == RING}
    subjects = {
        ring.ring_id: Subject(
            kind=RING,
            key=ring.ring_id,
            label=ring_labels.get(ring.ring_id, f"ring {ring.ring_id[:8]}"),
            members=frozenset(ring.patients),
        )
        for ring in flagged
    }
    found_subjects = {member: subjects[ring_id] for member, ring_id in members.items()}
    found_subjects.update(((RING, ring_id), subject) for ring_id, subject in subjects.items())
    return found_subjects


def _operator_subjects(
    found: Sequence[drafts.AlertDraft], *, taken: Mapping[tuple[str, str], Subject]
) -> dict[tuple[str, str], Subject]:
    """Operator alerts tied together by a shared account, patient or identifier, as one
    subject each (``operators.operator_groups``): its entities and members map to it, so
    the gate's alerts on those accounts join it too. Anything already in a flagged ring
    stays with its ring."""
    mine = [d for d in found if d.rule in OPERATOR_RULES and d.ring_id is None]
    nodes = [_nodes(d) for d in mine]
    found_subjects: dict[tuple[str, str], Subject] = {}
    for group in operator_groups(nodes):
        members = sorted(set().union(*(nodes[i] for i in group)))
        patients = frozenset(key for kind, key in members if kind == "patient")
        accounts = sum(1 for kind, _ in members if kind == "account")
        subject = Subject(
            kind=RING,
            key=f"op-{group_id(members)}",
            label=f"operator: {accounts} accounts, {len(patients)} patients",
            members=patients,
        )
        found_subjects.update((node, subject) for node in members if node not in taken)
    return found_subjects


def _nodes(draft: drafts.AlertDraft) -> set[tuple[str, str]]:
    listed = draft.details.get("members") or []
    return {(draft.entity.kind, draft.entity.key)} | {(str(k), str(v)) for k, v in listed}


def _row(draft: drafts.AlertDraft, *, day: date, now: datetime) -> dict[str, Any]:
    return {
        "run_date": day,
        "rule": draft.rule,
        "entity_kind": draft.entity.kind,
        "entity_key": draft.entity.key,
        "entity_label": draft.entity.label[:128],
        "score": draft.score,
        "explanation": draft.explanation[:1000],
        "booking_ids": list(draft.booking_ids),
        "event_ids": list(draft.event_ids),
        "details": dict(draft.details),
        "ring_id": draft.ring_id,
        "case_id": None,
        "created_at": now,
    }


def _placeholder_run(day: date, window: Window, now: datetime, actor: str) -> RiskRun:
    return RiskRun(
        run_date=day, window_start=window.start, window_end=window.end, started_at=now, actor=actor
    )


def _record_run(
    db: Session, *, report: BatchReport, day: date, now: datetime, actor: str, hits: int
) -> RiskRun:
    figures = {
        "window_start": report.window.start,
        "window_end": report.window.end,
        "started_at": now,
        "bookings_seen": report.bookings,
        "events_seen": report.events,
        "hits": hits,
        "rings_flagged": report.rings_flagged,
        "actor": actor[:64],
    }
    run = repo.run_for(db, run_date=day)
    if run is None:
        run = RiskRun(run_date=day, runs=1, **figures)
        db.add(run)
        db.flush()
        return run
    repo.bump_run(db, run_id=run.id, values=figures)
    db.refresh(run)
    return run
