"""The body limit counts the bytes a request actually sends, whatever its Content-Length
says (or does not say): pure ASGI, no database."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from fairslot.api.app import CHANNEL_BODY_LIMIT, HOSPITAL_BODY_LIMIT, BodyLimit

CHUNK = 16 * 1024


async def reads_everything(scope: Scope, receive: Receive, send: Send) -> None:
    """An app that reads the whole body, then answers its size."""
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


class Sent:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.messages[0].get("headers", []))

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


def post(
    path: str, *, chunks: int, headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[Sent, int]:
    """POST ``chunks`` chunks of 16 KiB to BodyLimit(reads_everything): what came back and
    how many chunks the server pulled."""
    pulled = 0

    async def receive() -> Message:
        nonlocal pulled
        if pulled >= chunks:
            return {"type": "http.disconnect"}
        pulled += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": pulled < chunks}

    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": headers if headers is not None else [(b"transfer-encoding", b"chunked")],
    }
    sent = Sent()
    asyncio.run(BodyLimit(reads_everything)(scope, receive, sent))
    return sent, pulled


def test_a_chunked_body_within_the_limit_is_read_whole() -> None:
    sent, _ = post("/v1/accounts", chunks=CHANNEL_BODY_LIMIT // CHUNK)

    assert (sent.status, sent.body) == (200, str(CHANNEL_BODY_LIMIT).encode())


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    sent, pulled = post("/v1/accounts", chunks=1000)

    assert sent.status == 413
    body = json.loads(sent.body)
    assert body["error"] == "body_too_large"
    assert body["detail"] and body["detail_zh"]
    # Refused at the first chunk past 64 KiB: the other 15 MiB were never read.
    assert pulled == CHANNEL_BODY_LIMIT // CHUNK + 1


def test_a_body_longer_than_its_content_length_says_is_refused_at_the_limit() -> None:
    sent, pulled = post("/v1/holds", chunks=1000, headers=[(b"content-length", b"10")])

    assert sent.status == 413
    assert pulled == CHANNEL_BODY_LIMIT // CHUNK + 1


def test_a_content_length_past_the_limit_is_refused_without_reading() -> None:
    sent, pulled = post(
        "/v1/holds", chunks=10, headers=[(b"content-length", str(CHANNEL_BODY_LIMIT + 1).encode())]
    )

    assert (sent.status, pulled) == (413, 0)


@pytest.mark.parametrize(
    "path", ["/hospital/v1/schedule", "/hospital/v1/schedule/csv", "/console/schedules/upload"]
)
def test_schedule_uploads_keep_the_larger_hospital_limit(path: str) -> None:
    within, _ = post(path, chunks=HOSPITAL_BODY_LIMIT // CHUNK)
    past, pulled = post(path, chunks=HOSPITAL_BODY_LIMIT // CHUNK + 50)

    assert within.status == 200
    assert past.status == 413 and pulled == HOSPITAL_BODY_LIMIT // CHUNK + 1


@pytest.mark.parametrize("path", ["/v1/accounts", "/staff/v1/login", "/console/login", "/"])
def test_every_other_route_has_the_channel_limit(path: str) -> None:
    sent, _ = post(path, chunks=CHANNEL_BODY_LIMIT // CHUNK + 1)

    assert sent.status == 413
