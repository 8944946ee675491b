"""Accounts, real-name patients and bindings against SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from factories.demand import create_account, create_channel, create_patient, resident_id
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.bootstrap import Platform
from fairslot.clock import ManualClock
from fairslot.errors import DomainError
from fairslot.hospitals.models import Department, Doctor, DoctorTitle, Hospital
from fairslot.patients import repository as patient_repo
from fairslot.patients import service as patients
from fairslot.patients.identity import Sex
from fairslot.patients.models import Account, Binding, Patient
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import Period, SlotState


def _bind(db: Session, platform: Platform, account: Account, **values: Any) -> Patient:
    defaults: dict[str, Any] = {
        "name": "王芳",
        "id_number": resident_id(),
        "phone": "13900001111",
        "now": platform.clock.now(),
        "protector": platform.protector,
        "max_bound": platform.settings.max_patients_per_account,
    }
    defaults.update(values)
    return patients.bind_patient(db, account=account, **defaults)


def _register(db: Session, platform: Platform, phone: str, channel_id: int) -> Account:
    return patients.register_account(
        db,
        phone=phone,
        channel_id=channel_id,
        now=platform.clock.now(),
        protector=platform.protector,
        max_per_phone=platform.settings.max_accounts_per_phone,
    )


def _refusal(action: Callable[[], object]) -> DomainError:
    with pytest.raises(DomainError) as info:
        action()
    return info.value


# --- accounts -------------------------------------------------------------------------


def test_a_phone_may_hold_two_accounts_but_not_a_third(db: Session, platform: Platform) -> None:
    channel, _ = create_channel(db)

    first = _register(db, platform, "13812345678", channel.id)
    # The same number typed another way is the same phone.
    second = _register(db, platform, "+86 138-1234-5678", channel.id)
    error = _refusal(lambda: _register(db, platform, "138 1234 5678", channel.id))

    assert (first.phone_position, second.phone_position) == (1, 2)
    assert (error.code, error.status) == ("phone_account_limit", 409)


def test_an_account_takes_the_lowest_free_position_of_its_phone(
    db: Session, platform: Platform
) -> None:
    channel, _ = create_channel(db)
    first = _register(db, platform, "13812345678", channel.id)
    _register(db, platform, "13812345678", channel.id)
    db.delete(first)
    db.flush()

    again = _register(db, platform, "13812345678", channel.id)

    assert again.phone_position == 1


def test_the_phone_is_stored_encrypted_and_hashed_not_in_clear(
    db: Session, platform: Platform
) -> None:
    account = create_account(db, platform, phone="13812345678")
    db.commit()

    row = db.execute(text("SELECT * FROM accounts WHERE id = :id"), {"id": account.id}).one()

    assert not any("13812345678" in str(value) for value in row)
    assert platform.protector.decrypt(account.phone_encrypted) == "+8613812345678"
    assert account.phone_hash == platform.protector.keyed_hash("+8613812345678", purpose="phone")


def test_an_unreadable_phone_is_refused_with_invalid_phone(db: Session, platform: Platform) -> None:
    channel, _ = create_channel(db)

    error = _refusal(lambda: _register(db, platform, "12345", channel.id))

    assert (error.code, error.status) == ("invalid_phone", 422)


def test_two_racing_registrations_cannot_exceed_the_phone_limit(
    db: Session, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel, _ = create_channel(db)
    _register(db, platform, "13812345678", channel.id)
    db.commit()

    _meet_after(monkeypatch, "phone_positions")

    outcomes = _race(
        platform, lambda session: _register(session, platform, "13812345678", channel.id)
    )

    assert sorted(outcomes) == ["ok", "phone_account_limit"]
    assert db.scalar(select(Account.id).where(Account.phone_position == 3)) is None


# --- binding ---------------------------------------------------------------------------


def test_binding_creates_a_patient_whose_sex_and_birth_date_come_from_the_id(
    db: Session, platform: Platform
) -> None:
    account = create_account(db, platform)
    number = resident_id(sex=Sex.MALE, birth_date=date(1962, 7, 30))

    patient = _bind(db, platform, account, name=" 张 伟 ", id_number=number)

    assert patient.sex is Sex.MALE
    assert patient.birth_date == date(1962, 7, 30)
    # A Chinese name is stored without spaces (and encrypted).
    assert platform.protector.decrypt(patient.name_encrypted) == "张伟"
    assert patient.id_last4 == number[-4:]
    assert platform.protector.decrypt(patient.id_encrypted) == number


def test_the_id_number_is_never_stored_in_clear(db: Session, platform: Platform) -> None:
    account = create_account(db, platform)
    number = resident_id()
    patient = _bind(db, platform, account, id_number=number, insurance_card="YB1234567")
    db.commit()

    row = db.execute(text("SELECT * FROM patients WHERE id = :id"), {"id": patient.id}).one()

    assert not any(number in str(value) for value in row)
    assert not any(number[:14] in str(value) for value in row)  # not even region + birth
    assert not any("YB1234567" in str(value) for value in row)


def test_an_account_may_bind_four_patients_but_not_a_fifth(db: Session, platform: Platform) -> None:
    account = create_account(db, platform)
    for _ in range(4):
        _bind(db, platform, account)

    error = _refusal(lambda: _bind(db, platform, account))

    assert (error.code, error.status) == ("binding_limit", 409)
    assert db.scalar(select(Patient.id).where(Patient.id > 4)) is None


def test_binding_the_same_patient_twice_changes_nothing(db: Session, platform: Platform) -> None:
    account = create_account(db, platform)
    number = resident_id()

    first = _bind(db, platform, account, id_number=number)
    second = _bind(db, platform, account, id_number=number)

    assert first.id == second.id
    assert (
        len(
            patients.list_patients(
                db, account_id=account.id, now=platform.clock.now(), protector=platform.protector
            )
        )
        == 1
    )


def test_rebinding_a_bound_patient_is_allowed_even_at_the_limit(
    db: Session, platform: Platform
) -> None:
    account = create_account(db, platform)
    numbers = [resident_id() for _ in range(4)]
    for number in numbers:
        _bind(db, platform, account, id_number=number)

    again = _bind(db, platform, account, id_number=numbers[2])

    assert platform.protector.decrypt(again.id_encrypted) == numbers[2]


def test_a_known_patient_is_reused_by_another_account(db: Session, platform: Platform) -> None:
    number = resident_id()
    mother = create_account(db, platform)
    father = create_account(db, platform)

    first = _bind(db, platform, mother, name="李娜", id_number=number, relation="child")
    second = _bind(db, platform, father, name="李娜", id_number=number, relation="child")

    assert first.id == second.id
    assert db.scalar(select(text("count(*)")).select_from(Patient)) == 1


def test_a_known_patient_keeps_their_phone_when_another_account_binds_them(
    db: Session, platform: Platform
) -> None:
    number = resident_id()
    first = _bind(db, platform, create_account(db, platform), id_number=number, phone="13900001111")

    _bind(db, platform, create_account(db, platform), id_number=number, phone="13700002222")

    assert platform.protector.decrypt(first.phone_encrypted) == "+8613900001111"


def test_a_known_id_with_another_name_is_refused_without_revealing_the_name(
    db: Session, platform: Platform
) -> None:
    number = resident_id()
    _bind(db, platform, create_account(db, platform), name="赵敏", id_number=number)
    other = create_account(db, platform)

    error = _refusal(lambda: _bind(db, platform, other, name="黄勇", id_number=number))

    assert (error.code, error.status) == ("identity_mismatch", 409)
    assert "赵" not in error.detail and "敏" not in error.detail
    assert (
        patients.list_patients(
            db, account_id=other.id, now=platform.clock.now(), protector=platform.protector
        )
        == []
    )


def test_name_matching_ignores_spacing(db: Session, platform: Platform) -> None:
    number = resident_id()
    first = _bind(
        db, platform, create_account(db, platform), name="阿依古丽·买买提", id_number=number
    )

    second = _bind(
        db, platform, create_account(db, platform), name="阿依古丽 · 买买提", id_number=number
    )

    assert first.id == second.id


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("id_number", "110105199006150021", "invalid_resident_id"),  # wrong check digit
        ("id_number", "", "invalid_resident_id"),
        ("phone", "123", "invalid_phone"),
        ("name", "   ", "invalid_name"),
        ("name", "王" * 51, "invalid_name"),
        ("name", "王芳2", "invalid_name"),
        ("name", "王\x00芳", "invalid_name"),
        ("relation", "broker", "invalid_relation"),
        ("insurance_card", "YB 12;34", "invalid_insurance_card"),
    ],
)
def test_unusable_patient_details_are_refused_with_422(
    db: Session, platform: Platform, field: str, value: str, code: str
) -> None:
    account = create_account(db, platform)

    error = _refusal(lambda: _bind(db, platform, account, **{field: value}))

    assert (error.code, error.status) == (code, 422)
    assert error.detail


def test_an_id_whose_birth_date_lies_in_the_future_is_refused(
    db: Session, platform: Platform, clock: ManualClock
) -> None:
    account = create_account(db, platform)
    tomorrow = (clock.now() + timedelta(days=2)).date()

    error = _refusal(
        lambda: _bind(db, platform, account, id_number=resident_id(birth_date=tomorrow))
    )

    assert error.code == "invalid_resident_id"


def test_two_racing_binds_cannot_exceed_the_binding_limit(
    db: Session, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = create_account(db, platform)
    for _ in range(3):
        _bind(db, platform, account)
    db.commit()
    numbers = [resident_id(), resident_id()]
    turn = iter(numbers)
    lock = threading.Lock()

    def bind(session: Session) -> object:
        with lock:
            number = next(turn)
        fresh = session.get(Account, account.id)
        assert fresh is not None
        return _bind(session, platform, fresh, id_number=number)

    _meet_after(monkeypatch, "count_bindings")

    outcomes = _race(platform, bind)

    assert sorted(outcomes) == ["binding_limit", "ok"]
    assert (
        db.scalar(
            select(text("count(*)")).select_from(Binding).where(Binding.account_id == account.id)
        )
        == 4
    )


# --- listing, unbinding, require_binding -----------------------------------------------


def test_bound_patients_are_listed_masked(db: Session, platform: Platform) -> None:
    account = create_account(db, platform)
    number = resident_id(sex=Sex.FEMALE, birth_date=date(1990, 6, 15))
    _bind(
        db,
        platform,
        account,
        name="陈静",
        id_number=number,
        phone="13912345678",
        relation="parent",
        insurance_card="YB1",
    )

    [view] = patients.list_patients(
        db, account_id=account.id, now=platform.clock.now(), protector=platform.protector
    )

    assert view.name_masked == "陈*"
    assert view.id_number_masked == number[:3] + "*" * 11 + number[-4:]
    assert view.phone_masked == "+86139****5678"
    assert (view.sex, view.birth_year, view.age) == (Sex.FEMALE, 1990, 36)
    assert (view.relation, view.has_insurance) == ("parent", True)
    assert number not in view.model_dump_json()


def test_listing_patients_of_an_unknown_account_is_a_404(db: Session, platform: Platform) -> None:
    error = _refusal(
        lambda: patients.list_patients(
            db, account_id=999, now=platform.clock.now(), protector=platform.protector
        )
    )

    assert (error.code, error.status) == ("account_not_found", 404)


def test_require_binding_returns_the_account_and_its_bound_patient(
    db: Session, platform: Platform
) -> None:
    patient = create_patient(db, platform)
    [binding] = db.scalars(select(Binding).where(Binding.patient_id == patient.id))

    account, found = patients.require_binding(
        db, account_id=binding.account_id, patient_id=patient.id
    )

    assert (account.id, found.id) == (binding.account_id, patient.id)


def test_require_binding_refuses_a_patient_bound_to_another_account(
    db: Session, platform: Platform
) -> None:
    patient = create_patient(db, platform)
    stranger = create_account(db, platform)

    error = _refusal(
        lambda: patients.require_binding(db, account_id=stranger.id, patient_id=patient.id)
    )

    assert (error.code, error.status) == ("patient_not_bound", 403)


def test_an_unbound_patient_can_no_longer_be_booked_for(db: Session, platform: Platform) -> None:
    account = create_account(db, platform)
    patient = create_patient(db, platform, account=account)

    patients.unbind_patient(db, account_id=account.id, patient_id=patient.id)

    error = _refusal(
        lambda: patients.require_binding(db, account_id=account.id, patient_id=patient.id)
    )
    assert error.code == "patient_not_bound"
    assert db.get(Patient, patient.id) is not None  # the person stays on record


def test_unbinding_frees_a_place_for_another_patient(db: Session, platform: Platform) -> None:
    account = create_account(db, platform)
    bound = [create_patient(db, platform, account=account) for _ in range(4)]

    patients.unbind_patient(db, account_id=account.id, patient_id=bound[0].id)

    assert create_patient(db, platform, account=account).id not in {p.id for p in bound}


def test_unbinding_a_patient_who_is_not_bound_is_refused(db: Session, platform: Platform) -> None:
    account = create_account(db, platform)
    other = create_patient(db, platform)

    error = _refusal(
        lambda: patients.unbind_patient(db, account_id=account.id, patient_id=other.id)
    )

    assert (error.code, error.status) == ("patient_not_bound", 403)


@pytest.mark.parametrize("status", [BookingStatus.HELD, BookingStatus.BOOKED])
def test_a_patient_with_a_pending_booking_cannot_be_unbound(
    db: Session, platform: Platform, status: BookingStatus
) -> None:
    account = create_account(db, platform)
    patient = create_patient(db, platform, account=account)
    _booking(db, platform, account=account, patient=patient, status=status)

    error = _refusal(
        lambda: patients.unbind_patient(db, account_id=account.id, patient_id=patient.id)
    )

    assert (error.code, error.status) == ("patient_has_bookings", 409)


def test_a_patient_whose_bookings_are_over_can_be_unbound(db: Session, platform: Platform) -> None:
    account = create_account(db, platform)
    patient = create_patient(db, platform, account=account)
    _booking(db, platform, account=account, patient=patient, status=BookingStatus.CANCELLED)

    patients.unbind_patient(db, account_id=account.id, patient_id=patient.id)

    assert db.scalar(select(Binding.id).where(Binding.patient_id == patient.id)) is None


def test_another_accounts_booking_does_not_block_unbinding(db: Session, platform: Platform) -> None:
    number = resident_id()
    mine = create_account(db, platform)
    theirs = create_account(db, platform)
    patient = _bind(db, platform, mine, id_number=number)
    _bind(db, platform, theirs, id_number=number)
    _booking(db, platform, account=theirs, patient=patient, status=BookingStatus.BOOKED)

    patients.unbind_patient(db, account_id=mine.id, patient_id=patient.id)

    assert patients.require_binding(db, account_id=theirs.id, patient_id=patient.id)


# --- helpers ---------------------------------------------------------------------------


def _race(platform: Platform, action: Callable[[Session], object]) -> list[str]:
    """Run ``action`` in two threads, each in its own transaction, started together."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        session = platform.sessions()
        try:
            barrier.wait()
            action(session)
            session.commit()
            outcomes.append("ok")
        except DomainError as exc:
            session.rollback()
            outcomes.append(exc.code)
        except Exception as exc:  # surfaced in the assertion, not lost in a thread
            session.rollback()
            outcomes.append(repr(exc))
        finally:
            session.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _meet_after(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make the two racers both finish the repository read ``name`` before either goes on.

    If the code under test serialises them (as it should), the second cannot reach this
    point until the first commits; the first then gives up waiting after a second.
    """
    barrier = threading.Barrier(2)
    original = getattr(patient_repo, name)

    def read_then_meet(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=1)
        return result

    monkeypatch.setattr(patient_repo, name, read_then_meet)


def _booking(
    db: Session, platform: Platform, *, account: Account, patient: Patient, status: BookingStatus
) -> Booking:
    """A bare booking row (with the supply rows it needs) in the given status."""
    now = platform.clock.now()
    hospital = Hospital(code="H1", name="Hospital", grade="3A", city="Beijing")
    db.add(hospital)
    db.flush()
    department = Department(hospital_id=hospital.id, code="D1", name="Dept", specialty="x")
    db.add(department)
    db.flush()
    doctor = Doctor(
        hospital_id=hospital.id,
        department_id=department.id,
        code="DR1",
        name="Doctor",
        title=DoctorTitle.CHIEF,
    )
    db.add(doctor)
    db.flush()
    day = (now + timedelta(days=3)).date()
    session = ClinicSession(
        hospital_id=hospital.id,
        his_session_id="S1",
        department_id=department.id,
        doctor_id=doctor.id,
        session_date=day,
        period=Period.MORNING,
        local_start=time(8),
        local_end=time(12),
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=4),
        push_at=now - timedelta(days=1),
        release_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=3),
        fee=Decimal("50.00"),
        capacity=1,
        imported_at=now - timedelta(days=1),
    )
    db.add(session)
    db.flush()
    occupied = status in (BookingStatus.HELD, BookingStatus.BOOKED)
    slot = Slot(
        session_id=session.id,
        number=1,
        starts_at=session.starts_at,
        ends_at=session.starts_at + timedelta(minutes=10),
        state=SlotState(status.value) if occupied else SlotState.OPEN,
        hold_expires_at=now + timedelta(minutes=5),
    )
    db.add(slot)
    db.flush()
    booking = Booking(
        slot_id=slot.id,
        session_id=session.id,
        department_id=department.id,
        session_date=day,
        patient_id=patient.id,
        account_id=account.id,
        channel_id=account.channel_id,
        status=status,
        held_at=now,
        expires_at=now + timedelta(minutes=5),
    )
    db.add(booking)
    db.flush()
    return booking
