"""The SMS senders (signin/sms.py): the HTTP sender against a gateway served in the test,
the development sender's log line, and production's refusal of the development sender."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from fairslot.bootstrap import bootstrap
from fairslot.config import load_settings
from fairslot.signin import sms
from fairslot.signin.sms import HttpSender, LogSender, SmsUnavailable

PRODUCTION_KEYS = {
    "environment": "production",
    "data_key": "bS1TpG4v1w5_Qu6XqMcizIeWlGHCR_0wab1U1rzDiYo=",
    "hash_key": "a-production-hash-key-of-more-than-32-bytes",
    "metrics_token": "a-production-token-for-prometheus-scrapes",
}


class Gateway:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, str]]:
    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(
                {"auth": self.headers.get("Authorization"), "body": json.loads(body)}
            )
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/sms"
    finally:
        server.shutdown()
        server.server_close()


def test_the_http_sender_posts_the_message_to_the_gateway(gateway: tuple[Gateway, str]) -> None:
    state, url = gateway
    HttpSender(url=url, token="gw-token").send(
        phone="+8613800138000", code="123456", text="验证码 123456"
    )
    assert state.received == [
        {"auth": "Bearer gw-token", "body": {"phone": "+8613800138000", "text": "验证码 123456"}}
    ]


def test_a_gateway_refusal_is_a_503_a_person_can_act_on(gateway: tuple[Gateway, str]) -> None:
    state, url = gateway
    state.status = 500
    with pytest.raises(SmsUnavailable) as refused:
        HttpSender(url=url, token=None).send(phone="+8613800138000", code="1", text="x")
    assert refused.value.status == 503 and "稍后再试" in refused.value.extra["detail_zh"]


def test_an_unreachable_gateway_is_a_503() -> None:
    with pytest.raises(SmsUnavailable):
        HttpSender(url="http://127.0.0.1:9/sms", token=None, timeout=1).send(
            phone="+8613800138000", code="1", text="x"
        )


def test_the_development_sender_writes_the_code_to_the_log_with_the_phone_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="fairslot.sms"):
        LogSender().send(phone="+8613800138000", code="654321", text="验证码 654321")
    (record,) = caplog.records
    assert "654321" in record.getMessage() and "13800138000" not in record.getMessage()
    assert record.__dict__["phone"] == "+8613800138000" and record.__dict__["code"] == "654321"


def test_production_refuses_to_start_with_the_development_sender() -> None:
    with pytest.raises(RuntimeError, match="FAIRSLOT_SMS_SENDER"):
        bootstrap(load_settings(**PRODUCTION_KEYS, database_url="sqlite://"))


def test_production_starts_with_the_http_sender() -> None:
    settings = load_settings(
        **PRODUCTION_KEYS,
        database_url="sqlite://",
        sms_sender="http",
        sms_gateway_url="https://sms.example.invalid/send",
    )
    sms.check_sender(settings)  # no error
    assert isinstance(sms.make_sender(settings), HttpSender)


def test_the_http_sender_needs_a_gateway_url() -> None:
    with pytest.raises(RuntimeError, match="FAIRSLOT_SMS_GATEWAY_URL"):
        sms.check_sender(load_settings(sms_sender="http"))
