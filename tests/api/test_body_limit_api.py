"""A request body is limited by the bytes the client sends, before the channel key is
checked: a chunked body with no Content-Length cannot make the server read megabytes for
a 401. Raw ASGI calls to the whole app, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy.orm import Session

from factories.demand import create_channel
from fairslot.api.app import CHANNEL_BODY_LIMIT, create_app
from fairslot.bootstrap import Platform

CHUNK = 16 * 1024


def chunked_post(
    platform: Platform, path: str, *, chunks: list[bytes], headers: dict[str, str]
) -> tuple[int, dict[str, Any], int]:
    """POST ``chunks`` with ``Transfer-Encoding: chunked``: the status, the JSON answer
    and how many chunks the app pulled."""
    app = create_app(platform)
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled >= len(chunks):
            await asyncio.sleep(3600)  # a client that keeps the connection open
        pulled += 1
        return {
            "type": "http.request",
            "body": chunks[pulled - 1],
            "more_body": pulled < len(chunks),
        }

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raw_headers = [(b"transfer-encoding", b"chunked"), (b"host", b"testserver")] + [
        (k.lower().encode(), v.encode()) for k, v in headers.items()
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=60))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(sent[0]["status"]), json.loads(body), pulled


def test_a_chunked_body_past_the_limit_is_refused_before_the_channel_key_is_checked(
    platform: Platform,
) -> None:
    status, body, pulled = chunked_post(
        platform,
        "/v1/accounts",
        chunks=[b" " * CHUNK] * 1024,  # 16 MiB, no Content-Length
        headers={"X-Channel-Key": "ck_bogus", "Content-Type": "application/json"},
    )

    assert (status, body["error"]) == (413, "body_too_large")
    assert body["detail"] and body["detail_zh"]
    assert pulled == CHANNEL_BODY_LIMIT // CHUNK + 1  # not the other 15.9 MiB


def test_a_chunked_body_within_the_limit_is_accepted(platform: Platform, db: Session) -> None:
    _, key = create_channel(db, code="chunky")
    db.commit()
    document = json.dumps({"phone": "13812345678"}).encode()

    status, body, _ = chunked_post(
        platform,
        "/v1/accounts",
        chunks=[document[:5], document[5:], b" " * (CHANNEL_BODY_LIMIT - len(document))],
        headers={"X-Channel-Key": key, "Content-Type": "application/json"},
    )

    assert status == 201, body
    assert body["phone_masked"] == "+86138****5678"
