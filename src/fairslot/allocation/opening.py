"""Opening a department-day's draw or release batch: the row, sealed with its seed.

Apart from the use cases that open one (``service.ensure_draw`` for a draw,
``batches.ensure_batch`` for a release batch), so that either may use the other.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from fairslot.allocation import repository as repo
from fairslot.allocation import rules, shuffle
from fairslot.allocation.models import Draw
from fairslot.allocation.states import DrawKind, DrawStatus
from fairslot.crypto import Protector


def open_draw(
    db: Session,
    *,
    department_id: int,
    session_date: date,
    kind: DrawKind,
    opens_at: datetime,
    due_at: datetime,
    seed: str,
    protector: Protector,
) -> Draw:
    """A department-day's new open draw (or release batch) sealed with ``seed``: only its
    commitment and the shuffle's version are published until it runs. A row a racing
    first need inserted first is answered instead (``repository.insert_draw_once``)."""
    draw = Draw(
        department_id=department_id,
        session_date=session_date,
        kind=kind,
        opens_at=opens_at,
        due_at=due_at,
        status=DrawStatus.OPEN,
        seed_commitment=rules.commitment(seed),
        seed_encrypted=protector.encrypt(seed),
        algorithm=shuffle.CURRENT,  # published with the commitment, fixed from then on
        result={},
        version=1,
    )
    return repo.insert_draw_once(db, draw)
