"""What blocking an identifier would also stop, and which identifiers a confirmation
blocks. Pure: no database, no web.

Every identifier a case offers carries ``others``: how many patients outside the case it
is linked to over the last :data:`LINKED_DAYS` (bookings, payments, requests, bindings —
``reading_repository.linked_patient_counts``). A confirmation then blocks the chosen
scopes' identifiers except:

* a **shared address** — a network linked to more than :data:`SHARED_NETWORK_ABOVE` other
  patients (a carrier's NAT, a hospital's or a café's Wi-Fi): never blocked outright,
  whatever the reviewer chose;
* a **shared identifier** of another scope linked to more than
  :data:`SHARED_IDENTIFIER_ABOVE` other patients (a kiosk, a pooled payment account);
* a **bare address where stronger identifiers stop the operator**: when the chosen scopes
  block a payment account, a device, an account or a patient, the case's IP addresses are
  held back — a grab ring's rotating proxies would otherwise write hundreds of single-IP
  blocks that stop nothing the stronger ones do not, and some of which strangers share.
  A home Wi-Fi that nobody else uses is still blocked when networks are chosen.

An unknown count (``None``: the identifier's value is nowhere in the window's rows) is
treated as nobody else: there is nobody it is known to stop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from fairslot.cases.candidates import Candidate

# Bookings and requests that link an identifier to other patients count this far back.
LINKED_DAYS: Final = 180
SHARED_NETWORK_ABOVE: Final = 2
SHARED_IDENTIFIER_ABOVE: Final = 5
# Scopes that stop an operator without touching strangers: preferred over addresses.
STRONG_SCOPES: Final = frozenset({"patient", "account", "device", "payment"})

SHARED_ADDRESS: Final = "shared_address"
SHARED_IDENTIFIER: Final = "shared_identifier"
STRONGER_BLOCKS: Final = "stronger_blocks_suffice"


@dataclass(frozen=True)
class HeldBack:
    candidate: Candidate
    others: int | None
    reason: str  # SHARED_ADDRESS, SHARED_IDENTIFIER or STRONGER_BLOCKS


@dataclass(frozen=True)
class Plan:
    block: list[Candidate]
    held_back: list[HeldBack]


def is_address(candidate: Candidate) -> bool:
    """An IP address rather than a Wi-Fi (``candidates.py`` labels them ``ip …``)."""
    return candidate.scope == "network" and candidate.label.startswith("ip ")


def shared(scope: str, others: int | None) -> str | None:
    """Why an identifier of ``scope`` linked to ``others`` patients outside the case is
    never blocked outright, or None. A patient key names one person: never shared."""
    if scope == "patient" or others is None:
        return None
    if scope == "network":
        return SHARED_ADDRESS if others > SHARED_NETWORK_ABOVE else None
    return SHARED_IDENTIFIER if others > SHARED_IDENTIFIER_ABOVE else None


def plan(
    candidates: Sequence[Candidate],
    *,
    scopes: set[str],
    others: Mapping[tuple[str, str], int | None],
) -> Plan:
    """The identifiers of ``scopes`` to block, and those held back with the reason."""
    chosen = [c for c in candidates if c.scope in scopes]
    block: list[Candidate] = []
    held: list[HeldBack] = []
    for c in chosen:
        count = others.get((c.scope, c.key))
        reason = shared(c.scope, count)
        if reason:
            held.append(HeldBack(c, count, reason))
        else:
            block.append(c)
    if any(c.scope in STRONG_SCOPES for c in block):
        kept = [c for c in block if not is_address(c)]
        held += [
            HeldBack(c, others.get((c.scope, c.key)), STRONGER_BLOCKS)
            for c in block
            if is_address(c)
        ]
        block = kept
    return Plan(block=block, held_back=held)
