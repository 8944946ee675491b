"""Where each node of a case's ring goes in the picture, scaled into the SVG's view box.
The template draws it as an inline ``<svg class="ring">`` with presentation attributes
only (the page's CSP allows no inline style).

A ring is drawn in three columns: accounts, the patients they book for, and the
identifiers the patients share (phones, devices, networks, payment accounts) — each column
ordered to keep lines from crossing, labels beside the nodes; a long column packs its
nodes closer. A ring too large even for that is drawn group by group, each linked group in
a cell of its own as concentric rings (what ties it together at the centre, its patients
around), with only the shared identifiers labelled. Positions are computed, never random:
the same case is always drawn the same way.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from fairslot.cases.ring_graph import Node, RingGraph

WIDTH: Final = 640
MIN_HEIGHT: Final = 180
GROUPS_ACROSS: Final = 2  # linked groups side by side when drawn group by group
CELL_HEIGHT: Final = 280
ONE_GROUP_HEIGHT: Final = 520
TOP: Final = 60.0  # the column headings and a patient's label above the first node
BOTTOM: Final = 26.0
# Columns up to this long get room for a label above each patient; up to MAX_DENSE they
# are packed, labels beside the nodes; past that, drawn group by group.
ROOMY: Final = 8
MAX_DENSE: Final = 24
ROW: Final = 56.0
DENSE_ROW: Final = 30.0
RADIUS: Final = 15.0
DENSE_RADIUS: Final = 11.0
# Drawn group by group, past this many nodes only shared identifiers keep a label.
LABEL_ALL_UP_TO: Final = 30
# Column x positions and on which side of its node a label goes (patients: above).
_COLUMNS: Final = {
    "account": (120.0, "end"),
    "patient": (320.0, "middle"),
    "other": (500.0, "start"),
}


@dataclass(frozen=True)
class PlacedNode:
    id: str
    scope: str
    label: str
    x: float
    y: float
    r: float
    shared: bool
    patients: int
    labelled: bool
    # Where the label goes: its anchor ("start", "middle", "end") and position.
    anchor: str
    lx: float
    ly: float


@dataclass(frozen=True)
class PlacedEdge:
    x1: float
    y1: float
    x2: float
    y2: float
    shared: bool


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    nodes: list[PlacedNode]
    edges: list[PlacedEdge]
    labels: dict[str, str]  # node id → label, for the table of links
    scopes: dict[str, str]  # node id → scope
    # Column headings of the three-column drawing: (x, "account" | "patient" | "other").
    headings: tuple[tuple[float, str], ...] = ()


def draw(graph: RingGraph) -> Picture:
    if not graph.nodes:
        return Picture(WIDTH, MIN_HEIGHT, [], [], {}, {})
    columns = _columns(graph)
    headings: tuple[tuple[float, str], ...] = ()
    if max(len(c) for c in columns.values()) <= MAX_DENSE:
        height, nodes = _in_columns(columns)
        headings = tuple((_COLUMNS[name][0], name) for name, c in columns.items() if c)
    else:
        height, nodes = _by_groups(graph)
    at = {n.id: n for n in nodes}
    edges = sorted(
        (
            PlacedEdge(
                x1=at[e.source].x,
                y1=at[e.source].y,
                x2=at[e.target].x,
                y2=at[e.target].y,
                shared=e.shared,
            )
            for e in graph.edges
        ),
        key=lambda e: e.shared,  # shared links last: drawn over the others
    )
    return Picture(
        width=WIDTH,
        height=height,
        nodes=nodes,
        edges=edges,
        labels={n.id: n.label for n in graph.nodes},
        scopes={n.id: n.scope for n in graph.nodes},
        headings=headings,
    )


def _column_of(node: Node) -> str:
    return node.scope if node.scope in ("account", "patient") else "other"


def _columns(graph: RingGraph) -> dict[str, list[Node]]:
    """The three columns, each ordered by where its neighbours sit (a barycentre pass:
    accounts as given, patients by their accounts, identifiers by their patients)."""
    neighbours: dict[str, set[str]] = defaultdict(set)
    for e in graph.edges:
        neighbours[e.source].add(e.target)
        neighbours[e.target].add(e.source)
    columns: dict[str, list[Node]] = {"account": [], "patient": [], "other": []}
    for node in graph.nodes:  # already in scope order, then label
        columns[_column_of(node)].append(node)
    rank = {n.id: float(i) for i, n in enumerate(columns["account"])}
    for name in ("patient", "other"):
        column = columns[name]
        before = {n.id: i for i, n in enumerate(column)}
        column.sort(key=lambda n: (_mean(neighbours[n.id], rank, before[n.id]), before[n.id]))
        rank.update({n.id: float(i) for i, n in enumerate(column)})
    return columns


def _mean(ids: set[str], rank: Mapping[str, float], fallback: float) -> float:
    placed = [rank[i] for i in ids if i in rank]
    return sum(placed) / len(placed) if placed else fallback


def _in_columns(columns: Mapping[str, Sequence[Node]]) -> tuple[int, list[PlacedNode]]:
    rows = max(len(c) for c in columns.values())
    roomy = rows <= ROOMY
    row, radius = (ROW, RADIUS) if roomy else (DENSE_ROW, DENSE_RADIUS)
    top = TOP if roomy else TOP - 24  # no patient label above the first node
    natural = top + (rows - 1) * row + BOTTOM
    height = int(max(MIN_HEIGHT, natural))
    top += (height - natural) / 2
    placed = []
    for name, column in columns.items():
        x, anchor = _COLUMNS[name]
        if anchor == "middle" and not roomy:
            anchor = "end"  # packed patients: the label goes to their left
        for i, node in enumerate(column):
            # Every column spreads over the band the longest one fills, centred.
            y = round(top - row / 2 + rows * row * (i + 0.5) / len(column), 1)
            r = radius + (3 if node.shared else 0)
            offset = r + 6
            lx = x - offset if anchor == "end" else x + offset if anchor == "start" else x
            ly = y - r - 5 if anchor == "middle" else y + 4
            placed.append(_placed(node, x, y, r, labelled=True, anchor=anchor, lx=lx, ly=ly))
    return height, placed


def _by_groups(graph: RingGraph) -> tuple[int, list[PlacedNode]]:
    """Each linked group laid out on its own in a cell of a grid, the largest first."""
    groups = _groups(graph)
    across = min(len(groups), GROUPS_ACROSS)
    # One group (a ring is usually one) gets the whole picture.
    cell_h = float(CELL_HEIGHT if len(groups) > 1 else ONE_GROUP_HEIGHT)
    cell_w = WIDTH / across
    label_all = len(graph.nodes) <= LABEL_ALL_UP_TO
    by_id = {n.id: n for n in graph.nodes}
    placed = []
    for index, members in enumerate(groups):
        left, top = (index % across) * cell_w, (index // across) * cell_h
        positions = _shells([by_id[m] for m in members]) if len(members) > 1 else {}
        half_w, half_h = cell_w / 2 - 50, cell_h / 2 - 28  # room for the outer labels
        for ident in members:
            node = by_id[ident]
            px, py = positions.get(ident, (0.0, 0.0))
            x = left + cell_w / 2 + px * half_w
            y = top + cell_h / 2 + py * half_h
            r = DENSE_RADIUS + (3 if node.shared else 0)
            placed.append(
                _placed(
                    node,
                    round(x, 1),
                    round(y, 1),
                    r,
                    labelled=label_all or node.shared,
                    anchor="middle",
                    lx=round(x, 1),
                    ly=round(y + r + 12, 1),
                )
            )
    return int(math.ceil(len(groups) / across) * cell_h), placed


def _groups(graph: RingGraph) -> list[list[str]]:
    """The linked groups of the graph (connected components), the largest first."""
    neighbours: dict[str, set[str]] = defaultdict(set)
    for e in graph.edges:
        neighbours[e.source].add(e.target)
        neighbours[e.target].add(e.source)
    seen: set[str] = set()
    groups = []
    for node in graph.nodes:
        if node.id in seen:
            continue
        group, todo = [], [node.id]
        seen.add(node.id)
        while todo:
            ident = todo.pop()
            group.append(ident)
            for other in sorted(neighbours[ident] - seen):
                seen.add(other)
                todo.append(other)
        groups.append(sorted(group))
    return sorted(groups, key=lambda g: (-len(g), g))


def _shells(members: Sequence[Node]) -> dict[str, tuple[float, float]]:
    """One linked group in concentric rings: what ties it together (shared identifiers)
    at the centre, then its accounts, its patients around them, and the identifiers only
    one patient uses outside. Positions in [-1, 1]."""
    shared = [n.id for n in members if n.shared]
    accounts = [n.id for n in members if n.scope == "account" and not n.shared]
    patients = [n.id for n in members if n.scope == "patient"]
    outer = [n.id for n in members if n.id not in {*shared, *accounts, *patients}]
    placed: dict[str, tuple[float, float]] = {}
    for radius, shell in ((0.2, shared), (0.46, accounts), (0.74, patients), (1.0, outer)):
        if len(shell) == 1 and radius < 0.3:
            placed[shell[0]] = (0.0, 0.0)
            continue
        for i, ident in enumerate(shell):
            angle = 2 * math.pi * i / len(shell) + radius  # offset each ring a little
            placed[ident] = (radius * math.cos(angle), radius * math.sin(angle))
    return placed


def _placed(
    node: Node,
    x: float,
    y: float,
    r: float,
    *,
    labelled: bool,
    anchor: str,
    lx: float,
    ly: float,
) -> PlacedNode:
    return PlacedNode(
        id=node.id,
        scope=node.scope,
        label=node.label,
        x=x,
        y=y,
        r=r,
        shared=node.shared,
        patients=node.patients,
        labelled=labelled,
        anchor=anchor,
        lx=lx,
        ly=ly,
    )
