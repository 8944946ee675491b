"""Compare-and-set on a row that carries a ``status`` and a ``version``: the one query
behind every move of the case and call-task state machines.

``UPDATE … WHERE id = :id AND version = :v AND status = :expected`` changes one row or
none, so two staff members acting on the same row at once cannot both win — on SQLite
or PostgreSQL, without a lock held while a person reads the row. Each caller checks the
move against its own transition table and turns a ``False`` into its own refusal.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value


def compare_and_set(
    db: Session,
    *,
    row: Any,
    expected: enum.Enum,
    values: Mapping[str, Any],
    extra_where: Sequence[Any] = (),
) -> bool:
    """Write ``values`` and bump the version if ``row`` (a loaded mapped object with
    ``id``, ``version`` and ``status`` columns) is still at its loaded version, in
    ``expected`` status and matches ``extra_where``. True if it was; the loaded object then
    shows the new values."""
    model = type(row)
    result = db.execute(
        update(model)
        .where(
            model.id == row.id,
            model.version == row.version,
            model.status == expected,
            *extra_where,
        )
        .values(version=model.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount) != 1:  # type: ignore[attr-defined]
        return False
    # Mirror the update onto the loaded object without making it dirty: an attribute
    # assignment would be written back at the next flush.
    for name, value in {**values, "version": row.version + 1}.items():
        set_committed_value(row, name, value)
    return True
