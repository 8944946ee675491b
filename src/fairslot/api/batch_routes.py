"""Channel API for release batches: read an entry a hold made (``POST /v1/holds`` answered
202). The batch itself is read and verified as a draw (``GET /v1/draws/{id}``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from fairslot.allocation import batch_views, batches
from fairslot.allocation.batch_schemas import BatchEntryView
from fairslot.api.deps import ChannelDep, DbDep, done

router = APIRouter(prefix="/v1", tags=["allocation"])


@router.get("/batch-entries/{entry_id}", response_model=BatchEntryView)
def get_batch_entry(
    request: Request,
    entry_id: str,
    db: DbDep,
    channel: ChannelDep,
    account_id: Annotated[
        int,
        Query(ge=1, le=2**31 - 1, description="an account bound to the entry's patient"),
    ],
) -> BatchEntryView:
    """A release-batch entry: registered until the batch is drawn at ``result_at``, then
    won (with the held booking and ``pay_by``), lost or refused."""
    entry, batch = batches.get_entry(
        db, entry_id=entry_id, account_id=account_id, channel_id=channel.id
    )
    return done(request, db, batch_views.entry_view(db, entry=entry, batch=batch))
