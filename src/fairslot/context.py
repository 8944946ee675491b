"""Who is acting, and from where: recorded with every request and ledger event."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    actor: str  # "patient", "hospital", "system", "staff:<name>", "cli"
    channel_id: int | None = None
    account_id: int | None = None
    device_id: str | None = None
    ip: str | None = None
    wifi_id: str | None = None
    user_agent: str | None = None
    payment_account_hash: str | None = None


SYSTEM = RequestContext(actor="system")
