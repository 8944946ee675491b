"""What the review screens read, on SQLite and PostgreSQL: the queue by status, and a case
page's findings, timeline, ring and — for each identifier offered for blocking — how many
other patients the block would also stop."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from factories.review import LOCK, actions, seen, take
from factories.risk import AlertSpec, book_for_patients, open_case, payment_case
from factories.world import World
from fairslot.audit.models import RequestRecord
from fairslot.cases import case_page, review
from fairslot.cases import reading_repository as reading
from fairslot.cases.queue import queue
from fairslot.cases.ring_graph import node_id
from fairslot.cases.states import CaseStatus
from fairslot.staff.audit import StaffActor

TZ = ZoneInfo("Asia/Shanghai")


def read(world: World, case_id: int, who: StaffActor) -> case_page.CasePage:
    found = case_page.read(
        world.db,
        case_id=case_id,
        actor=who,
        now=world.now(),
        protector=world.platform.protector,
        tz=TZ,
    )
    world.db.commit()
    return found


def refused_hold(world: World, *, account_id: int, patient_key: str, device: str) -> None:
    world.db.add(
        RequestRecord(
            at=world.now(),
            action="hold",
            outcome="request_blocked",
            channel_id=world.channel.id,
            account_id=account_id,
            patient_key=patient_key,
            slot_id="slot-x",
            device_key=world.device_key(device),
            ip_key=world.network_key("198.51.100.1"),
            ip_label="198.51.100.x",
            decision="block",
            reasons="blacklisted",
        )
    )
    world.db.commit()


def test_a_family_sharing_the_scalpers_network_is_counted_before_the_network_is_blocked(
    world: World, wang: StaffActor
) -> None:
    scalper = book_for_patients(world, patients=3, ip="203.0.113.50")
    book_for_patients(world, patients=2, ip="203.0.113.50")  # a family on the same network
    case = payment_case(world, scalper)
    take(world, wang)

    page = read(world, case.id, wang)

    offers = {so.scope: so for so in page.scopes}
    assert [o.others for o in offers["network"].offers] == [2]
    assert offers["network"].warn
    assert [o.others for o in offers["device"].offers] == [0]
    assert [o.others for o in offers["payment"].offers] == [0]
    assert [o.others for o in offers["patient"].offers] == [0, 0, 0]
    assert not offers["device"].warn and not offers["payment"].warn


def test_other_patients_are_counted_through_bindings_bookings_and_requests(
    world: World,
) -> None:
    op = book_for_patients(world, patients=2, device="shared-tablet")
    world.patient(account=op.account)  # a patient bound to the account, never booked
    _, stranger = world.patient()
    refused_hold(world, account_id=999, patient_key=stranger.id_hash, device="shared-tablet")
    since = world.now() - dt.timedelta(days=1)
    mine = [p.id for p in op.patients]
    tablet = world.device_key("shared-tablet")  # stored as its keyed hash

    by_account = reading.linked_patient_counts(
        world.db, scope="account", values=[str(op.account.id)], exclude=mine, since=since
    )
    by_device = reading.linked_patient_counts(
        world.db, scope="device", values=[tablet], exclude=mine, since=since
    )
    nobody = reading.linked_patient_counts(
        world.db, scope="payment", values=[op.payment_hash], exclude=mine, since=since
    )

    assert by_account == {str(op.account.id): 1}  # the bound patient
    assert by_device == {tablet: 1}  # the stranger's refused request
    assert nobody == {}


def test_the_case_page_shows_findings_timeline_ring_and_is_audited(
    world: World, wang: StaffActor
) -> None:
    op = book_for_patients(world, patients=3)
    case = open_case(
        world,
        subject_kind="payment_account",
        subject_key=op.payment_hash,
        subject_label="payment 62****0001",
        alerts=[
            AlertSpec(
                rule="same_payment_same_department",
                entity_kind="payment_account",
                entity_key=op.payment_hash,
                entity_label="payment 62****0001",
                score=1.4,
                explanation="one payment account paid for 7 bookings; threshold 5",
                booking_ids=op.booking_ids,
                details={"scope": "payment", "figure": 7, "threshold": 5},
            )
        ],
    )
    refused_hold(world, account_id=op.account.id, patient_key=op.patients[0].id_hash, device="x")

    page = read(world, case.id, wang)

    [finding] = page.findings
    assert (finding.figure, finding.threshold, finding.department) == (
        "7",
        "5",
        world.department.name,
    )
    kinds = [(e.source, e.kind) for e in page.timeline]
    assert kinds.count(("ledger", "held")) == 3 and kinds.count(("ledger", "booked")) == 3
    assert kinds[-1] == ("request", "hold") and page.timeline[-1].tone == "refused"
    assert all(e.slot_id for e in page.timeline)
    shared = {n.id for n in page.graph.shared}
    device = node_id("device", world.platform.protector.keyed_hash(op.device, purpose="device"))
    assert device in shared and node_id("payment", op.payment_hash) in shared
    patients = [n for n in page.graph.nodes if n.scope == "patient"]
    assert len(patients) == 3
    assert not page.mine  # nobody took it
    assert actions(world, case.id) == ["case.view"]


def test_the_reader_holding_the_case_may_decide_it_until_the_claim_lapses(
    world: World, wang: StaffActor, li: StaffActor
) -> None:
    case = payment_case(world, book_for_patients(world, patients=2))
    take(world, wang)

    assert read(world, case.id, wang).mine
    assert not read(world, case.id, li).mine
    world.platform.clock.advance(dt.timedelta(minutes=LOCK + 1))
    assert not read(world, case.id, wang).mine


def test_the_queue_lists_undecided_cases_best_first_and_the_recent_decisions(
    world: World, wang: StaffActor
) -> None:
    low = payment_case(world, book_for_patients(world, patients=2), score=1.1)
    high = payment_case(world, book_for_patients(world, patients=2), score=2.0)
    decided = payment_case(world, book_for_patients(world, patients=2), score=3.0)
    take(world, wang)  # the highest: ``decided``
    review.dismiss(
        world.db,
        case_id=decided.id,
        reason="a family",
        actor=wang,
        now=world.now(),
        evidence_version=seen(world, decided.id),
    )
    world.db.commit()

    everything = queue(world.db, status=None, limit=50, tz=TZ)
    dismissed = queue(world.db, status=CaseStatus.DISMISSED, limit=50, tz=TZ)

    assert [r.case.case_id for r in everything.rows] == [high.id, low.id]
    assert [r.case.case_id for r in everything.decided] == [decided.id]
    assert everything.rows[0].rules == ["same_payment_same_department"]
    assert everything.counts == {"open": 2, "dismissed": 1} and everything.waiting == 2
    assert [r.case.case_id for r in dismissed.rows] == [decided.id] and dismissed.decided == []


def test_request_records_are_read_by_the_subjects_accounts_and_devices(world: World) -> None:
    op = book_for_patients(world, patients=1)
    refused_hold(world, account_id=op.account.id, patient_key=op.patients[0].id_hash, device="z")
    refused_hold(world, account_id=12345, patient_key="other", device=op.device)
    refused_hold(world, account_id=54321, patient_key="other", device="unrelated")

    found = reading.request_records(
        world.db,
        account_ids={op.account.id},
        device_keys={world.device_key(op.device)},
        since=world.now() - dt.timedelta(days=1),
        limit=10,
    )

    assert sorted(r.account_id or 0 for r in found) == sorted([op.account.id, 12345])
