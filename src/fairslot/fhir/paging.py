"""Search results as a ``searchset`` Bundle, a page at a time.

``_count`` (at most :data:`MAX_COUNT`) and ``_offset`` choose the page; ``total`` is
the number of matches; ``self``, ``next`` and ``previous`` links repeat the request's
own parameters with the page's offset, so a client that follows ``next`` (fhirpy's
``fetch_all``) reads every match exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource

DEFAULT_COUNT = 20
MAX_COUNT = 100


@dataclass(frozen=True)
class Page:
    count: int
    offset: int

    def window(self, items: Sequence[Any]) -> Sequence[Any]:
        return items[self.offset : self.offset + self.count]


def page_params(
    count: Annotated[int, Query(alias="_count", ge=1, le=MAX_COUNT)] = DEFAULT_COUNT,
    offset: Annotated[int, Query(alias="_offset", ge=0, le=2**31 - 1)] = 0,
) -> Page:
    return Page(count=count, offset=offset)


PageDep = Annotated[Page, Depends(page_params)]


def base_url(request: Request) -> str:
    """The FHIR base (``…/fhir``) as the client reached it (a mounted app's
    ``root_path`` is not in Starlette's ``base_url``)."""
    base = str(request.base_url).rstrip("/")
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return base if base.endswith(root) else base + root


def local_path(request: Request) -> str:
    """The request's path below the FHIR base (``/Slot``)."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return request.url.path.removeprefix(root)


def searchset(
    request: Request,
    *,
    matches: Sequence[Resource],
    page: Page,
    notes: Sequence[OperationOutcome] = (),
    path: str | None = None,
    params: Sequence[tuple[str, str]] | None = None,
    include: Callable[[Sequence[Resource]], Sequence[Resource]] | None = None,
) -> Bundle:
    """The page of ``matches`` the request asked for; ``notes`` ride along as
    ``search.mode = outcome`` entries and ``include(page)`` as ``include`` entries (what
    ``_include`` asked for), neither counted in ``total``."""
    base = base_url(request)
    here = path or local_path(request)
    kept = [
        (k, v)
        for k, v in (params if params is not None else request.query_params.multi_items())
        if k not in ("_count", "_offset")
    ]

    def link(relation: str, offset: int) -> dict[str, str]:
        query = urlencode([*kept, ("_count", str(page.count)), ("_offset", str(offset))])
        return {"relation": relation, "url": f"{base}{here}?{query}"}

    links = [link("self", page.offset)]
    if page.offset + page.count < len(matches):
        links.append(link("next", page.offset + page.count))
    if page.offset > 0:
        links.append(link("previous", max(0, page.offset - page.count)))
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"{base}/{r.get_resource_type()}/{r.id}",
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in page.window(matches)
    ]
    if include is not None:
        entries += [
            {
                "fullUrl": f"{base}/{r.get_resource_type()}/{r.id}",
                "resource": r,
                "search": {"mode": "include"},
            }
            for r in include(page.window(matches))
        ]
    entries += [{"resource": note, "search": {"mode": "outcome"}} for note in notes]
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(matches),
            "link": links,
            "entry": entries,
        }
    )


def collection(request: Request, resources: Sequence[Resource]) -> Bundle:
    """The ITI-116/117 answer: the held or booked Appointment (and notes) in a Bundle."""
    base = base_url(request)
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": f"{base}/{r.get_resource_type()}/{r.id}", "resource": r}
                if r.id
                else {"resource": r}
                for r in resources
            ],
        }
    )
