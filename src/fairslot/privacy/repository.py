"""The encrypted columns, read in key order and written back compare-and-set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from fairslot.allocation.models import Draw
from fairslot.patients.models import Account, Patient


@dataclass(frozen=True)
class EncryptedColumn:
    """One column holding Fernet tokens (``Protector.encrypt``), and its table's key."""

    name: str  # "table.column", for the report
    key: InstrumentedAttribute[Any]
    column: InstrumentedAttribute[Any]


# Every column the platform writes with ``Protector.encrypt`` (grep ``encrypt(``); a new
# one must be added here, or ``keys reencrypt`` would leave it under an old key (a test
# compares this list with the models' ``*_encrypted`` columns).
ENCRYPTED: Final = (
    EncryptedColumn("patients.name_encrypted", Patient.id, Patient.name_encrypted),
    EncryptedColumn("patients.id_encrypted", Patient.id, Patient.id_encrypted),
    EncryptedColumn("patients.phone_encrypted", Patient.id, Patient.phone_encrypted),
    EncryptedColumn("patients.insurance_encrypted", Patient.id, Patient.insurance_encrypted),
    EncryptedColumn("accounts.phone_encrypted", Account.id, Account.phone_encrypted),
    EncryptedColumn("draws.seed_encrypted", Draw.id, Draw.seed_encrypted),
)


def tokens_after(
    db: Session, target: EncryptedColumn, *, after: Any, limit: int
) -> list[tuple[Any, str]]:
    """Up to ``limit`` (key, token) pairs with a key above ``after`` (None: from the
    start), in key order: a batch, and where the next one starts."""
    statement = select(target.key, target.column).where(target.column.is_not(None))
    if after is not None:
        statement = statement.where(target.key > after)
    rows = db.execute(statement.order_by(target.key).limit(limit)).all()
    return [(key, str(token)) for key, token in rows]


def replace_token(db: Session, target: EncryptedColumn, *, key: Any, old: str, new: str) -> bool:
    """Write ``new`` where the row still holds ``old``: a value the server changed
    meanwhile (already under the current key) is left as it is."""
    result = db.execute(
        update(target.column.class_)
        .where(target.key == key, target.column == old)
        .values({target.column.key: new}),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1
