"""The window's suspects counted over columns. Pure: no I/O (numpy).

A city's week is a million bookings, and each rule family's 7-day count is a grouping
over them. In the database each grouping is a sort of long text keys, nine of them per
run; here the window is read once (``window_columns_repository.py``), its
identifiers turned into 64-bit numbers, and every count is a numpy grouping over those.

Why the suspects are the ones the database's counts would give (``tests/integration/
test_risk_window.py`` compares them): what is *counted* distinctly (patients, accounts,
departments, sessions) is an exact integer — a patient's ``patients.id``, never a hash — so no
count is ever lowered; only what is *grouped by* (a device, a payment account) is a
hash, and two that collide only add their counts together and let more bookings through
to the pure rules, which judge them as ever. A count can grow, never shrink: no suspect
is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fairslot.risk.facts import RiskSettings
from fairslot.risk.ring_groups import (
    ACCOUNT,
    DEVICE,
    NETWORK,
    PAYMENT,
    PHONE,
    Grouped,
    group,
    number,
    numbered,
)
from fairslot.risk.rings import RingSettings

# Row flags, worked out by the database as the window is read (``window_columns_repository``).
BOOKED = 1  # a booking (not an expired hold), taken in the window
PAID = 2  # confirmed with a payment account, taken in the window
SEX_MISMATCH = 4  # booked, by a patient of the sex the department does not see
CANCELLED = 8  # cancelled in the window
NO_SHOW = 16  # missed, on a day of the window
TAKEN = 32  # taken in the window, whatever became of it

NONE = -1  # an absent integer (account, channel)


@dataclass
class Keyed:
    """A text column of identifiers as numbers (``ring_groups.numbered``): ``present``
    where it was not NULL (what SQL counts), ``filled`` where it can join anyone."""

    numbers: np.ndarray
    present: np.ndarray
    filled: np.ndarray

    @classmethod
    def of(cls, values: Sequence[str | None], kind: int) -> Keyed:
        return cls(*numbered(values, kind))

    @classmethod
    def joined(cls, parts: Sequence[Keyed]) -> Keyed:
        return cls(
            np.concatenate([k.numbers for k in parts]),
            np.concatenate([k.present for k in parts]),
            np.concatenate([k.filled for k in parts]),
        )


@dataclass
class WindowColumns:
    """The window's bookings (``window_repository.window_rows``), one array per column,
    row by row."""

    patient: np.ndarray  # the patient's number (exact)
    account: np.ndarray  # NONE when the booking had none
    department: np.ndarray
    session: np.ndarray
    flags: np.ndarray  # BOOKED | PAID | ...
    taken_at: np.ndarray  # seconds since 1970, of the rows TAKEN
    cancelled_at: np.ndarray  # seconds since 1970, of the rows CANCELLED
    channel: np.ndarray  # NONE when none
    payment: Keyed
    device: Keyed
    phone: Keyed  # the patient's
    ip: Keyed
    wifi: Keyed


@dataclass
class ActorColumns:
    """The window's requests the batch reads (``repository.request_filter``): who acted
    with which identifiers."""

    patient: np.ndarray
    account: np.ndarray
    channel: np.ndarray
    payment: Keyed
    device: Keyed
    ip: Keyed
    wifi: Keyed
    # A request's patient with no patient row is numbered below zero: its key.
    unregistered: dict[int, str] = field(default_factory=dict)


@dataclass
class BindingColumns:
    """The bindings the batch reads (of every patient and every account of the window's
    bookings, :func:`read_bindings`)."""

    patient: np.ndarray
    account: np.ndarray
    phone: Keyed  # the account's

    def __len__(self) -> int:
        return len(self.patient)

    def of_window(self, members: Members) -> BindingColumns:
        """The bindings of a patient or an account with a booking in the window."""
        return self.kept(read_bindings(members, self.patient, self.account))

    def kept(self, keep: np.ndarray) -> BindingColumns:
        phone = self.phone
        return BindingColumns(
            self.patient[keep],
            self.account[keep],
            Keyed(phone.numbers[keep], phone.present[keep], phone.filled[keep]),
        )


@dataclass(frozen=True)
class Members:
    """The patients and accounts with a booking in the window (sorted, each once): whose
    bindings the batch reads."""

    patients: np.ndarray
    accounts: np.ndarray

    @classmethod
    def of(cls, w: WindowColumns) -> Members:
        return cls(np.unique(w.patient), np.unique(w.account[w.account != NONE]))


def read_bindings(members: Members, patient: np.ndarray, account: np.ndarray) -> np.ndarray:
    """Which bindings (by their patients' and accounts' numbers) the batch reads: those of
    a patient or an account with a booking in the window."""
    found: np.ndarray = np.isin(patient, members.patients) | np.isin(account, members.accounts)
    return found


@dataclass(frozen=True)
class OperatorSuspects:
    """The bookings the operator rules must see (:func:`operator_suspects`): every window
    booking with one of ``payments`` or ``devices`` (numbered as ``ring_groups.number``
    numbers them), all of them among the bookings of ``patients``."""

    patients: np.ndarray
    payments: frozenset[int]
    devices: frozenset[int]

    def chosen(self, *, payment: str | None, device: str | None) -> bool:
        """Whether a booking of one of :attr:`patients` with this payment account and
        device is one of them."""
        return (payment is not None and number(payment, PAYMENT) in self.payments) or (
            device is not None and number(device, DEVICE) in self.devices
        )


def _has(flags: np.ndarray, flag: int) -> np.ndarray:
    found: np.ndarray = (flags & flag) != 0
    return found


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, and each value's place among them."""
    keys, at = np.unique(values, return_inverse=True)
    return keys, at


def _reaching(
    key: np.ndarray, present: np.ndarray, flags: np.ndarray, s: RiskSettings
) -> np.ndarray:
    """Keys reaching the sex-mismatch, cancellation or no-show count (rules 3, 4, 5)."""
    keys, at = _codes(key[present])
    f = flags[present]
    reach = np.zeros(len(keys), dtype=bool)
    for flag, threshold in (
        (SEX_MISMATCH, s.sex_mismatch_repeat),
        (CANCELLED, s.cancellations_without_visit),
        (NO_SHOW, s.no_shows),
    ):
        reach |= np.bincount(at, weights=_has(f, flag), minlength=len(keys)) >= threshold
    return keys[reach]


def distinct_counts(key: np.ndarray, counted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each key and how many different ``counted`` values it was seen with."""
    if len(key) == 0:
        return key, np.zeros(0, dtype=np.int64)
    order = np.lexsort((counted, key))
    k, c = key[order], counted[order]
    new_pair = np.r_[True, (k[1:] != k[:-1]) | (c[1:] != c[:-1])]
    new_key = np.r_[True, k[1:] != k[:-1]]
    starts = np.flatnonzero(new_key)
    return k[starts], np.add.reduceat(new_pair.astype(np.int64), starts)


def _spread(key: np.ndarray, counted: np.ndarray, at_least: int) -> np.ndarray:
    keys, counts = distinct_counts(key, counted)
    return keys[counts >= at_least]


def synchrony_accounts(w: WindowColumns, s: RiskSettings) -> np.ndarray:
    """Accounts with an act (a booking or a cancellation in the window) that has a
    neighbour in its session within ``synchrony_gap``, on at least ``synchrony_sessions``
    sessions: both accounts of every pair the rule counts are among them."""
    has_account = w.account != NONE
    taken = has_account & _has(w.flags, TAKEN)
    cancelled = has_account & _has(w.flags, CANCELLED)
    session = np.concatenate((w.session[taken], w.session[cancelled]))
    account = np.concatenate((w.account[taken], w.account[cancelled]))
    at = np.concatenate((w.taken_at[taken], w.cancelled_at[cancelled]))
    if len(at) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((at, session))
    session, account, at = session[order], account[order], at[order]
    # A millisecond of slack for the float seconds; the rule itself decides exactly.
    gap = s.synchrony_gap.total_seconds() + 0.001
    close = (session[1:] == session[:-1]) & (at[1:] - at[:-1] <= gap)
    near = np.zeros(len(at), dtype=bool)
    near[1:] |= close  # the one before is close
    near[:-1] |= close  # the one after is close
    return _spread(account[near], session[near], s.synchrony_sessions)


def rule_suspect_patients(w: WindowColumns, s: RiskSettings) -> np.ndarray:
    """The patients whose bookings the booking rules (``rules.run_all``) must see: those
    reaching a rule's count themselves, and those of every booking of an account, a
    payment account in a department, a device or a payment account that reaches one
    (ignoring what only lowers a count: a visit forgiving a cancellation, the accounts
    being different people in synchrony)."""
    booked = _has(w.flags, BOOKED)
    has_account = w.account != NONE
    found = [
        _reaching(w.patient, np.ones(len(w.patient), dtype=bool), w.flags, s),
        # (2) departments per patient
        _spread(w.patient[booked], w.department[booked], s.same_patient_departments),
    ]
    accounts = np.union1d(_reaching(w.account, has_account, w.flags, s), synchrony_accounts(w, s))
    linked = has_account & np.isin(w.account, accounts)
    # (1) one payment account, one department
    paid = _has(w.flags, PAID) & w.payment.present
    pairs = np.stack((w.payment.numbers, w.department), axis=1)
    groups, counts = np.unique(pairs[paid], axis=0, return_counts=True)
    cards = groups[counts >= s.same_payment_same_department]
    if len(cards):
        linked |= w.payment.present & _pair_in(pairs, cards)
    # (8) one device or payment account, more than N patients
    for keyed, limit in (
        (w.device, s.shared_device_patients),
        (w.payment, s.shared_payment_patients),
    ):
        seen = booked & keyed.present
        wide = _spread(keyed.numbers[seen], w.patient[seen], limit + 1)
        linked |= keyed.present & np.isin(keyed.numbers, wide)
    found.append(w.patient[linked])
    return np.unique(np.concatenate(found))


def _pair_in(pairs: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Which rows of ``pairs`` (two int64 columns) are among ``wanted``."""
    as_rows = np.dtype([("a", np.int64), ("b", np.int64)])
    mine = np.ascontiguousarray(pairs).view(as_rows).ravel()
    return np.isin(mine, np.ascontiguousarray(wanted).view(as_rows).ravel())


def operator_suspects(
    w: WindowColumns, r: ActorColumns, s: RiskSettings, *, staffed: Sequence[int]
) -> OperatorSuspects:
    """The bookings the operator rules (``operators.py``) must see for their
    payment and device counts: every booking of a payment account, or a device, that
    acted (booked in the window or in a request the batch reads) for enough accounts
    and patients. A staffed channel's terminal is no one's device."""
    taken = _has(w.flags, TAKEN)
    staff = list(staffed)
    account = np.concatenate((w.account[taken], r.account))
    patient = np.concatenate((w.patient[taken], r.patient))

    def acting(keyed_w: Keyed, keyed_r: Keyed, *, devices: bool) -> tuple[np.ndarray, np.ndarray]:
        present = np.concatenate((keyed_w.present[taken], keyed_r.present))
        if devices and staff:
            present &= ~np.isin(np.concatenate((w.channel[taken], r.channel)), staff)
        return np.concatenate((keyed_w.numbers[taken], keyed_r.numbers)), present

    def counts(key: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = key[present]
        a, p = account[present], patient[present]
        with_account = a != NONE  # an absent account is not counted, as COUNT(DISTINCT) does not
        keys, accounts = distinct_counts(k[with_account], a[with_account])
        all_keys, patients = distinct_counts(k, p)
        found = np.zeros(len(all_keys), dtype=np.int64)
        found[np.searchsorted(all_keys, keys)] = accounts
        return all_keys, found, patients

    key, present = acting(w.payment, r.payment, devices=False)
    keys, accounts, patients = counts(key, present)
    payments = keys[(accounts >= s.payment_accounts) & (patients >= s.payment_patients)]
    key, present = acting(w.device, r.device, devices=True)
    keys, accounts, patients = counts(key, present)
    household = s.shared_device_patients
    devices = keys[(accounts >= s.device_accounts) | (patients > household)]
    chosen = (w.payment.present & np.isin(w.payment.numbers, payments)) | (
        w.device.present & np.isin(w.device.numbers, devices)
    )
    return OperatorSuspects(
        patients=np.unique(w.patient[chosen]),
        payments=frozenset(payments.tolist()),
        devices=frozenset(devices.tolist()),
    )


def ring_grouping(
    w: WindowColumns, r: ActorColumns, b: BindingColumns, *, settings: RingSettings
) -> Grouped:
    """The ring groups (``ring_groups.group``) of every identifier of the window's
    bookings, requests and bindings, by patient number: the same rows as
    ``ring_candidates.ring_input`` reads."""
    patient = np.concatenate((w.patient, r.patient, b.patient))
    account = np.concatenate((w.account, r.account, b.account))
    with_account = account != NONE
    found: dict[int, tuple[np.ndarray, np.ndarray]] = {
        ACCOUNT: (patient[with_account], account[with_account])
    }

    def add(kind: int, patients: tuple[np.ndarray, ...], keyed: tuple[Keyed, ...]) -> None:
        # One kind at a time: its joined columns are dropped before the next is built.
        joined = Keyed.joined(keyed)
        found[kind] = (np.concatenate(patients)[joined.filled], joined.numbers[joined.filled])

    add(PHONE, (w.patient, b.patient), (w.phone, b.phone))
    add(DEVICE, (w.patient, r.patient), (w.device, r.device))
    add(NETWORK, (w.patient, r.patient, w.patient, r.patient), (w.ip, r.ip, w.wifi, r.wifi))
    add(PAYMENT, (w.patient, r.patient), (w.payment, r.payment))
    return group(found, np.unique(patient), settings)
