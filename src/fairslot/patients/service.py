"""Real-name accounts and patients: registration, binding and what an account may see.

Personal data is stored encrypted, and found by keyed hashes (purposes below); responses
and logs only ever carry masked forms. Services flush; the edge commits.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairslot.crypto import Protector
from fairslot.patients import repository as repo
from fairslot.patients.errors import (
    AccountNotFound,
    BindingLimit,
    IdentityMismatch,
    InvalidName,
    InvalidPatientDetail,
    InvalidPhone,
    InvalidResidentId,
    PatientHasBookings,
    PatientNotBound,
    PhoneAccountLimit,
)
from fairslot.patients.identity import (
    IdentityError,
    ResidentId,
    age_on,
    fold_name,
    mask_id,
    mask_name,
    mask_phone,
    normalise_name,
    normalise_phone,
    parse_resident_id,
)
from fairslot.patients.models import Account, Binding, Patient
from fairslot.patients.schemas import AccountView, PatientView

# Purposes of the keyed hashes: the same value hashed for different purposes gives
# unrelated hashes, so one table's hashes cannot be joined against another's by accident.
PURPOSE_RESIDENT_ID = "resident_id"
PURPOSE_PHONE = "phone"
PURPOSE_INSURANCE = "insurance"

RELATIONS = frozenset({"self", "spouse", "parent", "child", "sibling", "relative", "other"})
MAX_NAME_LENGTH = 50
# Resident IDs are issued in China: "born in the future" is judged on Beijing time.
_ID_ZONE = ZoneInfo("Asia/Shanghai")
_EARLIEST_BIRTH = date(1900, 1, 1)


def register_account(
    db: Session,
    *,
    phone: str,
    channel_id: int,
    external_ref: str | None = None,
    now: datetime,
    protector: Protector,
    max_per_phone: int,
) -> Account:
    """Open an account for a phone number that holds fewer than ``max_per_phone`` accounts.

    The account takes the lowest free position 1..max for its phone; the unique
    (phone_hash, phone_position) pair makes the limit hold even when two registrations
    with one phone race.
    """
    e164 = _phone(phone)
    ref = _external_ref(external_ref)
    phone_hash = protector.keyed_hash(e164, purpose=PURPOSE_PHONE)
    taken = repo.phone_positions(db, phone_hash=phone_hash)
    free = [position for position in range(1, max_per_phone + 1) if position not in taken]
    if not free:
        raise PhoneAccountLimit(
            f"This phone number already has {max_per_phone} accounts, the most allowed; "
            "sign in to one of them instead."
        )
    account = Account(
        phone_hash=phone_hash,
        phone_encrypted=protector.encrypt(e164),
        phone_position=free[0],
        channel_id=channel_id,
        external_ref=ref,
        guard=0,
        created_at=now,
    )
    try:
        with db.begin_nested():
            db.add(account)
            db.flush()
    except IntegrityError as exc:
        if "phone_position" not in str(exc.orig):
            raise
        raise PhoneAccountLimit(
            "Another account was being opened with this phone number at the same moment, "
            "and the phone has reached its account limit; sign in to an existing account."
        ) from exc
    return account


def get_account(db: Session, *, account_id: int, channel_id: int | None = None) -> Account:
    """The account, if it exists and (when ``channel_id`` is given) belongs to that channel.

    Account ids are sequential, so a channel may act only on the accounts it opened:
    another channel's account is reported as missing, never as forbidden.
    """
    account = repo.get_account(db, account_id)
    if account is None or (channel_id is not None and account.channel_id != channel_id):
        raise AccountNotFound("No account has this id.")
    return account


def account_view(account: Account, *, protector: Protector) -> AccountView:
    return AccountView(
        account_id=account.id, phone_masked=mask_phone(protector.decrypt(account.phone_encrypted))
    )


def bind_patient(
    db: Session,
    *,
    account: Account,
    name: str,
    id_number: str,
    phone: str,
    insurance_card: str | None = None,
    relation: str = "self",
    now: datetime,
    protector: Protector,
    max_bound: int,
) -> Patient:
    """Let ``account`` book for the person with this resident ID; idempotent.

    A person known to the platform (by the keyed hash of their ID) is reused, and the
    name given must be theirs. Their stored phone and insurance card are kept: a later
    binder cannot rewrite a real person's contact details.
    """
    clean_name = _name(name)
    resident = _resident_id(id_number, now=now)
    e164 = _phone(phone)
    insurance = _insurance(insurance_card)
    relation = _relation(relation)

    # Serialise binds on this account (a row lock to the end of the transaction), so the
    # count below cannot be outrun by a concurrent bind.
    if not repo.lock_account(db, account_id=account.id):
        raise AccountNotFound("No account has this id.")
    id_hash = protector.keyed_hash(resident.number, purpose=PURPOSE_RESIDENT_ID)
    patient = repo.patient_by_id_hash(db, id_hash)
    if patient is not None:
        _check_same_person(patient, name=clean_name, protector=protector)
        if repo.get_binding(db, account_id=account.id, patient_id=patient.id) is not None:
            return patient
    if repo.count_bindings(db, account_id=account.id) >= max_bound:
        raise BindingLimit(
            f"An account may book for at most {max_bound} people; remove one before adding another."
        )
    if patient is None:
        patient = _create_patient(
            db,
            name=clean_name,
            resident=resident,
            id_hash=id_hash,
            phone=e164,
            insurance=insurance,
            now=now,
            protector=protector,
        )
    db.add(Binding(account_id=account.id, patient_id=patient.id, relation=relation, created_at=now))
    db.flush()
    return patient


def unbind_patient(db: Session, *, account_id: int, patient_id: int) -> None:
    """Stop the account booking for the patient, unless it still has bookings for them.

    The patient record stays: bookings and the slot ledger refer to it.
    """
    get_account(db, account_id=account_id)
    if repo.get_binding(db, account_id=account_id, patient_id=patient_id) is None:
        raise PatientNotBound("This patient is not bound to this account.")
    # Take the patient's booking lock (the booking service takes it too): a booking being
    # made for them right now finishes first and is seen below, or waits for this
    # transaction; it then finds the binding gone if it checks the binding after the lock.
    repo.lock_patient(db, patient_id=patient_id)
    if repo.has_pending_bookings(db, account_id=account_id, patient_id=patient_id):
        raise PatientHasBookings(
            "This account has a held or booked appointment for this patient; cancel it "
            "before removing the patient."
        )
    repo.delete_binding(db, account_id=account_id, patient_id=patient_id)


def list_patients(
    db: Session, *, account_id: int, now: datetime, protector: Protector
) -> list[PatientView]:
    """The account's bound patients, masked, in the order they were added."""
    get_account(db, account_id=account_id)
    today = now.astimezone(_ID_ZONE).date()
    return [
        patient_view(patient, relation=binding.relation, today=today, protector=protector)
        for binding, patient in repo.bound_patients(db, account_id=account_id)
    ]


def bound_patient_view(
    db: Session, *, account_id: int, patient_id: int, now: datetime, protector: Protector
) -> PatientView:
    """One bound patient, masked, as the account sees them."""
    _, patient = require_binding(db, account_id=account_id, patient_id=patient_id)
    binding = repo.get_binding(db, account_id=account_id, patient_id=patient_id)
    relation = binding.relation if binding is not None else "self"
    today = now.astimezone(_ID_ZONE).date()
    return patient_view(patient, relation=relation, today=today, protector=protector)


def patient_view(
    patient: Patient, *, relation: str, today: date, protector: Protector
) -> PatientView:
    return PatientView(
        patient_id=patient.id,
        name_masked=patient.name_masked,
        id_number_masked=mask_id(protector.decrypt(patient.id_encrypted)),
        phone_masked=mask_phone(protector.decrypt(patient.phone_encrypted)),
        sex=patient.sex,
        birth_year=patient.birth_date.year,
        age=age_on(patient.birth_date, today),
        relation=relation,
        has_insurance=patient.insurance_encrypted is not None,
    )


def patient_name(patient: Patient, *, protector: Protector) -> str:
    """The patient's name in the clear: for the patient's own account and an audited
    reveal only; every other screen shows ``patient.name_masked``."""
    return protector.decrypt(patient.name_encrypted)


def patient_key_for(id_number: str, *, protector: Protector) -> str | None:
    """The keyed hash that stands for a person in records and the ledger, if the ID is valid.

    Lets a refused request (a mismatched name, a full account) still be tied to the person
    it tried to act for.
    """
    try:
        number = parse_resident_id("".join(id_number.split())).number
    except IdentityError:
        return None
    return protector.keyed_hash(number, purpose=PURPOSE_RESIDENT_ID)


def require_binding(
    db: Session, *, account_id: int, patient_id: int, channel_id: int | None = None
) -> tuple[Account, Patient]:
    """The account and patient, if the account may act for the patient; else 404 / 403."""
    account = get_account(db, account_id=account_id, channel_id=channel_id)
    if repo.get_binding(db, account_id=account_id, patient_id=patient_id) is None:
        raise PatientNotBound("This patient is not bound to this account; add them first.")
    patient = repo.get_patient(db, patient_id)
    if patient is None:  # a binding's foreign key makes this unreachable
        raise PatientNotBound("This patient is not bound to this account; add them first.")
    return account, patient


def _create_patient(
    db: Session,
    *,
    name: str,
    resident: ResidentId,
    id_hash: str,
    phone: str,
    insurance: str | None,
    now: datetime,
    protector: Protector,
) -> Patient:
    patient = Patient(
        name_encrypted=protector.encrypt(name),
        name_masked=mask_name(name),
        id_hash=id_hash,
        id_encrypted=protector.encrypt(resident.number),
        id_last4=resident.number[-4:],
        sex=resident.sex,
        birth_date=resident.birth_date,
        phone_hash=protector.keyed_hash(phone, purpose=PURPOSE_PHONE),
        phone_encrypted=protector.encrypt(phone),
        insurance_encrypted=protector.encrypt(insurance) if insurance else None,
        booking_guard=0,
        created_at=now,
    )
    try:
        with db.begin_nested():
            db.add(patient)
            db.flush()
    except IntegrityError:
        # Another account registered the same person at the same moment: use theirs.
        existing = repo.patient_by_id_hash(db, id_hash)
        if existing is None:
            raise
        _check_same_person(existing, name=name, protector=protector)
        return existing
    return patient


def _check_same_person(patient: Patient, *, name: str, protector: Protector) -> None:
    # Compared in the clear, here only: a keyed hash of a name would be guessable from
    # the small space of names, and nothing else needs to find a patient by name.
    if _name_key(patient_name(patient, protector=protector)) != _name_key(name):
        # Never say what the registered name is: that would leak it to whoever has the ID.
        raise IdentityMismatch(
            "The name does not match the name registered with this resident ID number; "
            "enter the name exactly as it appears on the ID card."
        )


def _name(raw: str) -> str:
    if len(raw) > 4 * MAX_NAME_LENGTH:  # no need to fold a page of text to refuse it
        raise InvalidName(
            f"Enter the patient's name as on the ID card (at most {MAX_NAME_LENGTH} characters).",
            detail_zh=f"请按证件填写患者姓名（不超过 {MAX_NAME_LENGTH} 个字符）。",
        )
    try:
        return normalise_name(raw)
    except IdentityError as exc:
        raise InvalidName(str(exc), detail_zh=exc.zh) from exc


def _name_key(name: str) -> str:
    # Folded, not validated: names stored before validation was strict still match.
    return fold_name(name).replace(" ", "").casefold()


def _resident_id(raw: str, *, now: datetime) -> ResidentId:
    try:
        resident = parse_resident_id("".join(raw.split()))
    except IdentityError as exc:
        raise InvalidResidentId(str(exc), detail_zh=exc.zh) from exc
    if not _EARLIEST_BIRTH <= resident.birth_date <= now.astimezone(_ID_ZONE).date():
        raise InvalidResidentId(
            "The birth date in this resident ID number is not possible; check the 7th to "
            "14th digits.",
            detail_zh="身份证号码中的出生日期不可能成立，请核对第 7 至 14 位。",
        )
    return resident


def _phone(raw: str) -> str:
    try:
        return normalise_phone(raw)
    except IdentityError as exc:
        raise InvalidPhone(
            f"{exc} Enter a mobile number such as 13812345678.",
            detail_zh=f"{exc.zh}请输入手机号码，例如 13812345678。",
        ) from exc


def _insurance(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    card = raw.strip().upper()
    if len(card) > 64 or not card.isascii() or not card.replace("-", "").isalnum():
        raise InvalidPatientDetail(
            "A medical insurance card number has up to 64 letters, digits or '-'.",
            code="invalid_insurance_card",
        )
    return card


def _external_ref(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    ref = raw.strip()
    if len(ref) > 128 or not ref.isprintable():
        raise InvalidPatientDetail(
            "external_ref is up to 128 printable characters.", code="invalid_external_ref"
        )
    return ref


def _relation(raw: str) -> str:
    relation = raw.strip().lower()
    if relation not in RELATIONS:
        raise InvalidPatientDetail(
            "relation must be one of: " + ", ".join(sorted(RELATIONS)) + ".",
            code="invalid_relation",
        )
    return relation
