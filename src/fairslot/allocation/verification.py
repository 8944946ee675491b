"""Checking a draw from its published inputs: anyone can, through the API, the CLI or the
staff console."""

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
    # Each of the three checks (None before the draw), so a mismatch says which one failed.
    seed_matches_commitment: bool | None = None
    inputs_match_digest: bool | None = None
    assignment_reproduced: bool | None = None
    exclusions_explained: bool | None = None  # None also for records from before reasons


def verify(db: Session, *, draw_id: int) -> Verification:
    """Re-run a drawn draw from its published inputs and check it against the result.

    Before the draw only the commitment and the count of intents are shown.
    """
    draw = get_draw(db, draw_id=draw_id)
    if draw.status != DrawStatus.DRAWN or draw.seed is None:
        count = repo.count_intents(db, draw_id=draw.id, status=IntentStatus.REGISTERED)
        return Verification(draw=draw, intents=count, recomputed=None, verified=None)
    return check(draw)


def check(draw: Draw) -> Verification:
    """Re-run a drawn draw (already loaded) from what its row publishes. No I/O, so a list
    of draws is checked without reading each one again."""
    if draw.status != DrawStatus.DRAWN or draw.seed is None:
        raise ValueError("only a drawn draw can be checked")
    found = rules.recheck(published(draw))
    return Verification(
        draw=draw,
        intents=len((draw.result or {}).get("entries", [])),
        recomputed=found.recomputed,
        verified=found.verified,
        seed_matches_commitment=found.seed_matches_commitment,
        inputs_match_digest=found.inputs_match_digest,
        assignment_reproduced=found.assignment_reproduced,
        exclusions_explained=found.exclusions_explained,
    )


def published(draw: Draw) -> rules.Published:
    """A run draw as it is published: its stored inputs and result, with the row's seed,
    commitment, inputs digest and algorithm (rows from before v2 keep v1)."""
    return rules.published(
        {
            **(draw.result or {}),
            "algorithm": draw.algorithm,
            "seed": draw.seed,
            "seed_commitment": draw.seed_commitment,
            "inputs_digest": draw.inputs_digest,
        }
    )
