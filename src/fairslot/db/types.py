"""Column helpers shared by the domain models."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum


def str_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, values not member names."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=_values,
        validate_strings=True,
    )


def _values(enum_cls: Any) -> list[str]:
    return [member.value for member in enum_cls]
