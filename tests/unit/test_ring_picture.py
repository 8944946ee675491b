"""Where the console draws a case's ring: three columns (accounts, patients, the
identifiers they share), packed closer when long, and past that each linked group as
concentric rings; every node inside the picture, always in the same place."""

from __future__ import annotations

import itertools

from fairslot.cases.ring_graph import Edge, Node, RingGraph
from fairslot.web.console.ring_picture import MAX_DENSE, ROOMY, draw


def ring(patients: int) -> RingGraph:
    nodes = [Node("account:1", "account", "account 1", patients, False)]
    nodes += [Node(f"patient:{i}", "patient", f"王* ·{i:04d}", 0, False) for i in range(patients)]
    nodes += [Node("device:d", "device", "bot***-1", patients, True)]
    edges = [Edge("account:1", f"patient:{i}", False) for i in range(patients)]
    edges += [Edge("device:d", f"patient:{i}", True) for i in range(patients)]
    return RingGraph(nodes=nodes, edges=edges)


def inside(picture_width: int, picture_height: int, x: float, y: float) -> bool:
    return 0 <= x <= picture_width and 0 <= y <= picture_height


def test_a_small_ring_is_drawn_in_three_columns_with_headings() -> None:
    picture = draw(ring(5))

    xs = {n.scope: n.x for n in picture.nodes}
    assert xs["account"] < xs["patient"] < xs["device"]
    assert [name for _, name in picture.headings] == ["account", "patient", "other"]
    assert all(inside(picture.width, picture.height, n.x, n.y) for n in picture.nodes)
    assert all(n.labelled for n in picture.nodes)
    patients = sorted(n.y for n in picture.nodes if n.scope == "patient")
    assert min(b - a for a, b in itertools.pairwise(patients)) >= 50
    assert [e.shared for e in picture.edges] == sorted(e.shared for e in picture.edges)


def test_a_long_column_is_packed_with_the_patients_labels_beside_them() -> None:
    picture = draw(ring(ROOMY + 4))

    assert picture.headings
    patients = [n for n in picture.nodes if n.scope == "patient"]
    assert all(n.anchor == "end" and n.lx < n.x for n in patients)
    assert all(inside(picture.width, picture.height, n.x, n.y) for n in picture.nodes)


def test_a_ring_too_long_for_columns_is_drawn_as_rings_the_same_way_every_time() -> None:
    first, again = draw(ring(MAX_DENSE + 6)), draw(ring(MAX_DENSE + 6))

    assert first.headings == ()
    assert [(n.x, n.y) for n in first.nodes] == [(n.x, n.y) for n in again.nodes]
    assert all(inside(first.width, first.height, n.x, n.y) for n in first.nodes)
    device = next(n for n in first.nodes if n.scope == "device")
    assert (device.x, device.y) == (first.width / 2, first.height / 2)  # what ties it all
    assert [n.labelled for n in first.nodes if n.shared] == [True]


def test_nothing_to_draw_is_an_empty_picture() -> None:
    assert draw(RingGraph(nodes=[], edges=[])).nodes == []
