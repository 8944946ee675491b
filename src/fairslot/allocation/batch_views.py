"""Building what channels read of a batch entry (times in the hospital's zone)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.allocation import batch_repository as batch_repo
from fairslot.allocation.batch_schemas import (
    AllocationDecisionView,
    AllocationModeView,
    BatchEntryView,
)
from fairslot.allocation.models import Draw, Intent
from fairslot.allocation.modes import ModeView
from fairslot.allocation.states import IntentStatus


def entry_view(db: Session, *, entry: Intent, batch: Draw) -> BatchEntryView:
    found = batch_repo.department_with_hospital(db, batch.department_id)
    tz = ZoneInfo(found[1].timezone if found else "UTC")
    result_at = batch.due_at.astimezone(tz)
    pay_by = None
    if entry.booking_id is not None:
        booked = batch_repo.booking_expiry(db, entry.booking_id)
        pay_by = booked[1].astimezone(tz) if booked else None
    at = f"{result_at:%H:%M:%S} ({tz.key})"
    detail, detail_zh = {
        IntentStatus.REGISTERED: (
            f"Entered in the release batch: every request in the release's first seconds "
            f"counts the same; the result comes at {at}.",
            f"已登记本次放号批次：放号后最初几秒内的请求机会均等，结果于 {at} 公布。",
        ),
        IntentStatus.WON: (
            "Won in the release batch: the slot is held for you; pay before it expires.",
            "放号批次中签：号源已为您锁定，请在锁号到期前完成支付。",
        ),
        IntentStatus.LOST: (
            "Not drawn in the release batch; see the alternatives offered to you.",
            "放号批次未中签，请查看为您推荐的其他号源。",
        ),
        IntentStatus.REFUSED: (
            "This entry was refused and took no part in the batch.",
            "该登记未被受理，未参与本次抽签。",
        ),
        IntentStatus.WITHDRAWN: ("This entry was withdrawn.", "该登记已撤回。"),
    }[entry.status]
    return BatchEntryView(
        entry_id=entry.id,
        batch_id=batch.id,
        status=entry.status,
        session_id=entry.session_id,
        patient_id=entry.patient_id,
        entered_at=entry.created_at.astimezone(tz),
        result_at=result_at,
        seed_commitment=batch.seed_commitment,
        booking_id=entry.booking_id,
        pay_by=pay_by,
        reason=entry.reason,
        detail=detail,
        detail_zh=detail_zh,
    )


def mode_view(found: ModeView) -> AllocationModeView:
    return AllocationModeView(
        department_id=found.department_id,
        schedule_mode=found.schedule_mode,
        override=found.override,
        scarce=found.scarce,
        effective_mode=found.effective_mode,
        batch_window_seconds=found.batch_window_seconds,
        verdict=found.latest_verdict,
        decisions=[
            AllocationDecisionView(
                kind=d.kind,
                actor=d.actor,
                decided_at=d.decided_at,
                configured_mode=d.configured_mode,
                scarce=d.scarce,
                effective_mode=d.effective_mode,
                evidence=dict(d.evidence),
            )
            for d in found.decisions
        ],
    )
