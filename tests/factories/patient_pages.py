"""Helpers for the patient pages' tests: the codes the development SMS sender logged,
signing in through the forms (over a TestClient), and the pages of a hospital's own app
(``app_world``; the site over HTTP is the console plugin's ``site``)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from factories.demand import phone_number, resident_id
from factories.world import World, make_world
from fairslot.bootstrap import Platform
from fairslot.channels.models import ChannelKind
from fairslot.patients.identity import normalise_phone
from fairslot.signin.sms import LOGGER

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
BOUND = re.compile(r'action="/family/(\d+)/unbind"')
# How long a person looks around after binding: an entry made seconds after binding is one
# of the pre-draw screening's signals.
LOOKING = dt.timedelta(minutes=3)


class SmsLog(logging.Handler):
    """Reads the development sender's log lines (logger ``fairslot.sms``) as a phone
    would receive them: the last code per phone."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.codes: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        phone, code = record.__dict__.get("phone"), record.__dict__.get("code")
        if isinstance(phone, str) and isinstance(code, str):
            self.codes[phone] = code

    def code_for(self, phone: str) -> str:
        return self.codes[normalise_phone(phone)]


@pytest.fixture
def sms_log() -> Iterator[SmsLog]:
    handler = SmsLog()
    LOGGER.addHandler(handler)
    level = LOGGER.level
    LOGGER.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        LOGGER.removeHandler(handler)
        LOGGER.setLevel(level)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, sms: SmsLog, phone: str) -> str:
    """Sign in through the forms; the page's CSRF token of the new session."""
    form = client.get("/login")
    sent = client.post(
        "/login/code", data={"phone": phone, "csrf_token": csrf_of(form.text), "next": "/"}
    )
    assert sent.status_code == 200, sent.text
    done = client.post(
        "/login",
        data={
            "phone": phone,
            "code": sms.code_for(phone),
            "csrf_token": csrf_of(sent.text),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return csrf_of(client.get("/").text)


@pytest.fixture
def app_world(db: Session, platform: Platform) -> World:
    """The world, its channel the hospital's own app (the pages' channel)."""
    return make_world(db, platform, channel_kind=ChannelKind.HOSPITAL_APP)


def signed_in_with_patient(
    site: TestClient, sms: SmsLog, *, name: str = "王建国"
) -> tuple[str, int]:
    """Sign in, bind oneself; the CSRF token and the patient's id. The person then looks
    around for a while (the site's platform clock moves on by :data:`LOOKING`)."""
    csrf = sign_in(site, sms, phone_number())
    bound = site.post(
        "/family",
        data={
            "name": name,
            "id_number": resident_id(),
            "phone": phone_number(),
            "relation": "self",
            "csrf_token": csrf,
        },
    )
    assert bound.status_code == 200, bound.text
    found = BOUND.search(bound.text)
    assert found, "no bound patient"
    site.app.state.platform.clock.advance(LOOKING)  # type: ignore[attr-defined]
    return csrf, int(found.group(1))
