"""Checking a draw from its published inputs: anyone can, through the API or the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from fairslot.allocation import repository as repo
from fairslot.allocation import rules
from fairslot.allocation.models import Draw
from fairslot.allocation.service import get_draw
from fairslot.allocation.states import DrawStatus, IntentStatus


@dataclass(frozen=True)
class Verification:
    draw: Draw
    intents: int
    recomputed: dict[str, str | None] | None
    verified: bool | None


def verify(db: Session, *, draw_id: int) -> Verification:
    """Re-run a drawn draw from its published inputs and check it against the result.

    Before the draw only the commitment and the count of intents are shown.
    """
    draw = get_draw(db, draw_id=draw_id)
    if draw.status != DrawStatus.DRAWN or draw.seed is None:
        count = repo.count_intents(db, draw_id=draw.id, status=IntentStatus.REGISTERED)
        return Verification(draw=draw, intents=count, recomputed=None, verified=None)
    stored = draw.result or {}
    entries = [
        rules.Entry(
            intent_id=e["intent_id"],
            session_id=e["session_id"],
            title=e["title"],
            channel_id=e["channel_id"],
        )
        for e in stored.get("entries", [])
    ]
    slots = [
        rules.FreeSlot(
            slot_id=s["slot_id"],
            session_id=s["session_id"],
            number=s["number"],
            title=s["title"],
            reserved_for=s["reserved_for"],
        )
        for s in stored.get("slots", [])
    ]
    recomputed = rules.draw(
        seed=draw.seed, entries=entries, slots=slots, refused=stored.get("refused", [])
    )
    ids = [e.intent_id for e in entries]
    verified = (
        rules.commitment(draw.seed) == draw.seed_commitment
        and rules.inputs_digest(ids) == draw.inputs_digest
        and recomputed == stored.get("assignment")
    )
    return Verification(draw=draw, intents=len(ids), recomputed=recomputed, verified=verified)
