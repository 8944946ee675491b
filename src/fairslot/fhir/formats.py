"""``application/fhir+json`` and ``application/fhir+xml``: content negotiation for the
whole FHIR sub-application, one ASGI step in front of its routes.

The answer's format is ``_format`` if given, else the best of ``Accept`` (JSON when it
has no preference, or none at all); one the server does not write is refused with 406.
A body in XML is read with the model library's own XML parser (``fhir.resources``'
``model_validate_xml``, which needs ``lxml``) and handed on as the same resource in
JSON, so every route reads one format; a body in another format is refused with 415.
An answer wanted in XML is the route's resource parsed by its model and written with
``model_dump_xml``. The routes themselves only ever see and write JSON.

Refusals here are OperationOutcomes like every other (``outcome.py``); the XML parser
resolves no entities and loads nothing from the network.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from lxml import etree
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fairslot.errors import DomainError
from fairslot.fhir.errors import FhirInvalid, FhirNotAcceptable, FhirUnsupportedMediaType
from fairslot.fhir.http import FHIR_JSON
from fairslot.fhir.outcome import refusal
from fairslot.observability.http import REFUSAL_KEY

FHIR_XML = "application/fhir+xml"
FHIR_NS = "http://hl7.org/fhir"
JSON, XML = "json", "xml"
FORMATS = (JSON, XML)  # what the CapabilityStatements declare
# Every name FHIR R4 lets a client use for the two formats (http.html#mime-type).
MIME = {
    FHIR_JSON: JSON,
    "application/json": JSON,
    "application/json+fhir": JSON,
    "text/json": JSON,
    FHIR_XML: XML,
    "application/xml": XML,
    "application/xml+fhir": XML,
    "text/xml": XML,
}
_FORMAT = {JSON: JSON, XML: XML, **MIME}
_ANY = {"*/*": JSON, "application/*": JSON}
FORM = "application/x-www-form-urlencoded"  # POST [type]/_search (search_post.py)


def _parser() -> etree.XMLParser:
    # No DTD, no entity expansion, no network: a body is data, never instructions.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def wanted_format(request: Request) -> str:
    """``json`` or ``xml``: what the client asked for (406 if neither)."""
    given = request.query_params.get("_format")
    if given is not None:
        # an unescaped ``+`` in a query reads as a space: ``application/fhir xml``
        value = given.strip().replace(" ", "+").split(";")[0].strip().lower()
        if value not in _FORMAT:
            raise FhirNotAcceptable(
                f"_format {given!r} is not supported; use json or xml ({FHIR_JSON} or {FHIR_XML})."
            )
        return _FORMAT[value]
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return JSON
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        found = MIME.get(media.lower()) or _ANY.get(media.lower())
        if found is None or quality <= 0:
            continue
        # the highest quality wins; among equals, the first listed
        rank = (quality, -position, found)
        if best is None or rank[:2] > best[:2]:
            best = rank
    if best is None:
        raise FhirNotAcceptable(
            f"None of Accept {accept[:200]!r} is a format this server writes; accept "
            f"{FHIR_JSON} or {FHIR_XML}."
        )
    return best[2]


def body_format(request: Request) -> str | None:
    """The body's format by its ``Content-Type`` (``None``: no type, or a search form);
    415 for one the server does not read."""
    given = request.headers.get("content-type")
    if not given or request.method not in ("POST", "PUT", "PATCH"):
        return None  # a GET's Content-Type (clients send theirs everywhere) says nothing
    media = given.split(";")[0].strip().lower()
    if media == FORM:
        return None
    found = MIME.get(media)
    if found is None:
        raise FhirUnsupportedMediaType(
            f"A body of type {media[:100]!r} cannot be read; send {FHIR_JSON} or {FHIR_XML}."
        )
    return found


def xml_to_json(body: bytes) -> bytes:
    """An XML resource as the same resource in FHIR JSON (422 if it is not one)."""
    try:
        root = etree.fromstring(body, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise FhirInvalid(f"The body is not well-formed XML: {exc}") from exc
    tag = etree.QName(root)
    if tag.namespace != FHIR_NS:
        raise FhirInvalid(f"The body's root element must be a FHIR resource in {FHIR_NS}.")
    try:
        model = get_fhir_model_class(tag.localname)
    except KeyError as exc:
        raise FhirInvalid(f"{tag.localname!r} is not a FHIR resource type.") from exc
    try:
        resource = model.model_validate_xml(body, xmlparser=_parser())
    except (ValidationError, ValueError, etree.LxmlError) as exc:
        raise FhirInvalid(f"The {tag.localname} is not valid FHIR: {_first(exc)}") from exc
    return resource.model_dump_json(exclude_none=True).encode("utf-8")


def json_to_xml(body: bytes) -> bytes:
    """A FHIR JSON answer as the same resource in XML."""
    data: Any = json.loads(body)
    model = get_fhir_model_class(data["resourceType"])
    written: object = model.model_validate(data).model_dump_xml()
    # annotated ``str``, but fhir.resources 8.3.0 returns lxml's UTF-8 bytes
    return written if isinstance(written, bytes) else str(written).encode("utf-8")


def _first(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg')}"
    return str(exc)[:300]


class FhirFormats:
    """Negotiate the answer's format, read an XML body as JSON, write an XML answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        wanted = JSON
        try:
            wanted = wanted_format(request)
            given = body_format(request)
            if given == XML:
                receive = await _as_json_body(scope, receive)
        except DomainError as exc:
            # counted by the request metrics as a handler's refusal would be
            scope.setdefault("state", {})[REFUSAL_KEY] = exc.code
            await self._send(refusal(exc, request), scope, receive, send, wanted)
            return
        await self._send(self.app, scope, receive, send, wanted)

    async def _send(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        scope: Scope,
        receive: Receive,
        send: Send,
        wanted: str,
    ) -> None:
        if wanted == JSON:
            await app(scope, receive, _vary(send))
        else:
            await app(scope, receive, _as_xml(_vary(send)))


async def _as_json_body(scope: Scope, receive: Receive) -> Receive:
    """Read the XML body whole (the site's body limit bounds it), hand it on as JSON."""
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    converted = xml_to_json(body) if body.strip() else b""  # no body: the route says so
    scope["headers"] = [
        (name, value)
        for name, value in scope.get("headers") or []
        if name not in (b"content-type", b"content-length")
    ] + [
        (b"content-type", FHIR_JSON.encode()),
        (b"content-length", str(len(converted)).encode()),
    ]
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # what follows the body: a disconnect
        sent = True
        return {"type": "http.request", "body": converted, "more_body": False}

    return replay


def _vary(send: Send) -> Send:
    async def with_vary(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), (b"vary", b"Accept")]
        await send(message)

    return with_vary


def _as_xml(send: Send) -> Send:
    """Buffer a FHIR JSON answer and send it as XML; anything else passes unchanged."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def to_xml(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", ()))
            media = headers.get(b"content-type", b"").split(b";")[0].strip().decode()
            if MIME.get(media) != JSON:
                await send(message)
                return
            start = message
            return
        if start is None or message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = json_to_xml(b"".join(chunks))
        start["headers"] = [
            (name, value)
            for name, value in start.get("headers", ())
            if name not in (b"content-type", b"content-length")
        ] + [
            (b"content-type", f"{FHIR_XML}; charset=utf-8".encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return to_xml
