"""The platform's own ASGI app called in this process, synchronously.

httpx's ASGI transport is async only, so its client runs on an event loop in a thread of
its own (anyio's blocking portal) and each call waits for the whole answer: the app has
committed (or rolled back and recorded the refusal) before the call returns. Nothing
listens on a port; every request goes through the same routing, dependencies, gate and
request records as one from a channel's server.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.types import ASGIApp

BASE_URL = "http://fairslot.internal"


class AppClient:
    """``get`` / ``post`` on the app, answered in full before they return."""

    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient) -> None:
        self._portal = portal
        self._client = client

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._portal.call(partial(self._client.request, method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


@contextmanager
def app_client(app: ASGIApp) -> Generator[AppClient]:
    portal_scope: AbstractContextManager[BlockingPortal] = start_blocking_portal()
    with portal_scope as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
        try:
            yield AppClient(portal, client)
        finally:
            portal.call(client.aclose)
