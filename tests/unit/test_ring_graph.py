"""The ring of a case as a graph: the case's identifiers as nodes under their blacklist
keys, links from bookings, bindings and requests, and the identifiers several patients
share marked — what the console draws."""

from __future__ import annotations

from fairslot.cases.candidates import Candidate, PersonFacts
from fairslot.cases.ring_graph import Link, build, node_id


def hashed(value: str, *, purpose: str) -> str:
    return f"{purpose}#{value}"


def person(pid: int, phone: str = "ph-1") -> PersonFacts:
    return PersonFacts(
        patient_id=pid,
        id_hash=f"id-{pid}",
        phone_hash=phone,
        id_masked=f"110***********{pid:04d}",
        phone_masked="+86139****9288",
    )


def candidates(*extra: Candidate) -> list[Candidate]:
    found = [Candidate("patient", f"id-{p}", f"110***{p}", ()) for p in (1, 2, 3)]
    found += [
        Candidate("phone", "ph-1", "+86139****9288", ()),
        Candidate("account", "account:7", "account 7", ()),
        Candidate("device", "device#bot-1", "bot***-1", ()),
        Candidate("network", "network#10.0.0.9", "ip 10.***.9", ()),
        Candidate("payment", "card-1", "62****9999", ()),
    ]
    return found + list(extra)


def test_identifiers_several_patients_share_are_marked_and_their_links_too() -> None:
    graph = build(
        candidates=candidates(),
        people=[person(1), person(2), person(3, phone="ph-other")],
        account_phones={7: "ph-1"},
        names={1: "王伟", 2: "王芳", 3: "李强"},
        links=[
            Link(patient_id=p, account_id=7, device_key="device#bot-1", payment_hash="card-1")
            for p in (1, 2, 3)
        ]
        + [Link(patient_id=1, ip_key="network#10.0.0.9")],
    )

    nodes = {n.id: n for n in graph.nodes}
    assert nodes[node_id("device", "device#bot-1")].patients == 3
    assert nodes[node_id("device", "device#bot-1")].shared
    assert nodes[node_id("phone", "ph-1")].patients == 2 and nodes[node_id("phone", "ph-1")].shared
    assert not nodes[node_id("network", "network#10.0.0.9")].shared  # one patient only
    assert not nodes[node_id("account", "account:7")].shared  # an account books for family
    login = (node_id("account", "account:7"), node_id("phone", "ph-1"))
    edges = {(e.source, e.target): e.shared for e in graph.edges}
    assert edges[tuple(sorted(login))] is False  # the login phone is no ring link
    assert edges[tuple(sorted((node_id("patient", "id-1"), node_id("payment", "card-1"))))]


def test_patients_are_labelled_by_masked_name_and_id_tail_and_phones_without_country_code() -> None:
    graph = build(
        candidates=candidates(),
        people=[person(1)],
        account_phones={},
        names={1: "王伟"},
        links=[],
    )

    labels = {n.id: n.label for n in graph.nodes}
    assert labels[node_id("patient", "id-1")] == "王* ·0001"
    assert labels[node_id("phone", "ph-1")] == "139****9288"


def test_links_to_identifiers_outside_the_case_are_dropped() -> None:
    graph = build(
        candidates=candidates(),
        people=[person(1)],
        account_phones={},
        names={},
        links=[Link(patient_id=1, device_key="device#someone-else", account_id=99)],
    )

    assert all("someone-else" not in e.target and "99" not in e.target for e in graph.edges)


def test_a_request_without_a_patient_links_its_account_to_its_device() -> None:
    graph = build(
        candidates=candidates(),
        people=[],
        account_phones={},
        names={},
        links=[Link(account_id=7, device_key="device#bot-1")],
    )

    assert [(e.source, e.target) for e in graph.edges] == [
        (node_id("account", "account:7"), node_id("device", "device#bot-1"))
    ]
