"""Every router of the patient pages, mounted at ``/`` by ``web/site.py``.

A new page area is a module here with ``router = APIRouter(tags=["patient"], ...)`` (the
tag makes refusals render as patient pages, ``errors.py``), added to ``ROUTERS``."""

from __future__ import annotations

from fastapi import APIRouter

from fairslot.web.patient import (
    book,
    book_hold,
    bookings,
    draw,
    draw_record,
    entries,
    family,
    home,
    notices,
    preauth,
    signin,
    waitlist,
)

ROUTERS: list[APIRouter] = [
    home.router,
    signin.router,
    family.router,
    bookings.router,
    book.router,
    book_hold.router,
    draw.router,
    waitlist.router,
    entries.router,
    draw_record.router,
    notices.router,
    preauth.router,
]
