"""Refusals of the demand side: real-name patients, accounts and their bindings."""

from __future__ import annotations

from fairslot.errors import Conflict, Forbidden, InvalidInput, NotFound


class InvalidResidentId(InvalidInput):
    code = "invalid_resident_id"


class InvalidPhone(InvalidInput):
    code = "invalid_phone"


class InvalidName(InvalidInput):
    code = "invalid_name"


class InvalidPatientDetail(InvalidInput):
    """Any other patient or account field that cannot be accepted (the code says which)."""

    code = "invalid_patient_detail"


class PhoneAccountLimit(Conflict):
    code = "phone_account_limit"


class BindingLimit(Conflict):
    code = "binding_limit"


class IdentityMismatch(Conflict):
    code = "identity_mismatch"


class PatientHasBookings(Conflict):
    code = "patient_has_bookings"


class PatientNotBound(Forbidden):
    code = "patient_not_bound"


class AccountNotFound(NotFound):
    code = "account_not_found"
