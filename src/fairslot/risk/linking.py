"""From the window's facts to the links the ring graph is built from. Pure: no I/O.

One link per booking (its patient, account, the patient's phone, device, networks and
payment account, with what became of it), one per binding (a patient bound to an
account, with the account's phone): a patient bound to many accounts, or an account's phone
shared with strangers, is structure even on days they do not book; and one per set of
identifiers a patient's requests came with (holds, intents, waitlist joins, payments — the
gate records every one, allowed or refused): grab software that lost the draw or the race
booked nothing, yet its devices and proxies still tie its identities together.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from fairslot.risk.facts import BookingFact
from fairslot.risk.rings import Link
from fairslot.risk.rules import Window


@dataclass(frozen=True, kw_only=True)
class SessionSupply:
    """What the batch knows of a session to judge its scarcity."""

    session_id: int
    draw_mode: bool
    capacity: int
    occupied: int  # slots held, booked, attended or missed right now


@dataclass(frozen=True, kw_only=True)
class BindingFact:
    """A patient bound to an account, with the account's phone (a keyed hash)."""

    patient_key: str
    account_id: int
    account_phone_hash: str | None


@dataclass(frozen=True, kw_only=True)
class RequestFact:
    """The window's requests for one patient with one set of identifiers, counted."""

    patient_key: str
    account_id: int | None
    device_key: str | None
    ip_key: str | None
    wifi_key: str | None
    payment_account_hash: str | None
    requests: int
    flagged: int  # of which the real-time gate flagged (review or block)
    channel_id: int | None = None


def is_scarce(session: SessionSupply) -> bool:
    """A slot is scarce when its session is one people compete for.

    Either the hospital said so (the department allocates by release draw, which it does for
    its expert clinics), or demand said so (every slot of the session ended up taken). A
    session with no capacity is withdrawn supply, not scarce supply.
    """
    if session.draw_mode:
        return True
    return session.capacity > 0 and session.occupied >= session.capacity


def visited_departments(bookings: Iterable[BookingFact], *, window: Window) -> set[tuple[str, int]]:
    """(patient, department) pairs with an attended visit in the window: a cancellation
    there was a reschedule (the same reading as the cancellations rule)."""
    return {
        (b.patient_key, b.department_id)
        for b in bookings
        if b.is_attended and window.contains_day(b.session_date)
    }


def booking_links(
    bookings: Iterable[BookingFact],
    *,
    window: Window,
    scarce_sessions: Mapping[int, bool],
    visited: set[tuple[str, int]],
) -> Iterator[Link]:
    for b in bookings:
        yield Link(
            patient_key=b.patient_key,
            account_id=None if b.account_id is None else str(b.account_id),
            phone_hash=b.phone_hash,
            device_key=b.device_key,
            ip_key=b.ip_key,
            wifi_key=b.wifi_key,
            payment_account_hash=b.payment_account_hash,
            booked=b.is_booking,
            scarce=b.is_booking and scarce_sessions.get(b.session_id, False),
            cancelled_without_visit=b.is_cancelled
            and b.cancelled_at is not None
            and window.contains(b.cancelled_at)
            and (b.patient_key, b.department_id) not in visited,
            no_show=b.is_no_show and window.contains_day(b.session_date),
        )


def binding_links(bindings: Iterable[BindingFact]) -> Iterator[Link]:
    for binding in bindings:
        yield Link(
            patient_key=binding.patient_key,
            account_id=str(binding.account_id),
            phone_hash=binding.account_phone_hash,
        )


def request_links(requests: Iterable[RequestFact]) -> Iterator[Link]:
    for r in requests:
        yield Link(
            patient_key=r.patient_key,
            account_id=None if r.account_id is None else str(r.account_id),
            device_key=r.device_key,
            ip_key=r.ip_key,
            wifi_key=r.wifi_key,
            payment_account_hash=r.payment_account_hash,
            flagged_requests=r.flagged,
        )


def links(
    *,
    bookings: Iterable[BookingFact],
    bindings: Iterable[BindingFact],
    requests: Iterable[RequestFact] = (),
    sessions: Iterable[SessionSupply],
    window: Window,
    patients: Collection[str] | None = None,
    public_networks: Collection[str] = (),
) -> list[Link]:
    """Every link of the window: the bookings first, then the bindings, then the requests.

    ``patients`` keeps only those patients' links (the groups that could be rings);
    ``public_networks`` are left out of the links, as the ring scoring leaves them out.
    """
    history = list(bookings)
    scarce = {s.session_id: is_scarce(s) for s in sessions}
    visited = visited_departments(history, window=window)
    if patients is not None:
        history = [b for b in history if b.patient_key in patients]
        bindings = [b for b in bindings if b.patient_key in patients]
        requests = [r for r in requests if r.patient_key in patients]
    found = [
        *booking_links(history, window=window, scarce_sessions=scarce, visited=visited),
        *binding_links(bindings),
        *request_links(requests),
    ]
    if public_networks:
        found = [_without(link, public_networks) for link in found]
    return found


def _without(link: Link, public: Collection[str]) -> Link:
    if link.ip_key in public or link.wifi_key in public:
        return replace(
            link,
            ip_key=None if link.ip_key in public else link.ip_key,
            wifi_key=None if link.wifi_key in public else link.wifi_key,
        )
    return link
