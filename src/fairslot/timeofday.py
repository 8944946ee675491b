"""A time of day on a hospital's wall clock, as the APIs write and read it (``08:00:00``).

Pydantic describes ``datetime.time`` as ``format: time``, which (RFC 3339) requires an
offset; these times have none: they are local to the hospital's zone, which the platform
knows (and names beside them where it matters). The schema says so with a pattern.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import WithJsonSchema

# HH:MM, optionally :SS and a fraction; no offset.
PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"

LocalTime = Annotated[
    time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": PATTERN,
            "description": "A local time of day in the hospital's zone, without an offset.",
            "examples": ["08:00:00"],
        }
    ),
]
