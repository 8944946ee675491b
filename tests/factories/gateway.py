"""A payment provider's gateway on a local port, standing in for a real one in tests of
``HttpProvider`` (``payments/providers.py``).

It does what a provider does with the platform's redirect: checks the platform's
signature of the query (the shared secret), shows its cashier page (pay, or pre-authorise
for ``action=preauthorise``), and on the patient's answer signs a callback with its own
payer and trade number and posts it, server to server, to the platform's callback
(``/pay/callback/http`` or ``/pay/preauth/callback/http``), then sends the patient back to
the return URL. With no platform address (a TestClient has none) the callbacks are kept in
``undelivered`` for the test to post as the provider would.
"""

from __future__ import annotations

import html
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fairslot.payments import signing

SECRET = "gateway-shared-secret-" + "x" * 24
PAYER = "gw-payer-6222021234567890"


@dataclass
class Delivery:
    path: str
    fields: dict[str, str]
    status: int = 0
    body: str = ""


@dataclass
class Gateway:
    url: str  # the cashier's address: FAIRSLOT_PAYMENT_URL
    site: str | None  # the platform's address, for the server-to-server callback
    secret: str = SECRET
    seen: list[dict[str, str]] = field(default_factory=list)  # redirects, signature checked
    refused: list[dict[str, str]] = field(default_factory=list)  # redirects badly signed
    delivered: list[Delivery] = field(default_factory=list)
    undelivered: list[Delivery] = field(default_factory=list)

    def callback(self, request: dict[str, str], outcome: str) -> Delivery:
        """The signed callback a provider sends for its answer to ``request``."""
        fields = {
            "order_id": request["order_id"],
            "amount": request["amount"],
            "outcome": outcome,
            "payer": PAYER,
            "trade_no": f"GW-{outcome.upper()}-{request['order_id'][:8]}",
        }
        preauth = request.get("action") == "preauthorise"
        path = "/pay/preauth/callback/http" if preauth else "/pay/callback/http"
        return Delivery(path=path, fields=signing.signed(fields, secret=self.secret))

    def deliver(self, delivery: Delivery) -> None:
        if self.site is None:
            self.undelivered.append(delivery)
            return
        body = urlencode(delivery.fields).encode()
        try:
            with urllib.request.urlopen(self.site + delivery.path, data=body, timeout=10) as r:
                delivery.status, delivery.body = r.status, r.read().decode()
        except urllib.error.HTTPError as refused:
            delivery.status, delivery.body = refused.code, refused.read().decode()
        self.delivered.append(delivery)


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            query = dict(parse_qsl(urlsplit(self.path).query))
            if not signing.verify(query, secret=gateway.secret):
                gateway.refused.append(query)
                self._send(400, "<p>bad signature</p>")
                return
            gateway.seen.append(query)
            hidden = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in query.items()
            )
            preauth = query.get("action") == "preauthorise"
            yes = ("authorised", "确认授权") if preauth else ("paid", "确认付款")
            page = (
                '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
                "<title>网关收银台</title></head><body><main><h1>网关收银台</h1>"
                f"<p>¥{html.escape(query.get('amount', ''))}</p>"
                f'<form method="post" action="/cashier/answer">{hidden}'
                f'<button name="outcome" value="{yes[0]}">{yes[1]}</button>'
                '<button name="outcome" value="cancelled">取消</button></form></main></body></html>'
            )
            self._send(200, page)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            outcome = form.pop("outcome", "cancelled")
            if not signing.verify(form, secret=gateway.secret):
                self._send(400, "<p>bad signature</p>")
                return
            gateway.deliver(gateway.callback(form, outcome))
            back = (gateway.site or "") + form.get("return_url", "/")
            self._send(303, "", {"Location": back})

    return Handler


@contextmanager
def running_gateway(*, site: str | None = None) -> Iterator[Gateway]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Gateway(url="", site=None)))
    port = server.server_address[1]
    gateway = Gateway(url=f"http://127.0.0.1:{port}/cashier", site=site)
    server.RequestHandlerClass = _handler(gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
