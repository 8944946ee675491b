"""The daily anomaly batch over histories built through the booking services, on SQLite and
PostgreSQL: the paper's four rules, a transfer read from the ledger, a family left alone."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.risk_batch import REPORT_DAY, SHANGHAI, Person, Scenes
from factories.world import World, make_world
from fairslot.blacklist.keys import key_for
from fairslot.blacklist.models import Scope
from fairslot.cases import evidence as case_evidence
from fairslot.cases.candidates import SCOPES
from fairslot.cases.models import Case, CaseEvent
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.kinds import SexRestriction
from fairslot.hospitals.schemas import DepartmentIn
from fairslot.patients.identity import Sex
from fairslot.patients.models import Account
from fairslot.risk import repository as risk_repo
from fairslot.risk.facts import RiskSettings
from fairslot.risk.models import RiskAlert
from fairslot.risk.rules import window_ending
from fairslot.schedules.states import Period


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


@pytest.fixture
def scenes(world: World) -> Scenes:
    return Scenes(world)


def alerts(db: Session, rule: str | None = None) -> list[RiskAlert]:
    db.commit()
    query = select(RiskAlert).order_by(RiskAlert.id)
    if rule is not None:
        query = query.where(RiskAlert.rule == rule)
    return list(db.scalars(query))


def one_alert(db: Session, rule: str, entity_kind: str) -> RiskAlert:
    [found] = [a for a in alerts(db, rule) if a.entity_kind == entity_kind]
    return found


def test_one_card_paying_five_bookings_in_one_department_is_an_alert_with_its_bookings(
    world: World, scenes: Scenes
) -> None:
    session = world.session(capacity=6)
    card = "6222020099998888"
    booked = [scenes.book(scenes.person(payer=card), session) for _ in range(5)]

    report = scenes.run()

    alert = one_alert(world.db, "same_payment_same_department", "payment_account")
    assert sorted(alert.booking_ids) == sorted(b.id for b in booked)
    protector = world.platform.protector
    assert alert.entity_key == key_for(Scope.PAYMENT, card, protector=protector)
    assert card not in alert.entity_label and alert.entity_label.endswith("8888")
    assert alert.case_id is not None
    assert report.hits_by_rule["same_payment_same_department"] == 1


def test_four_such_bookings_are_no_alert(world: World, scenes: Scenes) -> None:
    session = world.session(capacity=6)
    for _ in range(4):
        scenes.book(scenes.person(payer="6222020099998888"), session)

    scenes.run()

    assert alerts(world.db, "same_payment_same_department") == []


def test_one_patient_booking_five_departments_is_an_alert_on_the_patient(
    world: World, scenes: Scenes
) -> None:
    person = scenes.person()
    booked = []
    # At most two bookings a day: five departments over three days.
    for i in range(5):
        department = world.department_()
        session = world.session(department=department, day=dt.date(2026, 11, 24 + i // 2))
        booked.append(scenes.book(person, session))

    scenes.run()

    alert = one_alert(world.db, "patient_across_departments", "patient")
    assert alert.entity_key == person.patient.id_hash
    assert alert.entity_label == f"patient ****{person.patient.id_last4}"
    assert sorted(alert.booking_ids) == sorted(b.id for b in booked)


def test_a_man_booked_twice_into_what_became_gynaecology_is_an_alert(
    world: World, scenes: Scenes
) -> None:
    ward = world.department_(specialty="gynaecology")
    man = scenes.person(sex=Sex.MALE)
    booked = [
        scenes.book(man, world.session(department=ward, day=dt.date(2026, 11, 24 + i)))
        for i in range(2)
    ]
    # The hospital's next push marks the department female-only (the hold rule now refuses
    # men, but these two bookings were made before it knew).
    hospitals.upsert_department(
        world.db,
        hospital=world.hospital,
        spec=DepartmentIn(
            code=ward.code,
            name=ward.name,
            specialty="gynaecology",
            sex_restriction=SexRestriction.FEMALE,
        ),
    )
    world.db.commit()

    scenes.run()

    patient_alert = one_alert(world.db, "sex_mismatch", "patient")
    assert sorted(patient_alert.booking_ids) == sorted(b.id for b in booked)
    assert one_alert(world.db, "sex_mismatch", "account").entity_key == f"account:{man.account.id}"


def test_five_cancellations_without_a_visit_are_an_alert_with_the_cancelled_bookings(
    world: World, scenes: Scenes
) -> None:
    session = world.session(capacity=6)
    person = scenes.person()
    cancelled = [scenes.cancel(person, scenes.book(person, session)) for _ in range(5)]

    scenes.run()

    alert = one_alert(world.db, "cancellations_without_visit", "patient")
    assert sorted(alert.booking_ids) == sorted(b.id for b in cancelled)


def test_a_slot_cancelled_and_rebooked_for_another_patient_of_the_account_is_a_transfer(
    world: World, scenes: Scenes
) -> None:
    session = world.session(capacity=3)
    seller = scenes.person(device="scalper-phone", payer="6222020055554444")
    buyer = scenes.person(account=seller.account, device="scalper-phone", payer="6222020055554444")
    first = scenes.book(seller, session)
    scenes.cancel(seller, first)
    slot = next(s for s in world.slots(session) if s.id == first.slot_id)
    assert slot.reopen_at is not None
    world.platform.clock.set(slot.reopen_at + dt.timedelta(minutes=1))  # type: ignore[attr-defined]
    second = scenes.book(buyer, session, slot_id=first.slot_id)

    scenes.run()

    transfer = one_alert(world.db, "transfer", "account")
    assert transfer.entity_key == f"account:{seller.account.id}"
    assert sorted(transfer.booking_ids) == sorted([first.id, second.id])
    assert len(transfer.event_ids) == 2  # the cancellation and the next hold
    device = one_alert(world.db, "transfer", "device")
    assert device.entity_key == key_for(
        Scope.DEVICE, "scalper-phone", protector=world.platform.protector
    )
    assert "scalper-phone" not in device.entity_label
    # The card paid for both bookings: the cancellation carries its booking's payment.
    assert one_alert(world.db, "transfer", "payment_account").booking_ids == transfer.booking_ids


def test_a_family_sharing_one_phone_and_home_network_gets_no_alert_and_no_case(
    world: World, scenes: Scenes
) -> None:
    home = {"wifi": "home-wifi-5G", "ip": "203.0.113.7"}
    phone = "13912345678"
    mum_account = scenes.account(phone=phone)
    dad_account = scenes.account(phone=phone)  # the second account one phone may hold
    mum = scenes.person(account=mum_account, phone=phone, device="mum-phone", **home)
    child = scenes.person(account=mum_account, phone=phone, device="mum-phone", **home)
    dad = scenes.person(account=dad_account, phone=phone, sex=Sex.MALE, device="dad-phone", **home)
    grandma = scenes.person(account=dad_account, phone=phone, device="dad-phone", **home)
    today = world.session(
        day=REPORT_DAY, capacity=6, period=Period.AFTERNOON, start=dt.time(14), end=dt.time(17)
    )
    later = world.session(capacity=4)
    visits = [scenes.book(member, today) for member in (mum, child, dad, grandma)]
    # Mum cannot go on the 25th; dad takes her slot when it comes back.
    handed = scenes.book(mum, later)
    scenes.cancel(mum, handed)
    slot = next(s for s in world.slots(later) if s.id == handed.slot_id)
    assert slot.reopen_at is not None
    world.platform.clock.set(slot.reopen_at + dt.timedelta(minutes=1))  # type: ignore[attr-defined]
    scenes.book(dad, later, slot_id=handed.slot_id)
    world.platform.clock.set(scenes.local(REPORT_DAY, 14, 30))  # type: ignore[attr-defined]
    for visit in visits:
        scenes.check_in(visit)

    report = scenes.run()

    assert alerts(world.db) == []
    assert list(world.db.scalars(select(Case))) == []
    assert report.rings_found == 1 and report.rings_flagged == 0


def grab_program(scenes: Scenes, *, fast: bool) -> list[Person]:
    """Grab software that lost every race: ten identities on three accounts, each hold from
    the next of six emulated devices and twelve proxies. No booking: only the gate's
    request records tie the accounts together."""
    people = []
    for a in range(3):
        account = scenes.account()
        people += [scenes.person(account=account) for _ in range(4 if a < 2 else 2)]
    for attempt in range(3):
        for n, person in enumerate(people):
            person.device = f"emu-{(n + attempt) % 6}"
            person.ip = f"203.0.113.{(n * 3 + attempt) % 12 + 1}"
            scenes.refused_hold(person, decision="review" if fast and attempt == 0 else "allow")
    return people


def test_identities_that_booked_nothing_but_hammered_at_machine_pace_are_a_ring(
    world: World, scenes: Scenes
) -> None:
    people = grab_program(scenes, fast=True)

    report = scenes.run()

    [ring_alert] = alerts(world.db, "ring")
    counts = ring_alert.details["counts"]
    assert (counts["patients"], counts["accounts"], counts["bookings"]) == (10, 3, 0)
    assert counts["flagged_requests"] == 10
    assert "machine_pace" in {r["code"] for r in ring_alert.details["reasons"]}
    [case] = list(world.db.scalars(select(Case)))
    assert (case.subject_kind, case.subject_key) == ("ring", ring_alert.entity_key)
    assert report.rings_flagged == 1
    assert report.requests == 30  # every refused hold, read by the batch
    # What the reviewer may block: every identity and device, under the gate's own keys.
    protector = world.platform.protector
    found = case_evidence.candidates(
        case_evidence.gather(world.db, case=case, protector=protector), protector=protector
    )
    by_scope = {scope: {c.key for c in found if c.scope == scope} for scope in SCOPES}
    assert by_scope["patient"] == {p.patient.id_hash for p in people}
    assert by_scope["account"] == {f"account:{p.account.id}" for p in people}
    assert by_scope["device"] == {
        key_for(Scope.DEVICE, f"emu-{n}", protector=protector) for n in range(6)
    }


def test_the_batch_reads_the_requests_a_booking_does_not_already_say(
    world: World, scenes: Scenes
) -> None:
    ann, bob, cai, dan, eve = (scenes.person() for _ in range(5))
    scenes.request(ann, action="hold")  # allowed: it is a booking, read as one
    scenes.request(ann, action="confirm")
    scenes.request(bob, action="hold", outcome="session_full")
    scenes.request(cai, action="intent")
    scenes.request(dan, action="confirm", decision="review")
    scenes.request(eve, action="bind_patient")
    scenes.request(eve, action="availability", outcome="rate_limited")
    window = window_ending(REPORT_DAY, settings=RiskSettings(), zone=SHANGHAI)

    found = risk_repo.request_facts(world.db, window=window)

    by_patient = {f.patient_key: (f.requests, f.flagged) for f in found}
    assert by_patient == {
        bob.patient.id_hash: (1, 0),
        cai.patient.id_hash: (1, 0),
        dan.patient.id_hash: (1, 1),
        eve.patient.id_hash: (2, 0),
    }
    [eves] = [f for f in found if f.patient_key == eve.patient.id_hash]
    assert (eves.account_id, eves.device_key, eves.ip_key) == (
        eve.account.id,
        world.device_key(eve.device),
        world.network_key(eve.ip),
    )


def test_the_same_identities_at_human_pace_are_no_ring(world: World, scenes: Scenes) -> None:
    grab_program(scenes, fast=False)

    report = scenes.run()

    assert alerts(world.db, "ring") == []
    assert report.rings_found == 1 and report.rings_flagged == 0


def ring(scenes: Scenes, world: World) -> list:
    """Six patients on three accounts, one phone-farm device and one card, filling a
    session."""
    session = world.session(capacity=6)
    members = []
    for _ in range(3):
        account = scenes.account()
        for _ in range(2):
            members.append(
                scenes.person(
                    account=account, device="farm-01", ip="198.51.100.9", payer="6222020077776666"
                )
            )
    return [scenes.book(member, session) for member in members]


def test_a_rings_alerts_land_in_one_case_about_the_ring(world: World, scenes: Scenes) -> None:
    booked = ring(scenes, world)

    report = scenes.run()

    found = alerts(world.db)
    rules = {a.rule for a in found}
    assert {"ring", "shared_device", "shared_payment_account"} <= rules
    assert "same_payment_same_department" in rules
    [ring_alert] = [a for a in found if a.rule == "ring"]
    assert sorted(ring_alert.booking_ids) == sorted(b.id for b in booked)
    assert ring_alert.details["counts"]["patients"] == 6
    assert "farm-01" not in str(ring_alert.details) and "198.51.100.9" not in str(
        ring_alert.details
    )
    [case] = list(world.db.scalars(select(Case)))
    assert {a.case_id for a in found} == {case.id}
    assert (case.subject_kind, case.subject_key) == ("ring", ring_alert.entity_key)
    assert all(a.ring_id == ring_alert.entity_key for a in found)
    assert case.score == max(a.score for a in found)
    [opened] = list(world.db.scalars(select(CaseEvent)))
    assert opened.kind == "opened" and opened.actor == "risk-batch"
    assert sorted(opened.data["alert_ids"]) == sorted(a.id for a in found)
    assert report.rings_flagged == 1 and report.cases_opened == 1


def test_a_ring_that_grows_the_next_day_stays_in_its_open_case(
    world: World, scenes: Scenes
) -> None:
    ring(scenes, world)
    scenes.run()
    [case] = list(world.db.scalars(select(Case)))
    world.db.commit()
    # A seventh identity joins on one of the ring's accounts, from the farm's device.
    account = world.db.scalars(select(RiskAlert).where(RiskAlert.rule == "ring")).one()
    first_accounts = [a["key"] for a in account.details["accounts"]]
    recruit = scenes.person(
        account=world.db.get(Account, int(first_accounts[0].split(":")[1])),
        device="farm-01",
        ip="198.51.100.9",
        payer="6222020077776666",
    )
    scenes.book(recruit, world.session(capacity=1))
    world.platform.clock.set(scenes.local(REPORT_DAY + dt.timedelta(days=1), 9))  # type: ignore[attr-defined]

    scenes.run(REPORT_DAY + dt.timedelta(days=1))

    rings = alerts(world.db, "ring")
    assert len(rings) == 2 and rings[0].entity_key != rings[1].entity_key
    assert _count(world.db, Case) == 1
    assert {a.case_id for a in alerts(world.db)} == {case.id}
    kinds = [e.kind for e in world.db.scalars(select(CaseEvent).order_by(CaseEvent.id))]
    assert kinds == ["opened", "alert_added"]


def test_running_the_same_date_again_adds_nothing(world: World, scenes: Scenes) -> None:
    ring(scenes, world)
    first = scenes.run()
    before = (len(alerts(world.db)), _count(world.db, Case), _count(world.db, CaseEvent))

    again = scenes.run()

    assert (len(alerts(world.db)), _count(world.db, Case), _count(world.db, CaseEvent)) == before
    assert again.new_alerts == 0 and again.cases_opened == again.cases_updated == 0
    assert again.hits_by_rule == first.hits_by_rule
    assert again.run.id == first.run.id and again.run.runs == 2


def _count(db: Session, model: type) -> int:
    db.commit()
    return len(list(db.scalars(select(model))))


def close(db: Session, case_id: int) -> None:
    """What the review workflow (``cases/transitions.py``, not this module's) does when a
    reviewer dismisses a case; arranged directly so this test needs no reviewer."""
    case = db.get(Case, case_id)
    assert case is not None
    case.status = "dismissed"  # type: ignore[assignment]
    case.closed_at = case.updated_at
    db.commit()


def test_a_closed_cases_subject_gets_a_new_case_only_for_new_evidence(
    world: World, scenes: Scenes
) -> None:
    session = world.session(capacity=8)
    person = scenes.person()
    for _ in range(5):
        scenes.cancel(person, scenes.book(person, session))
    scenes.run(REPORT_DAY)
    [first] = list(world.db.scalars(select(Case).where(Case.subject_kind == "patient")))
    close(world.db, first.id)

    # The next day the same week is still in the window: the same evidence, reviewed.
    world.platform.clock.set(scenes.local(REPORT_DAY + dt.timedelta(days=1), 9))  # type: ignore[attr-defined]
    next_day = scenes.run(REPORT_DAY + dt.timedelta(days=1))
    assert next_day.new_alerts > 0 and next_day.already_reviewed == 1
    assert patient_cases(world.db) == [first.id]

    # A sixth cancellation is something new: the subject is back in the queue, in a new case.
    scenes.cancel(person, scenes.book(person, session))
    third = scenes.run(REPORT_DAY + dt.timedelta(days=2))

    cases = [world.db.get(Case, case_id) for case_id in patient_cases(world.db)]
    assert [c.status for c in cases if c] == ["dismissed", "open"]
    assert third.cases_opened >= 1
    [latest] = [
        a
        for a in alerts(world.db, "cancellations_without_visit")
        if a.entity_kind == "patient" and a.run_date == REPORT_DAY + dt.timedelta(days=2)
    ]
    assert latest.case_id == patient_cases(world.db)[1] and len(latest.booking_ids) == 6


def patient_cases(db: Session) -> list[int]:
    db.commit()
    query = select(Case.id).where(Case.subject_kind == "patient").order_by(Case.id)
    return list(db.scalars(query))
