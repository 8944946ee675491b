"""The FHIR sub-application, mounted at ``/fhir`` by ``web/site.py``.

A FastAPI app of its own so that its refusals render as OperationOutcomes (the JSON
API's handlers render ``{"error": …}``) and so that it stays out of the JSON API's
OpenAPI document: a FHIR client reads ``/fhir/metadata``, not OpenAPI. The site's
middleware (body limit, access log, security headers) wraps it like every other path.
"""

from __future__ import annotations

from fastapi import FastAPI

from fairslot import __version__
from fairslot.bootstrap import Platform
from fairslot.fhir import (
    appointments,
    capability,
    catalog,
    hospital,
    operations,
    outcome,
    schedule,
)
from fairslot.fhir.formats import FhirFormats
from fairslot.fhir.search_post import PostedSearch
from fairslot.observability.http import FASTAPI_TELEMETRY, count_refusals

PREFIX = "/fhir"


def create_fhir_app(platform: Platform) -> FastAPI:
    app = FastAPI(
        telemetry=FASTAPI_TELEMETRY,
        title="fairslot FHIR",
        version=__version__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.platform = platform
    outcome.install(app)
    count_refusals(app)  # the site's request metrics count FHIR refusals by code too
    app.include_router(capability.router)
    app.include_router(hospital.router)  # /fhir/hospital: the hospital-side base
    # the operations before the reads: ``Appointment/$find`` is not ``Appointment/{id}``
    app.include_router(operations.router)
    for router in (catalog.router, schedule.router, appointments.router):
        app.include_router(router)
    app.add_middleware(PostedSearch)
    app.add_middleware(FhirFormats)  # outermost: a searched form's answer in XML too
    return app
