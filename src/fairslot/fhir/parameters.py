"""An operation's inputs: a ``Parameters`` body, or the query of its ``GET`` form."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fhir.resources.R4B.parameters import Parameters

from fairslot.fhir.errors import FhirInvalid
from fairslot.fhir.http import validated


class Inputs:
    """An operation's input parameters by name (a Parameters body, or the query of a
    ``GET``), each value as its string form (a reference's ``reference``)."""

    def __init__(self, values: dict[str, list[Any]]) -> None:
        self.values = values

    @classmethod
    def of_body(cls, body: dict[str, Any]) -> Inputs:
        params = validated(Parameters, body)
        values: dict[str, list[Any]] = {}
        for p in params.parameter or []:
            value: Any = p.resource
            for field in (
                "valueReference",
                "valueDateTime",
                "valueDate",
                "valueString",
                "valueCode",
                "valueInstant",
                "valueUri",
            ):
                found = getattr(p, field, None)
                if found is not None:
                    value = found.reference if field == "valueReference" else found
                    break
            if p.name is not None and value is not None:
                values.setdefault(p.name, []).append(value)
        return cls(values)

    @classmethod
    def of_query(cls, request: Request) -> Inputs:
        values: dict[str, list[Any]] = {}
        for key, value in request.query_params.multi_items():
            if not key.startswith("_"):
                values.setdefault(key, []).append(value)
        return cls(values)

    def all(self, name: str) -> list[Any]:
        return self.values.get(name, [])

    def one(self, name: str, *, required: bool = False) -> Any:
        found = self.all(name)
        if len(found) > 1 or (required and not found):
            raise FhirInvalid(
                f"Give exactly one '{name}' parameter."
                if required
                else f"Give at most one '{name}' parameter.",
                code="fhir_parameter_invalid",
            )
        return found[0] if found else None

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.one(name, required=required)
        return None if value is None else str(value)
