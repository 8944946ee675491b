"""Claiming the next item of a staff work queue — the review queue's cases, customer
service's calls — when many staff members press "next" at the same instant.

Each claim is a compare-and-set on the item's version (``db/versioned.py``): a staff
member who loses a race does not wait on a lock, they move on to the next candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from fairslot.errors import Forbidden
from fairslot.staff.audit import StaffActor

T = TypeVar("T")

# Candidates examined per query when claiming; a lost race moves on to the next one.
BATCH = 10
# A staff member racing many others gives up after this many lost claims rather than spin.
MAX_ATTEMPTS = 50


def require_own_account(actor: StaffActor, *, items: str) -> None:
    """Work is claimed by a named person, never by a CLI or system actor: the claim and
    every decision that follows must say who held it."""
    if actor.staff_id is None:
        raise Forbidden(
            f"{items} are taken by a member of staff logged in with their own account.",
            code="staff_account_required",
        )


def claim_first(
    *,
    candidates: Callable[[set[int], int], Sequence[T]],
    ident: Callable[[T], int],
    claim: Callable[[T], bool],
) -> T | None:
    """The first candidate ``claim`` wins, best first; None when nothing is left to try.

    ``candidates(tried, limit)`` returns up to ``limit`` items not in ``tried``, best
    first; ``claim`` returns False when another staff member took the item first."""
    tried: set[int] = set()
    while len(tried) < MAX_ATTEMPTS:
        batch = candidates(tried, BATCH)
        if not batch:
            break
        for item in batch:
            tried.add(ident(item))
            if claim(item):
                return item
    return None
