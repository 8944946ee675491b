"""Refusals on the supply side: hospitals, departments, doctors."""

from __future__ import annotations

from fairslot.errors import Conflict, InvalidInput, NotFound


class HospitalNotFound(NotFound):
    code = "hospital_not_found"


class HospitalExists(Conflict):
    code = "hospital_exists"


class InvalidHospital(InvalidInput):
    code = "invalid_hospital"


class DepartmentNotFound(NotFound):
    code = "department_not_found"
