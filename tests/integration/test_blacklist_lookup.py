"""IT's reads of the blacklist on SQLite and PostgreSQL: finding entries by an identifier
typed in (hashed as the gate hashes it), by label and by state, and an entry's history
with what was checked when it was lifted in person."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.demand import resident_id
from fairslot.blacklist import lookup, service
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.blacklist.states import EntryState, IdDocument
from fairslot.bootstrap import Platform
from fairslot.clock import ManualClock
from fairslot.errors import DomainError
from fairslot.staff.audit import StaffActor, cli_actor
from fairslot.staff.models import StaffAction

IT = cli_actor("it-li")


def block(
    db: Session,
    platform: Platform,
    scope: Scope,
    value: str,
    *,
    days: int | None = None,
    case_ref: str | None = None,
    actor: StaffActor = IT,
) -> BlacklistEntry:
    entry = service.block(
        db,
        scope=scope,
        value=value,
        reason=f"ring confirmed ({value[-2:]})",
        actor=actor,
        now=platform.clock.now(),
        protector=platform.protector,
        days=days,
        case_ref=case_ref,
    )
    db.commit()
    return entry


def lift(db: Session, platform: Platform, entry: BlacklistEntry, **extra: object) -> None:
    service.lift_in_person(
        db,
        entry_id=entry.id,
        actor=IT,
        checked="ID card seen; the phone is her own",
        now=platform.clock.now(),
        **extra,  # type: ignore[arg-type]
    )
    db.commit()


def search(db: Session, platform: Platform, **filters: object) -> lookup.SearchResult:
    result = lookup.search(
        db,
        now=platform.clock.now(),
        protector=platform.protector,
        **filters,  # type: ignore[arg-type]
    )
    db.commit()
    return result


def ids(result: lookup.SearchResult) -> list[int]:
    return [row.entry.id for row in result.rows]


def test_an_identifier_typed_in_finds_every_entry_stored_under_its_key(
    db: Session, platform: Platform
) -> None:
    first = block(db, platform, Scope.PHONE, "139 0013 9000")
    lift(db, platform, first)
    again = block(db, platform, Scope.PHONE, "13900139000")
    other_phone = block(db, platform, Scope.PHONE, "13900139001")
    same_text_as_device = block(db, platform, Scope.DEVICE, "13900139000")

    typed = search(db, platform, value="+86 139-0013-9000", scope=Scope.PHONE)
    any_scope = search(db, platform, value="13900139000")

    # Normalised as a phone: however it is typed, the stored key matches, lifted or not.
    assert ids(typed) == [again.id, first.id]
    assert [row.state for row in typed.rows] == [EntryState.ACTIVE, EntryState.LIFTED]
    # In any scope, the digits are a phone and could also be a device id.
    assert ids(any_scope) == [same_text_as_device.id, again.id, first.id]
    assert other_phone.id not in ids(typed) + ids(any_scope)


def test_a_value_that_cannot_be_an_identifier_of_the_scope_finds_nothing(
    db: Session, platform: Platform
) -> None:
    block(db, platform, Scope.PATIENT, resident_id())

    result = search(db, platform, value="not-an-id", scope=Scope.PATIENT)

    assert (result.rows, result.invalid_value) == ([], True)
    assert search(db, platform, value="   ").rows  # a blank value is no filter


def test_the_state_filter_tells_active_expired_and_lifted_apart(
    db: Session, platform: Platform, clock: ManualClock
) -> None:
    active = block(db, platform, Scope.NETWORK, "198.51.100.1")
    lifted = block(db, platform, Scope.NETWORK, "198.51.100.2", days=30)
    expired = block(db, platform, Scope.NETWORK, "198.51.100.3", days=1)
    closed = block(db, platform, Scope.NETWORK, "198.51.100.4", days=1)
    lift(db, platform, lifted)
    clock.advance(dt.timedelta(days=2))
    # A new block on an expired identifier closes the old entry: it still counts as expired.
    reblocked = block(db, platform, Scope.NETWORK, "198.51.100.4")

    def states(state: EntryState | None) -> set[int]:
        return set(ids(search(db, platform, state=state)))

    assert states(EntryState.ACTIVE) == {active.id, reblocked.id}
    assert states(EntryState.LIFTED) == {lifted.id}
    assert states(EntryState.EXPIRED) == {expired.id, closed.id}
    assert states(None) == {active.id, lifted.id, expired.id, closed.id, reblocked.id}


def test_the_list_filters_by_scope_and_label_and_pages_newest_first(
    db: Session, platform: Platform
) -> None:
    phones = [block(db, platform, Scope.PHONE, f"1390013900{n}") for n in range(5)]
    device = block(db, platform, Scope.DEVICE, "grab-bot-77")

    first = search(db, platform, scope=Scope.PHONE, limit=3)
    second = search(db, platform, scope=Scope.PHONE, limit=3, before_id=first.next_before)

    assert ids(first) == [p.id for p in reversed(phones[2:])]
    assert ids(second) == [p.id for p in reversed(phones[:2])]
    assert second.next_before is None
    assert ids(search(db, platform, label="gra")) == [device.id]
    assert ids(search(db, platform, label="%")) == []  # a wildcard is matched as text


def test_an_entrys_history_shows_who_blocked_it_from_which_case_and_what_was_checked(
    db: Session, platform: Platform, clock: ManualClock
) -> None:
    entry = block(db, platform, Scope.PHONE, "13900139000", case_ref="7")
    clock.advance(dt.timedelta(days=3))
    lift(
        db,
        platform,
        entry,
        document=IdDocument.RESIDENT_ID_CARD,
        checked_by="Desk clerk Zhou",
    )

    history = lookup.history(db, entry_id=entry.id, now=platform.clock.now())

    assert history.state == EntryState.LIFTED
    assert [(e.kind, e.actor) for e in history.events] == [
        ("blacklist.add", "cli:it-li"),
        ("blacklist.lift", "cli:it-li"),
    ]
    assert history.events[0].data["case"] == "7"
    assert history.events[1].reason == "ID card seen; the phone is her own"
    assert history.lift is not None
    assert (history.lift.document, history.lift.checked_by, history.lift.note) == (
        IdDocument.RESIDENT_ID_CARD,
        "Desk clerk Zhou",
        "ID card seen; the phone is her own",
    )
    assert history.lift.at == platform.clock.now()
    row = db.scalars(select(StaffAction).where(StaffAction.action == "blacklist.lift")).one()
    assert row.data["document"] == "resident_id_card" and row.data["in_person"] is True


def test_an_expired_entrys_history_ends_with_its_expiry(
    db: Session, platform: Platform, clock: ManualClock
) -> None:
    entry = block(db, platform, Scope.DEVICE, "grab-tool", days=7)
    clock.advance(dt.timedelta(days=8))

    history = lookup.history(db, entry_id=entry.id, now=platform.clock.now())

    assert history.state == EntryState.EXPIRED
    assert [e.kind for e in history.events] == ["blacklist.add", "expired"]
    assert history.events[-1].at == entry.expires_at
    assert history.lift is None


def test_the_history_of_an_unknown_entry_is_not_found(db: Session, platform: Platform) -> None:
    with pytest.raises(DomainError) as refused:
        lookup.history(db, entry_id=404, now=platform.clock.now())
    assert refused.value.code == "entry_not_found"
