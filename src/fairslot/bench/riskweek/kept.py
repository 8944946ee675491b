"""A kept week's answer key: its shape, what was planted in it and the families that must
not be flagged, stored beside the week (``repository.keep_answers``) so that
``fairslot risk bench --reuse`` can time and judge the batch over the same week again
without generating it. Pure: JSON in and out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from fairslot.bench.riskweek.data import Shape
from fairslot.bench.riskweek.people import PersonInfo
from fairslot.bench.riskweek.scalpers import Planted

FORMAT = 1  # bumped when the stored shape changes; an older key is refused


@dataclass(frozen=True, slots=True)
class Member:
    """A family member as the judgement reads one (``evaluation.judge``)."""

    key: str
    phone_hash: str
    account_id: int


@dataclass(frozen=True)
class Answers:
    shape: Shape
    planted: list[Planted]
    families: list[list[Member]]


def answers_of(
    shape: Shape, planted: Sequence[Planted], families: Sequence[Sequence[PersonInfo]]
) -> Answers:
    return Answers(
        shape=shape,
        planted=list(planted),
        families=[
            [Member(key=p.key, phone_hash=p.phone_hash, account_id=p.account.id) for p in family]
            for family in families
        ],
    )


def dumps(answers: Answers) -> str:
    shape = answers.shape
    return json.dumps(
        {
            "format": FORMAT,
            "shape": {
                "bookings": shape.bookings,
                "days": shape.days,
                "seed": shape.seed,
                "report_day": shape.report_day.isoformat(),
            },
            "planted": [
                {
                    "pattern": p.pattern,
                    "expected": sorted(p.expected),
                    "ring_patients": sorted(p.ring_patients),
                    "bookings": p.bookings,
                    "entities": sorted(p.entities),
                }
                for p in answers.planted
            ],
            "families": [
                [[m.key, m.phone_hash, m.account_id] for m in family] for family in answers.families
            ],
        },
        separators=(",", ":"),
    )


def loads(text: str) -> Answers:
    """The stored answers; ValueError when they are not this format's."""
    data: dict[str, Any] = json.loads(text)
    if data.get("format") != FORMAT:
        raise ValueError(f"the kept week's answer key is format {data.get('format')}, not {FORMAT}")
    shape = data["shape"]
    return Answers(
        shape=Shape(
            bookings=int(shape["bookings"]),
            days=int(shape["days"]),
            seed=int(shape["seed"]),
            report_day=date.fromisoformat(shape["report_day"]),
        ),
        planted=[
            Planted(
                pattern=p["pattern"],
                expected=[(a, b, c) for a, b, c in p["expected"]],
                ring_patients=set(p["ring_patients"]),
                bookings=int(p["bookings"]),
                entities={(a, b) for a, b in p["entities"]},
            )
            for p in data["planted"]
        ],
        families=[
            [Member(key=k, phone_hash=h, account_id=int(a)) for k, h, a in family]
            for family in data["families"]
        ],
    )
