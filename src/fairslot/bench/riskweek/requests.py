"""The gate's request records in the benchmark's week (``request_records``): the requests
the batch reads besides the bookings (``risk/repository.py::request_facts``). Pure apart
from the rows it hands to a :class:`~fairslot.bench.riskweek.data.Sink`.

Drawn from a generator of their own, seeded from the week's seed: a seed's bookings and
ledger are the same with or without them, so the batch's timings before and after compare.

* ``bind_patient`` — one per binding, from the account's device and home network. Most
  households bound their patients long before the window; ``NEW_ACCOUNT_SHARE`` of the
  accounts that book in the week did so in it, minutes to two days before their first
  booking. An account binding its third patient within the gate's binding window is
  flagged ``review`` (``binding_burst``), as the gate flags it: a new family of four is.
* refused holds — before a booking taken in the release rush (before 01:00 local), up to
  three holds refused ``slot_taken`` or ``session_full`` in the seconds since the release,
  with the booking's identifiers; now and then one refused ``rate_limited`` (the limiter
  refuses before the request names a patient, so that record has none).
* a quick genuine payer — ``FAST_CONFIRM_SHARE`` of the confirmations come within 3 s of
  the hold and are flagged ``review`` (``fast_confirm``): flagged noise on the genuine side,
  which must not flag a family.

Allowed holds and confirmations are not written: the batch does not read them (their
booking says the same), and they would be most of a real table.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, time
from typing import Final

from fairslot.bench.riskweek.data import (
    WINDOW_CHANNEL,
    ZONE,
    Fmt,
    SessionInfo,
    Shape,
    Sink,
    local_epoch,
)
from fairslot.bench.riskweek.people import AccountInfo, PersonInfo, Population
from fairslot.gate.velocity import Reason, Thresholds

NEW_ACCOUNT_SHARE: Final = 0.03  # of the accounts booking in the week: bound their patients in it
FAST_CONFIRM_SHARE: Final = 0.01  # of confirmations: a quick genuine payer
RATE_LIMITED_SHARE: Final = 0.02  # of rush bookings: a retry the limiter refused
# Holds lost before a rush booking: (count, weight).
LOST_RACES: Final = ((0, 30), (1, 35), (2, 25), (3, 10))
BINDING_SPACING: Final = (40.0, 900.0)  # seconds between a household's bindings (4 in < 1 h)
HOUR: Final = 3_600.0
DAY: Final = 86_400.0
RUSH_END: Final = time(1)
RELEASE: Final = time(0, 30)
# The gate's defaults (config.py ``velocity_binding_window_minutes``, ``_review_at``).
BINDING_WINDOW_SECONDS: Final = 600.0
BINDING_REVIEW_AT: Final = Thresholds().binding_review_at
OK: Final = "ok"
ALLOW: Final = "allow"
REVIEW: Final = "review"


class RequestLog:
    """Writes ``request_records`` rows with ascending ids, and counts them by kind."""

    def __init__(
        self, shape: Shape, *, sink: Sink, fmt: Fmt, rng: random.Random, old_binding: float
    ) -> None:
        self.sink, self.fmt, self.rng = sink, fmt, rng
        self.window_start = local_epoch(shape.first_day, time(0))
        self.old_binding = old_binding  # when the households of long ago bound their patients
        self.last_id = 0
        self.counts: Counter[str] = Counter()
        self._seen: set[int] = set()  # accounts that booked in the week
        self._bound_at: dict[int, float] = {}  # account id -> when it bound its patients
        self._spacing: dict[int, tuple[float, float]] = {}  # a planted account's pace

    def record(
        self,
        at: float,
        action: str,
        *,
        account: AccountInfo,
        patient_key: str | None,
        device: str | None,
        ip: str | None,
        wifi: str | None = None,
        outcome: str = OK,
        decision: str | None = ALLOW,
        reasons: str | None = None,
        booking_id: str | None = None,
        slot_id: str | None = None,
        payment: str | None = None,
    ) -> None:
        self.last_id += 1
        flagged = f" {decision}" if decision in (REVIEW, "block") else ""
        self.counts[f"{action} {outcome}{flagged}"] += 1
        self.sink.row(
            "request_records",
            (str(self.last_id), self.fmt.ts(at), action, outcome, str(account.channel),
             str(account.id), patient_key, booking_id, slot_id, device, ip, wifi, payment, None,
             decision, reasons),
        )  # fmt: skip

    # the simulated week ----------------------------------------------------------------

    def booking(
        self,
        *,
        person: PersonInfo,
        session: SessionInfo,
        number: int,
        at: float,
        paid_at: float | None,
        booking_id: str,
        device: str | None,
        ip: str | None,
        wifi: str | None,
        payment: str,
    ) -> float | None:
        """The requests around one booking held at ``at``; returns when it was paid
        (``paid_at``, None for a hold left to lapse), sooner for a quick payer."""
        rng, account = self.rng, person.account
        if account.id not in self._seen:
            self._seen.add(account.id)
            since = at - self.window_start
            if rng.random() < NEW_ACCOUNT_SHARE and since > HOUR:
                # In the window, and early enough that the household is bound before it books.
                self._bound_at[account.id] = at - rng.uniform(HOUR, min(2 * DAY, since))
        local = datetime.fromtimestamp(at, ZONE)
        if local.time() < RUSH_END:
            release = local_epoch(local.date(), RELEASE)
            self._lost_races(
                person, session, number, at=at, release=release, device=device, ip=ip, wifi=wifi
            )
        if paid_at is not None and rng.random() < FAST_CONFIRM_SHARE:
            paid_at = at + rng.uniform(0.8, 2.9)
            self.record(
                paid_at,
                "confirm",
                account=account,
                patient_key=person.key,
                device=device,
                ip=ip,
                wifi=wifi,
                decision=REVIEW,
                reasons=Reason.FAST_CONFIRM.value,
                booking_id=booking_id,
                payment=payment,
            )
        return paid_at

    def _lost_races(
        self,
        person: PersonInfo,
        session: SessionInfo,
        number: int,
        *,
        at: float,
        release: float,
        device: str | None,
        ip: str | None,
        wifi: str | None,
    ) -> None:
        """The holds a rush booking lost first, in the seconds since the release."""
        rng = self.rng
        counts, weights = zip(*LOST_RACES, strict=True)
        lost = rng.choices(counts, weights=weights)[0] if at > release + 1 else 0
        for lost_at in sorted(rng.uniform(max(release, at - 30), at) for _ in range(lost)):
            taken = session.capacity > 1 and rng.random() < 0.5
            other = (number - 1 + rng.randrange(1, max(2, session.capacity))) % session.capacity
            self.record(
                lost_at,
                "hold",
                account=person.account,
                patient_key=person.key,
                device=device,
                ip=ip,
                wifi=wifi,
                outcome="slot_taken" if taken else "session_full",
                slot_id=session.slot_ids[other] if taken else None,
            )
        if rng.random() < RATE_LIMITED_SHARE:
            self.record(
                at - rng.uniform(0, min(5.0, at - release)),
                "create_hold",
                account=person.account,
                patient_key=None,
                device=device,
                ip=ip,
                wifi=wifi,
                outcome="rate_limited",
                decision=None,
            )

    # bindings --------------------------------------------------------------------------

    def bind_at(self, account: AccountInfo, *, at: float, spacing: tuple[float, float]) -> None:
        """``account`` binds its patients from ``at`` on, ``spacing`` seconds apart (a
        planted script's own pace)."""
        self._bound_at[account.id] = at
        self._spacing[account.id] = spacing

    def bind_everyone(self, population: Population) -> None:
        """Every person's binding row and its ``bind_patient`` record. An account binds its
        patients one after another (a household filling in the form, ``BINDING_SPACING``
        seconds apart); the gate reviews the third within its binding window."""
        rng = self.rng
        history: dict[int, list[float]] = {}
        for person in population.people.persons:
            account = person.account
            earlier = history.setdefault(account.id, [])
            if earlier:
                at = earlier[-1] + rng.uniform(*self._spacing.get(account.id, BINDING_SPACING))
            else:
                at = self._bound_at.get(account.id) or self.old_binding + rng.uniform(0, 50 * DAY)
            burst = sum(1 for t in earlier if t > at - BINDING_WINDOW_SECONDS) + 1
            earlier.append(at)
            population.bind(person, at=at)
            counter = account.channel == WINDOW_CHANNEL  # no device, no home network
            self.record(
                at,
                "bind_patient",
                account=account,
                patient_key=person.key,
                device=account.device,
                ip=None if counter else account.ip,
                wifi=None if counter else account.wifi,
                decision=REVIEW if burst >= BINDING_REVIEW_AT else ALLOW,
                reasons=Reason.BINDING_BURST.value if burst >= BINDING_REVIEW_AT else None,
            )
        self._seen.clear()
