"""Console sessions over HTTP (no browser): sign in through the form, read a page's CSRF
token, post a form as a person's browser would."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from factories.staff import PASSWORD
from fairslot.bootstrap import Platform
from fairslot.web.site import create_site

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class ConsoleSession:
    client: TestClient
    csrf: str

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        """A form post carrying the session's CSRF token (unless ``data`` sets its own)."""
        form = {"csrf_token": self.csrf, **(data or {})}
        return self.client.post(url, data=form, follow_redirects=False, **kwargs)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> ConsoleSession:
    """Sign in through the console's form; the client keeps the session cookie."""
    form = client.get("/console/login")
    assert form.status_code == 200, form.text
    response = client.post(
        "/console/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(form.text),
            "next": "/console/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/console/")
    assert home.status_code == 200, home.text
    return ConsoleSession(client=client, csrf=csrf_of(home.text))


@pytest.fixture
def site(platform: Platform) -> Iterator[TestClient]:
    """The whole site (API + console) over HTTP; a server error comes back as a 500."""
    with TestClient(create_site(platform), raise_server_exceptions=False) as client:
        yield client


def page_text(page_html: str) -> str:
    """What a person reads of a page: tags removed, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page_html)))
