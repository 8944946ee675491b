"""Sending the sign-in code by SMS: one interface, two real senders.

- :class:`LogSender` (``FAIRSLOT_SMS_SENDER=log``, development and the demo) writes the
  message to the server log (logger ``fairslot.sms``); the record carries ``phone`` and
  ``code`` attributes so that a test can read the code a person would have received.
- :class:`HttpSender` (``FAIRSLOT_SMS_SENDER=http``) POSTs ``{"phone", "text"}`` as JSON to
  the gateway (``FAIRSLOT_SMS_GATEWAY_URL``) with ``Authorization: Bearer
  <FAIRSLOT_SMS_GATEWAY_TOKEN>``; any answer but 2xx is a failure.

A production platform refuses to start with the log sender (:func:`check_sender`).
The edge sends after its commit: a code is never sent for a transaction that failed.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Protocol

from fairslot.config import Settings
from fairslot.errors import DomainError
from fairslot.patients.identity import mask_phone

LOGGER = logging.getLogger("fairslot.sms")


class SmsUnavailable(DomainError):
    code = "sms_unavailable"
    status = 503


class SmsSender(Protocol):
    def send(self, *, phone: str, code: str, text: str) -> None:
        """Deliver ``text`` (which contains ``code``) to ``phone`` (E.164)."""
        ...


class LogSender:
    """Development only: the code goes to the server log, not to a phone."""

    def send(self, *, phone: str, code: str, text: str) -> None:
        LOGGER.warning(
            "development SMS to %s: %s",
            mask_phone(phone),
            text,
            extra={"phone": phone, "code": code},
        )


class HttpSender:
    def __init__(self, *, url: str, token: str | None, timeout: float = 5.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, *, phone: str, code: str, text: str) -> None:
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                status = int(answer.status)
        except (urllib.error.URLError, OSError) as exc:
            LOGGER.error("SMS gateway failed for %s: %s", mask_phone(phone), exc)
            raise _unavailable() from exc
        if not 200 <= status < 300:
            LOGGER.error("SMS gateway answered %s for %s", status, mask_phone(phone))
            raise _unavailable()


def _unavailable() -> SmsUnavailable:
    return SmsUnavailable(
        "The text message could not be sent just now; try again in a minute.",
        detail_zh="短信暂时发送失败，请稍后再试。",
    )


def check_sender(settings: Settings) -> None:
    """Refuse a configuration that cannot deliver codes to real phones in production
    (called by ``bootstrap``)."""
    if settings.sms_sender == "http" and not settings.sms_gateway_url:
        raise RuntimeError("FAIRSLOT_SMS_SENDER=http needs FAIRSLOT_SMS_GATEWAY_URL")
    if settings.is_production and settings.sms_sender != "http":
        raise RuntimeError(
            "FAIRSLOT_SMS_SENDER=log writes sign-in codes to the server log: set "
            "FAIRSLOT_SMS_SENDER=http and FAIRSLOT_SMS_GATEWAY_URL in production"
        )


def make_sender(settings: Settings) -> SmsSender:
    if settings.sms_sender == "http" and settings.sms_gateway_url:
        return HttpSender(url=settings.sms_gateway_url, token=settings.sms_gateway_token)
    return LogSender()
