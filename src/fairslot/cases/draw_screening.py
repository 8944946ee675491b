"""The review cases as the pre-draw screening sees them (``allocation/screening_ports.py``).

Screening sits below cases and may not import them; the composition root hands it this
desk instead (``bootstrap.Platform.screening_desk``). It reads the open cases screening
counts as facts about a draw's entrants, and files a held group's review alert through
case intake: into the open case an entrant was held for, else into its subject's case
(``cases/intake.py``: the subject's open case, a continued ring's, or a new one). A held
ring's witnesses (each device or payment account tying it together beyond a household)
are filed as alerts of their own in that case, so the reviewer weighs each identifier as
separate evidence and can block it. Only flushes: the edge commits.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from fairslot.allocation.screening_ports import HeldGroup
from fairslot.cases import draw_screening_repository as repo
from fairslot.cases import intake
from fairslot.cases import intake_repository as intake_repo
from fairslot.cases.grouping import RING, Subject
from fairslot.cases.states import CLOSED

PATIENT: Final = "patient"  # the subject kind of one patient's held entries


class DrawScreeningDesk:
    """Stateless: every call works in the session it is given (``screening_ports.CaseDesk``)."""

    def open_cases_of(
        self, db: Session, *, subjects: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        return {s: case.id for s, case in intake_repo.open_cases(db, subjects=subjects).items()}

    def open_ring_members(self, db: Session) -> dict[int, frozenset[str]]:
        return {
            case_id: members for case_id, (_, members) in intake_repo.open_ring_cases(db).items()
        }

    def file_held_group(self, db: Session, *, group: HeldGroup, now: datetime, actor: str) -> int:
        """The group's case, with the group's witnesses filed in it (see
        :func:`_file_witnesses`)."""
        case_id = _file_group(db, group=group, now=now, actor=actor)
        _file_witnesses(db, group=group, case_id=case_id, now=now, actor=actor)
        return case_id


def _file_group(db: Session, *, group: HeldGroup, now: datetime, actor: str) -> int:
    """The group's case. The day's alert on the subject, if already filed, keeps its
    case; otherwise the alert is stored (once) and taken in."""
    subject = Subject(
        kind=RING if group.ring_id is not None else PATIENT,
        key=group.key,
        label=group.label,
        members=group.members,
    )
    stored = _day_alert(
        db,
        group=group,
        now=now,
        subject=subject,
        explanation=group.explanation,
        details=dict(group.details),
    )
    if stored[1] is not None:
        return stored[1]
    alert_id = stored[0]
    alert = intake.IntakeAlert(
        alert_id=alert_id, rule=group.rule, score=group.score, subject=subject
    )
    # An entrant held for an open case is reviewed in that case.
    concerned = (
        repo.get_case(db, group.concerned_case) if group.concerned_case is not None else None
    )
    if concerned is not None and intake.add_alerts(
        db, case=concerned, alerts=[alert], now=now, actor=actor
    ):
        intake_repo.link_alerts(db, case_of={alert_id: concerned.id})
        return concerned.id
    report = intake.take_in(db, alerts=[alert], now=now, actor=actor)
    taken = report.opened or report.updated
    if taken:
        return taken[0]
    # The subject's closed case had judged this very evidence: the alert stays with it.
    again = repo.alert_for(
        db,
        run_date=now.date(),
        rule=group.rule,
        entity_kind=subject.kind,
        entity_key=subject.key,
    )
    case_id = again[1] if again is not None else None
    assert case_id is not None
    return int(case_id)


def _file_witnesses(
    db: Session, *, group: HeldGroup, case_id: int, now: datetime, actor: str
) -> None:
    """One alert per witness of a held ring (a device or payment account tying it together
    beyond a household), in the ring's case: the reviewer reads each identifier as
    evidence of its own and may block it. A witness's alert of the day already in a case
    stays there (the ring alert's details name it too); filing twice adds nothing. Nothing
    is filed into a case closed meanwhile."""
    case = repo.get_case(db, case_id) if group.witnesses else None
    if case is None or case.status in CLOSED:
        return
    new: list[intake.IntakeAlert] = []
    for witness in group.witnesses:
        subject = Subject(kind=witness.kind, key=witness.key, label=witness.label)
        alert_id, filed_in = _day_alert(
            db,
            group=group,
            now=now,
            subject=subject,
            explanation=(
                f"{witness.label} served {witness.accounts} accounts and "
                f"{witness.patients} patients of {group.label}"
            ),
            details={
                "ring": group.key,
                "accounts": witness.accounts,
                "patients": witness.patients,
                "draw_id": group.details.get("draw_id"),
            },
        )
        if filed_in is not None:
            continue
        new.append(
            intake.IntakeAlert(
                alert_id=alert_id,
                rule=group.rule,
                score=group.score,
                subject=subject,
            )
        )
    if new and intake.add_alerts(db, case=case, alerts=new, now=now, actor=actor):
        intake_repo.link_alerts(db, case_of={a.alert_id: case_id for a in new})


def _day_alert(
    db: Session,
    *,
    group: HeldGroup,
    now: datetime,
    subject: Subject,
    explanation: str,
    details: dict[str, Any],
) -> tuple[int, int | None]:
    """(alert id, its case id or None) of the day's ``group.rule`` alert on ``subject``:
    the one already stored, else a new one (the alerts' unique key is run date, rule and
    entity)."""
    stored = repo.alert_for(
        db, run_date=now.date(), rule=group.rule, entity_kind=subject.kind, entity_key=subject.key
    )
    if stored is not None:
        return stored
    values = {
        "run_date": now.date(),
        "rule": group.rule,
        "entity_kind": subject.kind,
        "entity_key": subject.key,
        "entity_label": subject.label[:128],
        "score": group.score,
        "explanation": explanation[:1000],
        "booking_ids": [],
        "event_ids": [],
        "details": details,
        "ring_id": group.ring_id,
        "created_at": now,
    }
    return repo.insert_alert(db, values=values), None
