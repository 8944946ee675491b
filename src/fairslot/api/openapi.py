"""What the OpenAPI document says about refusals, so that it matches what the server answers.

FastAPI declares only each route's success and a 422 shaped as its own default (``detail``
an array). Every refusal here is rendered by ``api/errors.py`` as ``{error, detail,
detail_zh, ...}`` (a 422 from request validation adds ``problems``), and the statuses a
route refuses with depend on who may call it and what its services refuse. :func:`install`
rewrites the generated document once: the real 422 body for every operation, and for each
route the statuses and stable ``error`` codes of its API family (credentials, rate limits,
body limit, a busy database) and of its router (``REFUSALS``, gathered from the routers'
docstrings and the errors their services raise). The codes are listed as ``examples`` of
``error`` and in the response's description; a client must still treat an unknown code of
a declared status as that status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

Refusals = Mapping[int, Sequence[str]]

ERROR_BODY = "ErrorBody"
VALIDATION_BODY = "ValidationErrorBody"

_SCHEMAS: dict[str, dict[str, Any]] = {
    ERROR_BODY: {
        "title": ERROR_BODY,
        "type": "object",
        "description": "Every refusal: a stable code, an English and a Chinese message; some "
        "refusals add fields of their own (e.g. ranked alternatives).",
        "required": ["error", "detail", "detail_zh"],
        "properties": {
            "error": {"type": "string", "description": "A stable machine code."},
            "detail": {"type": "string"},
            "detail_zh": {"type": "string"},
        },
        "additionalProperties": True,
    },
    VALIDATION_BODY: {
        "title": VALIDATION_BODY,
        "type": "object",
        "description": "A request the API could not read (``invalid_request``: every field at "
        "fault in ``problems``) or a value a rule refuses (a code of its own).",
        "required": ["error", "detail", "detail_zh"],
        "properties": {
            "error": {"type": "string"},
            "detail": {"type": "string"},
            "detail_zh": {"type": "string"},
            "problems": {
                "type": "array",
                "description": "What is at fault: a request field (``field``) or a place in "
                "an uploaded schedule (``location``), and why.",
                "items": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {
                        "field": {"type": "string"},
                        "location": {"type": "string"},
                        "message": {"type": "string"},
                    },
                },
            },
        },
        "additionalProperties": True,
    },
}

_REASONS = {
    400: "Bad request",
    401: "Missing or invalid credentials",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    422: "Invalid request",
    429: "Too many requests",
    503: "Busy: nothing was changed, retry",
}

# What every route answers: a body past its limit (api/app.py::BodyLimit), a value the
# database refuses, a lock or pool timeout under load (api/errors.py).
EVERY_ROUTE: Refusals = {413: ["body_too_large"], 422: ["invalid_request", "invalid_value"]}
DATABASE: Refusals = {503: ["busy"]}
# A change that a unique constraint refuses after the rules passed (api/errors.py).
A_CHANGE: Refusals = {409: ["conflict"]}
# A body FastAPI cannot parse at all (a broken form or multipart body).
A_BODY: Refusals = {400: ["http_error"]}

CHANNEL: Refusals = {
    401: ["channel_key_missing", "channel_key_invalid"],
    422: ["invalid_end_user_ip"],
    429: ["rate_limited"],
}
HOSPITAL: Refusals = {401: ["hospital_key_missing", "hospital_key_invalid"]}
STAFF: Refusals = {
    401: ["staff_token_missing", "staff_token_invalid"],
    403: ["role_required", "staff_account_required"],
}

_PATIENT = ["account_not_found", "patient_not_found"]

# Per router module (``fairslot.api.<name>``): what its services refuse.
REFUSALS: dict[str, Refusals] = {
    # the payment provider's callback (web/payments.py, part of the site)
    "payments": {
        400: ["payment_signature_invalid"],
        403: ["request_blocked"],
        404: ["payment_order_not_found"],
        409: ["payment_order_closed", "payment_hold_lapsed", "payment_not_payable"],
        422: ["payment_amount_mismatch"],
    },
    "channel_accounts": {
        403: ["request_blocked", "patient_not_bound"],
        404: _PATIENT,
        409: ["phone_account_limit", "binding_limit", "identity_mismatch", "patient_has_bookings"],
        422: [
            "account_required",
            "invalid_resident_id",
            "invalid_phone",
            "invalid_name",
            "invalid_patient_detail",
            "invalid_external_ref",
            "invalid_insurance_card",
            "invalid_relation",
        ],
    },
    "channel_booking": {
        403: ["request_blocked", "patient_not_bound", "not_your_booking"],
        404: [
            "slot_not_found",
            "session_not_found",
            "booking_not_found",
            "hospital_not_found",
            "department_not_found",
            *_PATIENT,
        ],
        409: [
            "slot_taken",
            "session_full",
            "booking_closed",
            "slot_unavailable",
            "booking_conflict",
            "booking_not_cancellable",
            "hold_expired",
            "hold_not_active",
            "booking_not_confirmed",
            "state_conflict",
            "release_batch_drawing",
        ],
        422: [
            "account_required",
            "payment_required",
            "invalid_date_range",
            "booking_refused",
            "no_show_ban",
            "department_sex_restricted",
            "department_age_restricted",
            "duplicate_department_day",
            "daily_limit",
            "active_booking_limit",
            "cancel_cutoff",
        ],
    },
    "channel_catalog": {404: ["hospital_not_found", "department_not_found"]},
    "batch_routes": {
        403: ["patient_not_bound"],
        404: ["batch_entry_not_found", *_PATIENT],
    },
    "hospital_allocation": {
        404: ["department_not_found"],
        409: ["scarce_release_cannot_race"],
        422: ["batch_window_out_of_range"],
    },
    "allocation_routes": {
        403: ["request_blocked", "patient_not_bound", "not_your_intent"],
        404: ["intent_not_found", "draw_not_found", "session_not_found", *_PATIENT],
        409: ["intent_window_closed", "not_a_draw_session", "intent_not_withdrawable"],
        422: ["account_required", "booking_refused"],
    },
    "waitlist_routes": {
        403: ["request_blocked", "patient_not_bound", "not_your_waitlist_entry"],
        404: ["waitlist_entry_not_found", "session_not_found", *_PATIENT],
        409: [
            "session_not_full",
            "already_waiting",
            "waitlist_entry_not_waiting",
            "waitlist_conflict",
            "waitlist_disabled",
            "booking_closed",
        ],
        422: ["account_required", "payment_required", "booking_refused"],
    },
    "alternatives_routes": {
        403: ["patient_not_bound"],
        404: ["session_not_found", *_PATIENT],
        422: ["account_required", "invalid_limit"],
    },
    "hospital_attendance": {
        403: ["wrong_hospital"],
        404: ["booking_not_found"],
        409: [
            "check_in_outside_session",
            "identity_mismatch",
            "session_not_over",
            "state_conflict",
            "booking_not_confirmed",
        ],
        422: ["invalid_resident_id"],
    },
    "hospital_routes": {
        400: ["http_error"],
        403: ["wrong_hospital"],
        404: ["session_not_found", "department_not_found"],
        409: ["slot_not_withdrawable", "state_conflict"],
        413: ["schedule_too_large"],
        422: ["schedule_invalid"],
    },
    "staff_auth_routes": {401: ["login_failed"], 429: ["rate_limited"]},
    "scheduler_routes": {
        404: ["hospital_not_found", "session_not_found", "department_not_found"],
        409: ["slot_not_withdrawable", "state_conflict"],
        413: ["schedule_too_large"],
        422: [
            "schedule_invalid",
            "reason_required",
            "invalid_hospital",
            "invalid_days_ahead",
            "invalid_close_minutes",
            "invalid_release_time",
            "invalid_timezone",
        ],
    },
    "review_routes": {
        404: ["case_not_found", "queue_empty"],
        409: [
            "case_closed",
            "case_not_taken",
            "case_not_yours",
            "case_lock_lapsed",
            "case_changed",
            "case_evidence_changed",
            "case_transition_not_allowed",
            "no_patient_to_call",
            "calls_already_made",
        ],
        422: [
            "reason_required",
            "scopes_required",
            "unknown_scope",
            "scope_has_no_identifiers",
            "invalid_days",
            "question_required",
        ],
    },
    "call_routes": {
        404: ["call_not_found", "case_not_found", "queue_empty"],
        409: [
            "call_not_taken",
            "call_not_yours",
            "call_lock_lapsed",
            "call_done",
            "call_changed",
            "call_transition_not_allowed",
        ],
        422: ["invalid_call_input"],
    },
    "report_routes": {404: ["report_not_found"]},
    "metrics_routes": {
        404: ["hospital_not_found", "channel_not_found"],
        422: ["metrics_days_invalid", "metrics_period_invalid"],
    },
    "blacklist_routes": {
        404: ["case_not_found", "entry_not_found"],
        409: ["already_blocked", "already_lifted"],
        422: ["invalid_identifier", "invalid_days", "reason_required", "check_required"],
    },
    "audit_routes": {},
    "staff_admin_routes": {
        403: ["own_roles", "own_account"],
        404: ["staff_not_found"],
        409: ["username_taken", "last_it_admin"],
        422: [
            "invalid_username",
            "password_too_short",
            "reason_required",
            "roles_required",
        ],
    },
    "key_admin_routes": {
        404: ["channel_not_found", "hospital_not_found"],
        409: ["channel_inactive"],
        422: ["reason_required"],
    },
}


def family_of(path: str) -> Refusals:
    """The refusals of the API a path belongs to: who may call it and how often."""
    if path.startswith("/staff/v1/login"):
        return {}
    if path.startswith("/staff/"):
        return STAFF
    if path.startswith("/hospital/"):
        return HOSPITAL
    if path.startswith("/v1/"):
        return CHANNEL
    return {}


def merge(*tables: Refusals) -> dict[int, list[str]]:
    """The union of refusal tables: per status, each code once, in first-seen order."""
    merged: dict[int, list[str]] = {}
    for table in tables:
        for status, codes in table.items():
            known = merged.setdefault(status, [])
            known.extend(code for code in codes if code not in known)
    return dict(sorted(merged.items()))


def refusals_of(route: APIRoute) -> dict[int, list[str]]:
    """Every status and code a route refuses with."""
    module = route.endpoint.__module__.rsplit(".", 1)[-1]
    writes = bool((route.methods or set()) - {"GET", "HEAD"})
    return merge(
        EVERY_ROUTE,
        DATABASE,
        family_of(route.path),
        A_CHANGE if writes else {},
        A_BODY if route.body_field is not None else {},
        REFUSALS.get(module, {}),
    )


def _response(status: int, codes: Sequence[str]) -> dict[str, Any]:
    body = VALIDATION_BODY if status == 422 else ERROR_BODY
    listed = ", ".join(f"`{code}`" for code in codes)
    return {
        "description": f"{_REASONS.get(status, 'Refused')}: {listed}",
        "content": {
            "application/json": {
                "schema": {
                    "allOf": [{"$ref": f"#/components/schemas/{body}"}],
                    "properties": {"error": {"type": "string", "examples": list(codes)}},
                }
            }
        },
    }


def describe_refusals(document: dict[str, Any], routes: Iterable[APIRoute]) -> dict[str, Any]:
    """Declare every route's refusals in ``document`` (FastAPI's output), in place."""
    for route in routes:
        if not route.include_in_schema:
            continue
        operations = document.get("paths", {}).get(route.path, {})
        for method in route.methods or ():
            operation = operations.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, codes in refusals_of(route).items():
                responses[str(status)] = _response(status, codes)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    # FastAPI's own 422 shapes are declared nowhere now.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.update(_SCHEMAS)
    return document


def api_routes(routers: Iterable[APIRouter]) -> list[APIRoute]:
    return [route for router in routers for route in router.routes if isinstance(route, APIRoute)]


def install(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Make ``app.openapi()`` return the document with the refusals declared (built once).

    The routers are read when the document is first built, not now: the site
    (``web/site.py``) documents a router of its own too (the payment callback), added to
    ``app.state.documented_routers``."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    app.state.documented_routers = list(routers)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            routes = api_routes(app.state.documented_routers)
            app.openapi_schema = describe_refusals(generate(), routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
