"""Which case an alert goes to, and when a closed case's subject comes back. No database."""

from __future__ import annotations

from fairslot.cases.grouping import (
    Evidence,
    Subject,
    already_reviewed,
    continuing_case,
    subject_of,
)

RING = Subject(kind="ring", key="r-1", label="ring r-1")
RINGS = {("device", "dev-hash"): RING, ("patient", "p-1"): RING}


def test_an_alert_on_a_ring_member_belongs_to_the_ring() -> None:
    found = subject_of(
        entity_kind="device", entity_key="dev-hash", entity_label="device ***", rings=RINGS
    )
    assert found == RING


def test_an_alert_outside_every_flagged_ring_is_about_its_own_entity() -> None:
    found = subject_of(
        entity_kind="patient", entity_key="p-2", entity_label="patient ****1234", rings=RINGS
    )
    assert found == Subject(kind="patient", key="p-2", label="patient ****1234")


def test_the_same_key_of_another_kind_is_another_entity() -> None:
    found = subject_of(entity_kind="phone", entity_key="p-1", entity_label="phone", rings=RINGS)
    assert found.kind == "phone"


def test_a_ring_alert_is_about_the_ring() -> None:
    found = subject_of(entity_kind="ring", entity_key="r-1", entity_label="ring", rings=RINGS)
    assert (found.kind, found.key) == ("ring", "r-1")


def test_evidence_already_shown_to_a_reviewer_is_not_new() -> None:
    reviewed = Evidence.of(booking_ids=["b1", "b2", "b3"], event_ids=[7])
    assert already_reviewed(Evidence.of(booking_ids=["b1", "b3"], event_ids=[7]), reviewed=reviewed)


def test_one_new_booking_or_event_is_new_evidence() -> None:
    reviewed = Evidence.of(booking_ids=["b1", "b2"], event_ids=[7])
    assert not already_reviewed(
        Evidence.of(booking_ids=["b1", "b9"], event_ids=[]), reviewed=reviewed
    )
    assert not already_reviewed(Evidence.of(booking_ids=[], event_ids=[8]), reviewed=reviewed)


def ring(key: str, *members: str) -> Subject:
    return Subject(kind="ring", key=key, label=f"ring {key}", members=frozenset(members))


def test_a_ring_that_gained_a_member_continues_the_open_case_it_shares_patients_with() -> None:
    grown = ring("r-2", "p-1", "p-2", "p-3", "p-new")
    open_rings = {11: {"p-9"}, 12: {"p-1", "p-2", "p-3"}, 13: {"p-3"}}
    assert continuing_case(grown, open_rings=open_rings) == 12


def test_a_ring_sharing_no_patient_with_an_open_ring_case_continues_none() -> None:
    assert continuing_case(ring("r-2", "p-1"), open_rings={11: {"p-9"}}) is None
    assert continuing_case(ring("r-2", "p-1"), open_rings={}) is None


def test_only_rings_continue_cases() -> None:
    patient = Subject(kind="patient", key="p-1", label="patient", members=frozenset({"p-1"}))
    assert continuing_case(patient, open_rings={11: {"p-1"}}) is None
