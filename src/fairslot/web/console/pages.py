"""Small helpers every console page uses: render with the signed-in user, and the
post-redirect-get answer of an action (with the message to show on the next page)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fairslot.web.console.deps import ConsoleUser
from fairslot.web.templating import render


def page(
    request: Request,
    template: str,
    user: ConsoleUser,
    context: Mapping[str, Any] | None = None,
    *,
    active: str,
    status: int = 200,
) -> HTMLResponse:
    """A console page: the layout with the user's menu, ``active`` marking its entry;
    ``?done=<key>`` shows the message ``done.<key>`` (set by :func:`after`)."""
    done = request.query_params.get("done")
    return render(
        request,
        template,
        {"user": user, "active": active, "done": done, "zone": user.zone.key, **(context or {})},
        status=status,
    )


def after(url: str, *, done: str, **params: str | int) -> RedirectResponse:
    """Post-redirect-get: the page to show after an action, with its message."""
    query = urlencode({"done": done, **{k: str(v) for k, v in params.items()}})
    separator = "&" if "?" in url else "?"
    return RedirectResponse(f"{url}{separator}{query}", status_code=303)
