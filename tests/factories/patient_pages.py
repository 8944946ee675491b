"""Helpers for the patient pages' tests: the codes the development SMS sender logged,
and signing in through the forms (over a TestClient)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fairslot.patients.identity import normalise_phone
from fairslot.signin.sms import LOGGER

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


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
