"""The whole site one process serves: the JSON APIs (``api/app.py``), the staff console
at ``/console/``, the patients' pages at ``/`` (``web/patient/``), the API's
documentation at ``/docs`` and ``/redoc`` and the static assets at ``/static/`` — all
from inside the package."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from fairslot.api.app import create_app
from fairslot.bootstrap import Platform
from fairslot.fhir import app as fhir
from fairslot.observability.http import count_refusals
from fairslot.web import docs, payments
from fairslot.web.console import errors as console_errors
from fairslot.web.console.routes import ROUTERS as CONSOLE_ROUTERS
from fairslot.web.patient import errors as patient_errors
from fairslot.web.patient.routes import ROUTERS as PATIENT_ROUTERS
from fairslot.web.security import SecurityHeaders


def create_site(platform: Platform) -> FastAPI:
    app = create_app(platform)
    console_errors.install(app)
    patient_errors.install(app)  # after the console's: it hands other paths on to them
    app.mount("/static", StaticFiles(packages=[("fairslot.web", "static")]), name="static")
    app.mount(fhir.PREFIX, fhir.create_fhir_app(platform), name="fhir")  # fhir/app.py
    app.include_router(docs.router)
    for router in CONSOLE_ROUTERS:
        app.include_router(router)
    # the sandbox cashier and the payment providers' callbacks (web/payments.py)
    app.include_router(payments.router)
    app.include_router(payments.callback_router)
    app.state.documented_routers.append(payments.callback_router)  # api/openapi.py
    for router in PATIENT_ROUTERS:  # the patients' pages, at /
        app.include_router(router)

    @app.get("/console", include_in_schema=False)
    def console_root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=308)

    app.add_middleware(SecurityHeaders)
    # The console's and the pages' refusal handlers replaced the API's: count theirs too.
    count_refusals(app)
    return app
