"""Refusals of the FHIR adapter itself: a request it cannot read as FHIR."""

from __future__ import annotations

from fairslot.errors import DomainError, InvalidInput, NotFound


class FhirInvalid(InvalidInput):
    """A FHIR request the adapter cannot read (a parameter, reference or resource)."""

    code = "fhir_invalid"


class FhirNotFound(NotFound):
    """No resource of this type has this id (or it is not visible to the caller)."""

    code = "fhir_not_found"


class FhirNotAcceptable(DomainError):
    """``_format`` or ``Accept`` asks for a format the server does not write (FHIR: 406)."""

    code = "fhir_format_unsupported"
    status = 406


class FhirUnsupportedMediaType(DomainError):
    """A body in a format the server does not read (FHIR: 415)."""

    code = "fhir_media_type_unsupported"
    status = 415
