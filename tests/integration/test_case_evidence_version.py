"""A decision is made on the evidence the reviewer read, on SQLite and PostgreSQL.

The batch files new alerts into a case that is still open, also while a reviewer holds
it. A confirmation blacklists identifiers gathered from the case's alerts at that moment,
so an alert filed after the reviewer read the case would have its patients, phones and
devices blocked unseen; a dismissal would close it unread. ``cases.evidence_version``
moves on with every filing, and a decision naming an older one is refused
(``case_evidence_changed``) — whether the filing committed before the decision began or
between its read and its write.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select

from factories.review import events, refused, seen, take
from factories.risk import book_for_patients, file_later_alert, payment_case
from factories.world import World
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.cases import evidence as ev
from fairslot.cases import review, transitions
from fairslot.cases.models import Case
from fairslot.cases.states import CaseStatus
from fairslot.errors import DomainError


def _confirm(world: World, wang, case_id: int, evidence_version: int):
    return review.confirm(
        world.db,
        case_id=case_id,
        scopes=["phone"],
        days=None,
        reason="one payer for many patients",
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
        policy=world.policy,
        rng=world.platform.rng,
        evidence_version=evidence_version,
    )


def test_a_confirmation_made_before_new_alerts_came_in_is_refused_and_blocks_nothing(
    world: World, wang
) -> None:
    first = book_for_patients(world, patients=2)
    case = payment_case(world, first)
    take(world, wang)
    read = seen(world, case.id)  # the reviewer reads the case
    world.db.commit()
    latecomer = book_for_patients(world, patients=2)
    file_later_alert(world, case, latecomer.booking_ids)
    world.db.expire_all()  # the decision is a request of its own

    code = refused(
        review.confirm,
        world.db,
        case_id=case.id,
        scopes=["phone"],
        days=None,
        reason="one payer for many patients",
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
        policy=world.policy,
        rng=world.platform.rng,
        evidence_version=read,
    )

    assert code == "case_evidence_changed"
    world.db.rollback()
    assert world.db.scalars(select(BlacklistEntry)).all() == []
    still = world.db.get_one(Case, case.id)
    assert still.status == CaseStatus.IN_REVIEW and still.evidence_version == read + 1

    # Read again, the reviewer sees the latecomer's bookings and confirms: now its
    # patients' phones are blocked with the first operation's, knowingly.
    again = seen(world, case.id)
    world.db.commit()
    result = _confirm(world, wang, case.id, again)
    world.db.commit()
    assert result.case.status == CaseStatus.CONFIRMED
    blocked = {
        e.key_hash for e in world.db.scalars(select(BlacklistEntry)) if e.scope == Scope.PHONE
    }
    assert {p.phone_hash for p in latecomer.patients} <= blocked
    assert events(world, case.id)[-1] == "confirmed"


def test_a_dismissal_made_before_new_alerts_came_in_is_refused(world: World, wang) -> None:
    case = payment_case(world, book_for_patients(world, patients=2))
    take(world, wang)
    read = seen(world, case.id)
    world.db.commit()
    file_later_alert(world, case, book_for_patients(world, patients=2).booking_ids)
    world.db.expire_all()

    assert (
        refused(
            review.dismiss,
            world.db,
            case_id=case.id,
            reason="a family",
            actor=wang,
            now=world.now(),
            evidence_version=read,
        )
        == "case_evidence_changed"
    )
    world.db.rollback()
    assert world.db.get_one(Case, case.id).status == CaseStatus.IN_REVIEW


def test_alerts_filed_between_the_decisions_read_and_its_write_refuse_it(
    world: World, wang
) -> None:
    """The case row tells, not the read: a filing that commits after the decision loaded
    the case (and gathered its evidence) still makes the closing update find nothing."""
    case = payment_case(world, book_for_patients(world, patients=2))
    take(world, wang)
    loaded = world.db.get_one(Case, case.id)
    read = loaded.evidence_version
    file_later_alert(world, case, book_for_patients(world, patients=2).booking_ids)

    try:
        transitions.confirm(
            world.db,
            case=loaded,
            actor=wang,
            now=world.now(),
            reason="one payer",
            data={},
            evidence_version=read,
        )
    except DomainError as exc:
        assert exc.code == "case_changed"
    else:
        raise AssertionError("the confirmation closed a case that received alerts meanwhile")
    world.db.rollback()
    assert world.db.get_one(Case, case.id).status == CaseStatus.IN_REVIEW


def test_the_case_summary_shows_its_evidence_version(world: World, wang) -> None:
    case = payment_case(world, book_for_patients(world, patients=2))
    take(world, wang)
    evidence = ev.evidence(
        world.db,
        case=world.db.get_one(Case, case.id),
        protector=world.platform.protector,
        now=world.now(),
        tz=ZoneInfo(world.platform.settings.default_timezone),
    )
    assert evidence.case.evidence_version == 1
    world.db.commit()
    file_later_alert(world, case, book_for_patients(world, patients=2).booking_ids)
    world.db.expire_all()
    evidence = ev.evidence(
        world.db,
        case=world.db.get_one(Case, case.id),
        protector=world.platform.protector,
        now=world.now(),
        tz=ZoneInfo(world.platform.settings.default_timezone),
    )
    assert evidence.case.evidence_version == 2
    assert len(evidence.alerts) == 2
