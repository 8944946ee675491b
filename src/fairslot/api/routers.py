"""Every API router, in one list the app includes. Add new routers here."""

from __future__ import annotations

from fastapi import APIRouter

from fairslot.api import (
    allocation_routes,
    alternatives_routes,
    audit_routes,
    batch_routes,
    blacklist_routes,
    call_routes,
    channel_accounts,
    channel_booking,
    channel_catalog,
    hospital_allocation,
    hospital_attendance,
    hospital_routes,
    key_admin_routes,
    metrics_routes,
    report_routes,
    review_routes,
    scheduler_routes,
    staff_admin_routes,
    staff_auth_routes,
    waitlist_routes,
)

ALL: list[APIRouter] = [
    channel_accounts.router,
    channel_booking.router,
    channel_catalog.router,
    hospital_attendance.router,
    hospital_routes.router,
    allocation_routes.router,
    batch_routes.router,
    hospital_allocation.router,
    waitlist_routes.router,
    alternatives_routes.router,
    staff_auth_routes.router,
    scheduler_routes.router,
    review_routes.router,
    call_routes.router,
    report_routes.router,
    metrics_routes.router,
    blacklist_routes.router,
    audit_routes.router,
    staff_admin_routes.router,
    key_admin_routes.router,
]
