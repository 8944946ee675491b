"""The simulator's figures, computed from what happened. Pure: no I/O.

Input: a :class:`DayLog` — every request the simulator sent, every booking its identities
ended up with (final status from the platform), what each genuine patient came for, each
transfer a broker attempted — the identities the platform blocked after the day, and
day 2's log. Output: :class:`Figures`, the JSON keys of one mode.

Definitions (each figure counts exactly this):

* ``scarce_slots``: slots of the expert sessions (what the hospital pushed).
* ``genuine_share`` / ``scalper_share``: expert slots whose booking stands at the end of
  the day (booked, checked in or no-show) for a genuine patient / for a scalper-side
  identity (grab software, hired wave, broker throw-away, or a broker's buyer — a slot
  resold on the black market is the scalpers' slot), divided by ``scarce_slots``.
* ``transfer_attempts``: bookings a broker cancelled in order to re-book them for a buyer.
  ``transfer_successes``: those after which the buyer got a confirmed booking of the same
  session, confirmed at or after the cancellation.
* ``detection_precision``: of the blocked identities that are genuine or scalper-controlled
  (buyers neither count for nor against), the share that are scalper-controlled; None when
  nobody was blocked (the baseline).
  ``detection_recall``: of the scalper-controlled identities, the share blocked (0 in the
  baseline). ``genuine_blocked``: genuine patients blocked. An identity is *blocked* when
  a case the reviewer confirmed is about it, or the gate refused it (``request_blocked``)
  on day 1 or day 2 (:func:`blocked_identities`). All three are None when the after-the-day
  phases did not run (a platform given by ``--url``).
* ``day2``: the second release day's market figures (:class:`DayTwoFigures`), and whether
  the identities blacklisted after day 1 came back and got an expert slot.
* ``genuine_success_rate``: genuine patients who wanted an expert slot and got a confirmed
  booking of one, or of an alternative they accepted; None if nobody wanted one.
* ``median_time_to_book_s``: over genuine patients who got a confirmed booking, simulated
  seconds from the first request for their wish to the confirmation of that booking.
* ``requests``: every request the simulator sent; ``server_errors``: those answered 5xx.
* ``fast_vs_genuine`` (:class:`WinRates`, per day): over all expert sessions of the day,
  the win rate per identity of the fast bots against the genuine patients. ``bots_tried``:
  grab-software identities that asked for an expert slot (held, entered a draw or joined a
  waitlist — the software asks for nothing else); ``genuine_tried``: genuine patients who
  came for an expert slot (a scarce wish, counted from its first request). ``*_won``: of
  them, those holding an expert slot at the end of the day (booked, checked in or no-show).
  ``p_value``: two-sided Fisher's exact test of the 2×2 table (won / lost × bots /
  genuine); None when either group is empty. A fair platform shows no significant
  difference (the issue's target: p > 0.01); a first-come one, bots winning far more often.
"""

from __future__ import annotations

import enum
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from fairslot.sim.scenario import SCALPER_CONTROLLED, Klass

STANDING = frozenset({"booked", "checked_in", "no_show"})
SCALPER_SIDE = SCALPER_CONTROLLED | {Klass.BUYER}
GATE_REFUSAL = "request_blocked"
# The requests that ask for a slot: a hold, a draw entry, a waitlist entry.
ASKING = frozenset({"hold", "intent", "waitlist_join"})
FAST_BOTS = frozenset({Klass.GRAB_BOT})


class Via(enum.StrEnum):
    """How a booking came about."""

    HOLD = "hold"  # hold and confirm
    DRAW = "draw"  # won a release draw
    WAITLIST = "waitlist"  # a returned slot booked for a waiting patient
    ALTERNATIVE = "alternative"  # a genuine patient took an offered alternative
    TRANSFER = "transfer"  # a broker re-booked a cancelled slot for the buyer


@dataclass(frozen=True)
class RequestEvent:
    at: datetime  # simulated time the request was sent
    actor: str
    person: str | None
    action: str
    status: int  # 0: no answer (transport error)
    code: str | None = None  # the platform's error code, if refused
    seconds: float = 0.0  # simulated seconds until the answer


@dataclass(frozen=True)
class BookingFact:
    booking_id: str
    person: str
    session_id: int
    scarce: bool
    via: Via
    status: str  # final status from the platform
    booked_at: datetime | None  # when it was confirmed (None: never)


@dataclass(frozen=True)
class WishFact:
    person: str
    scarce: bool
    started_at: datetime  # the first request made for it


@dataclass(frozen=True)
class TransferFact:
    broker: str
    throwaway_booking_id: str
    buyer: str
    session_id: int
    cancelled_at: datetime


@dataclass(frozen=True)
class DayLog:
    persons: Mapping[str, Klass]
    scarce_slots: int
    requests: Sequence[RequestEvent]
    bookings: Sequence[BookingFact]
    wishes: Sequence[WishFact]
    transfers: Sequence[TransferFact]
    patients: Mapping[int, str] = field(default_factory=dict)  # platform patient id -> person
    # platform account id -> the persons it was opened for
    accounts: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    # persons whose entry was held out of its draw for review at the end of the day
    held: frozenset[str] = frozenset()


@dataclass(frozen=True)
class WinRates:
    bots_tried: int
    bots_won: int
    genuine_tried: int
    genuine_won: int
    p_value: float | None


@dataclass(frozen=True)
class Figures:
    scarce_slots: int
    genuine_share: float | None
    scalper_share: float | None
    transfer_attempts: int
    transfer_successes: int
    detection_precision: float | None
    detection_recall: float | None
    genuine_blocked: int | None
    genuine_success_rate: float | None
    median_time_to_book_s: float | None
    requests: int
    server_errors: int
    day2: DayTwoFigures | None = None
    fast_vs_genuine: WinRates | None = None

    def as_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class DayTwoFigures:
    """Day 2: the same market figures, and what became of the blacklisted.

    ``blacklisted_scalpers``: scalper-controlled identities in a confirmed case after day 1;
    ``blacklisted_came_back``: of them, those that sent any request on day 2;
    ``blacklisted_got_scarce``: of them, those holding an expert slot at the end of day 2;
    ``scalpers_refused_by_gate`` / ``genuine_refused_by_gate``: identities refused with
    ``request_blocked`` on day 2.
    """

    scarce_slots: int
    genuine_share: float | None
    scalper_share: float | None
    transfer_attempts: int
    transfer_successes: int
    genuine_success_rate: float | None
    median_time_to_book_s: float | None
    requests: int
    server_errors: int
    blacklisted_scalpers: int
    blacklisted_came_back: int
    blacklisted_got_scarce: int
    scalpers_refused_by_gate: int
    genuine_refused_by_gate: int
    fast_vs_genuine: WinRates | None = None


@dataclass(frozen=True)
class Detection:
    precision: float | None
    recall: float | None
    genuine_blocked: int


def figures(
    log: DayLog,
    *,
    blocked: frozenset[str] | None,
    second: DayLog | None = None,
    blacklisted: frozenset[str] = frozenset(),
) -> Figures:
    """The figures of one mode; ``blocked`` are the identities (person keys) the platform
    blocked (:func:`blocked_identities`), or None when the after-the-day phases did not
    run; ``second`` is day 2's log, ``blacklisted`` the identities of confirmed cases."""
    standing = scarce_holders(log)
    detection = None if blocked is None else detect(log, blocked=blocked)
    return Figures(
        scarce_slots=log.scarce_slots,
        genuine_share=_share(sum(1 for k in standing if k == Klass.GENUINE), log.scarce_slots),
        scalper_share=_share(sum(1 for k in standing if k in SCALPER_SIDE), log.scarce_slots),
        transfer_attempts=len(log.transfers),
        transfer_successes=sum(1 for t in log.transfers if transfer_succeeded(log, t)),
        detection_precision=detection.precision if detection else None,
        detection_recall=detection.recall if detection else None,
        genuine_blocked=detection.genuine_blocked if detection else None,
        genuine_success_rate=genuine_success_rate(log),
        median_time_to_book_s=median_time_to_book(log),
        requests=len(log.requests),
        server_errors=sum(1 for r in log.requests if r.status >= 500),
        day2=None if second is None else day_two(second, blacklisted=blacklisted),
        fast_vs_genuine=fast_vs_genuine(log),
    )


def gate_refused(log: DayLog) -> frozenset[str]:
    """Identities the real-time gate refused at least once."""
    return frozenset(r.person for r in log.requests if r.code == GATE_REFUSAL and r.person)


def blocked_identities(*, blacklisted: frozenset[str], days: Sequence[DayLog]) -> frozenset[str]:
    """Blocked: in a confirmed case, or refused by the gate on any of ``days``."""
    return blacklisted.union(*(gate_refused(day) for day in days))


def day_two(log: DayLog, *, blacklisted: frozenset[str]) -> DayTwoFigures:
    market = figures(log, blocked=None)
    scalpers = {p for p, k in log.persons.items() if k in SCALPER_CONTROLLED}
    marked = blacklisted & scalpers
    came_back = {r.person for r in log.requests if r.person in marked}
    got_scarce = {b.person for b in log.bookings if b.scarce and b.status in STANDING}
    refused = gate_refused(log)
    return DayTwoFigures(
        scarce_slots=market.scarce_slots,
        genuine_share=market.genuine_share,
        scalper_share=market.scalper_share,
        transfer_attempts=market.transfer_attempts,
        transfer_successes=market.transfer_successes,
        genuine_success_rate=market.genuine_success_rate,
        median_time_to_book_s=market.median_time_to_book_s,
        requests=market.requests,
        server_errors=market.server_errors,
        blacklisted_scalpers=len(marked),
        blacklisted_came_back=len(came_back),
        blacklisted_got_scarce=len(marked & got_scarce),
        scalpers_refused_by_gate=len(refused & scalpers),
        genuine_refused_by_gate=sum(1 for p in refused if log.persons.get(p) == Klass.GENUINE),
        fast_vs_genuine=market.fast_vs_genuine,
    )


def scarce_holders(log: DayLog) -> list[Klass]:
    """The class of the identity holding each expert slot booked at the end of the day."""
    return [log.persons[b.person] for b in log.bookings if b.scarce and b.status in STANDING]


def transfer_succeeded(log: DayLog, transfer: TransferFact) -> bool:
    return any(
        b.person == transfer.buyer
        and b.session_id == transfer.session_id
        and b.booked_at is not None
        and b.booked_at >= transfer.cancelled_at
        for b in log.bookings
    )


def detect(log: DayLog, *, blocked: frozenset[str]) -> Detection:
    scalpers = {p for p, k in log.persons.items() if k in SCALPER_CONTROLLED}
    genuine = {p for p, k in log.persons.items() if k == Klass.GENUINE}
    judged = blocked & (scalpers | genuine)
    refused = {r.person for r in log.requests if r.code == GATE_REFUSAL and r.person in genuine}
    return Detection(
        precision=_share(len(judged & scalpers), len(judged)),
        recall=_share(len(blocked & scalpers), len(scalpers)),
        genuine_blocked=len((blocked & genuine) | refused),
    )


def genuine_success_rate(log: DayLog) -> float | None:
    wanting = {w.person for w in log.wishes if w.scarce and log.persons[w.person] == Klass.GENUINE}
    served = {
        b.person
        for b in log.bookings
        if b.person in wanting
        and b.booked_at is not None
        and (b.scarce or b.via == Via.ALTERNATIVE)
    }
    return _share(len(served), len(wanting))


def median_time_to_book(log: DayLog) -> float | None:
    waits: list[float] = []
    for wish in log.wishes:
        if log.persons[wish.person] != Klass.GENUINE:
            continue
        confirmed = [
            b.booked_at
            for b in log.bookings
            if b.person == wish.person
            and b.booked_at is not None
            and b.booked_at >= wish.started_at
        ]
        if confirmed:
            waits.append((min(confirmed) - wish.started_at).total_seconds())
    return round(statistics.median(waits), 1) if waits else None


def fast_vs_genuine(log: DayLog) -> WinRates:
    """Per identity, over all expert sessions: fast bots' wins against genuine patients'."""
    asked = {r.person for r in log.requests if r.person and r.action in ASKING}
    bots = {p for p in asked if log.persons.get(p) in FAST_BOTS}
    genuine = {
        w.person for w in log.wishes if w.scarce and log.persons.get(w.person) == Klass.GENUINE
    }
    winners = {b.person for b in log.bookings if b.scarce and b.status in STANDING}
    bots_won, genuine_won = len(bots & winners), len(genuine & winners)
    p_value = (
        fisher_exact_two_sided(
            bots_won, len(bots) - bots_won, genuine_won, len(genuine) - genuine_won
        )
        if bots and genuine
        else None
    )
    return WinRates(
        bots_tried=len(bots),
        bots_won=bots_won,
        genuine_tried=len(genuine),
        genuine_won=genuine_won,
        p_value=None if p_value is None else significant(p_value),
    )


def significant(p_value: float) -> float:
    """A p-value to 4 significant digits: a fixed number of decimals would round the
    p-values of large tables (1e-12) to 0."""
    return float(f"{p_value:.4g}")


def fisher_exact_two_sided(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher's exact test of the table ``[[a, b], [c, d]]``: the probability,
    with the margins fixed, of a table no more likely than the one seen (hypergeometric).

    Computed on whole numbers (``math.comb``), so ties between equally likely tables are
    exact and no tolerance is needed.
    """
    if min(a, b, c, d) < 0:
        raise ValueError("a table of counts cannot hold a negative number")
    row, col, total = a + b, a + c, a + b + c + d
    if total == 0:
        return 1.0

    def weight(x: int) -> int:  # comb(total, row) times the probability of top-left = x
        return math.comb(col, x) * math.comb(total - col, row - x)

    seen = weight(a)
    extreme = sum(
        w for x in range(max(0, row + col - total), min(row, col) + 1) if (w := weight(x)) <= seen
    )
    return min(1.0, extreme / math.comb(total, row))


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
