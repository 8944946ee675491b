"""Every query about patients, accounts and bindings."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from fairslot.bookings.models import Booking
from fairslot.bookings.states import PENDING
from fairslot.patients.models import Account, Binding, Patient


def get_account(db: Session, account_id: int) -> Account | None:
    return db.get(Account, account_id)


def get_patient(db: Session, patient_id: int) -> Patient | None:
    return db.get(Patient, patient_id)


def patient_by_id_hash(db: Session, id_hash: str) -> Patient | None:
    return db.scalars(select(Patient).where(Patient.id_hash == id_hash)).one_or_none()


def phone_positions(db: Session, *, phone_hash: str) -> set[int]:
    """The positions already taken by accounts registered with this phone."""
    return set(db.scalars(select(Account.phone_position).where(Account.phone_hash == phone_hash)))


def lock_account(db: Session, *, account_id: int) -> bool:
    """Bump the account's guard: a row lock held to the end of the transaction.

    Binding decisions on one account then run one after another, so the count of bound
    patients they read is never stale. The same UPDATE works on SQLite and PostgreSQL.
    """
    result = db.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(guard=Account.guard + 1)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def lock_patient(db: Session, *, patient_id: int) -> bool:
    """Bump the patient's booking guard, the lock the booking service also takes."""
    result = db.execute(
        update(Patient)
        .where(Patient.id == patient_id)
        .values(booking_guard=Patient.booking_guard + 1)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def get_binding(db: Session, *, account_id: int, patient_id: int) -> Binding | None:
    return db.scalars(
        select(Binding).where(Binding.account_id == account_id, Binding.patient_id == patient_id)
    ).one_or_none()


def count_bindings(db: Session, *, account_id: int) -> int:
    return int(
        db.scalar(select(func.count()).select_from(Binding).where(Binding.account_id == account_id))
        or 0
    )


def bound_patients(db: Session, *, account_id: int) -> list[tuple[Binding, Patient]]:
    rows = db.execute(
        select(Binding, Patient)
        .join(Patient, Patient.id == Binding.patient_id)
        .where(Binding.account_id == account_id)
        .order_by(Binding.created_at, Binding.id)
    )
    return [(binding, patient) for binding, patient in rows]


def delete_binding(db: Session, *, account_id: int, patient_id: int) -> bool:
    result = db.execute(
        delete(Binding)
        .where(Binding.account_id == account_id, Binding.patient_id == patient_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def has_pending_bookings(db: Session, *, account_id: int, patient_id: int) -> bool:
    """Whether the account holds or has booked a slot for the patient that still lies ahead."""
    stmt = (
        select(Booking.id)
        .where(
            Booking.account_id == account_id,
            Booking.patient_id == patient_id,
            Booking.status.in_(list(PENDING)),
        )
        .limit(1)
    )
    return db.scalar(stmt) is not None
