"""The batch's ring grouping over streamed identifiers (``risk/ring_groups.py``) gives the
same candidates as the union-find over whole facts (``ring_candidates.ring_input``): on a
household, a ring, a public Wi-Fi, identities tied only by requests, and on many random
weeks. No database."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from fairslot.bookings.states import BookingStatus
from fairslot.hospitals.kinds import SexRestriction
from fairslot.risk.facts import BookingFact
from fairslot.risk.linking import BindingFact, RequestFact
from fairslot.risk.ring_candidates import RingInput, ring_input
from fairslot.risk.ring_groups import IdentityRow, ring_groups
from fairslot.risk.rings import RingSettings

AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
_counter = iter(range(10**9))


def booking(patient: str, **identifiers: object) -> BookingFact:
    values: dict[str, object] = {
        "account_id": None,
        "device_key": None,
        "ip_key": None,
        "wifi_key": None,
        "payment_account_hash": None,
        "phone_hash": None,
    }
    values.update(identifiers)
    return BookingFact(
        booking_id=f"b{next(_counter)}",
        patient_key=patient,
        department_id=1,
        department_specialty="general",
        sex_restriction=SexRestriction.ANY,
        patient_sex=None,
        session_id=1,
        session_date=date(2026, 11, 20),
        booked_at=AT,
        cancelled_at=None,
        status=BookingStatus.BOOKED,
        attended=None,
        channel_id=None,
        **values,  # type: ignore[arg-type]
    )


def request(patient: str, **identifiers: object) -> RequestFact:
    values: dict[str, object] = {
        "account_id": None,
        "device_key": None,
        "ip_key": None,
        "wifi_key": None,
        "payment_account_hash": None,
    }
    values.update(identifiers)
    return RequestFact(patient_key=patient, requests=1, flagged=0, **values)  # type: ignore[arg-type]


def rows(
    bookings: list[BookingFact], requests: list[RequestFact], bindings: list[BindingFact]
) -> list[IdentityRow]:
    """What ``window_repository.identity_rows`` reads for these facts."""
    return [
        *(
            (
                b.patient_key,
                b.account_id,
                b.phone_hash,
                b.device_key,
                b.ip_key,
                b.wifi_key,
                b.payment_account_hash,
            )
            for b in bookings
        ),
        *(
            (
                r.patient_key,
                r.account_id,
                None,
                r.device_key,
                r.ip_key,
                r.wifi_key,
                r.payment_account_hash,
            )
            for r in requests
        ),
        *(
            (b.patient_key, b.account_id, b.account_phone_hash, None, None, None, None)
            for b in bindings
        ),
    ]


def both(
    bookings: list[BookingFact],
    requests: list[RequestFact] | None = None,
    bindings: list[BindingFact] | None = None,
    settings: RingSettings | None = None,
) -> tuple[RingInput, RingInput]:
    requests, bindings = requests or [], bindings or []
    settings = settings or RingSettings()
    whole = ring_input(bookings=bookings, bindings=bindings, requests=requests, settings=settings)
    found = rows(bookings, requests, bindings)
    networks = {n for row in found for n in (row[4], row[5]) if n}
    streamed = ring_groups(found, settings=settings).chosen(
        (row[0] for row in found), networks=networks
    )
    return whole, streamed


def household(name: str, members: int = 4) -> list[BookingFact]:
    return [
        booking(
            f"{name}-{m}",
            account_id=abs(hash(name)) % 10_000 + m % 2,
            phone_hash=f"{name}-phone",
            device_key=f"{name}-dev{m % 2}",
            wifi_key=f"{name}-wifi",
            payment_account_hash=f"{name}-card",
        )
        for m in range(members)
    ]


def farm(name: str, size: int = 12) -> list[BookingFact]:
    return [
        booking(
            f"{name}-{m}",
            account_id=90_000 + m // 2,
            device_key=f"{name}-farm{m % 2}",
            payment_account_hash=f"{name}-card",
        )
        for m in range(size)
    ]


def test_a_ring_is_the_only_candidate_beside_two_households() -> None:
    whole, streamed = both(household("lin") + household("wu") + farm("farm"))
    assert streamed == whole
    assert streamed.groups == 3 and streamed.candidates == 1
    assert streamed.patients == {f"farm-{m}" for m in range(12)}


def test_a_public_wifi_glues_no_strangers_together() -> None:
    strangers = [booking(f"s{n}", wifi_key="hospital-wifi", account_id=n) for n in range(30)]
    whole, streamed = both(strangers + household("lin"))
    assert streamed == whole
    assert streamed.public_networks == {"hospital-wifi"} and streamed.candidates == 0


def test_identities_tied_only_by_their_requests_are_one_candidate() -> None:
    bots = [
        request(f"bot-{m}", account_id=500 + m // 4, device_key=f"emu{m % 3}") for m in range(12)
    ]
    whole, streamed = both(household("lin"), requests=bots)
    assert streamed == whole and streamed.candidates == 1


def test_a_patient_bound_to_many_accounts_counts_every_account() -> None:
    bindings = [
        BindingFact(patient_key="p", account_id=a, account_phone_hash=None) for a in (1, 2, 3)
    ]
    whole, streamed = both(
        [booking("p", account_id=1), booking("q", account_id=1)], bindings=bindings
    )
    assert streamed == whole and streamed.candidates == 1


@pytest.mark.parametrize("seed", range(40))
def test_random_weeks_give_the_same_candidates(seed: int) -> None:
    rng = random.Random(seed)
    pool = {kind: [f"{kind}{n}" for n in range(rng.randint(3, 40))] for kind in "dipwh"}

    def maybe(kind: str) -> str | None:
        return rng.choice(pool[kind]) if rng.random() < 0.4 else None

    patients = [f"p{n}" for n in range(rng.randint(5, 80))]
    accounts = list(range(rng.randint(3, 60)))
    bookings = [
        booking(
            rng.choice(patients),
            account_id=rng.choice(accounts),
            phone_hash=maybe("h"),
            device_key=maybe("d"),
            ip_key=maybe("i"),
            wifi_key=maybe("w"),
            payment_account_hash=maybe("p"),
        )
        for _ in range(rng.randint(0, 150))
    ]
    requests = [
        request(
            rng.choice(patients),
            account_id=rng.choice([*accounts, None]),
            device_key=maybe("d"),
            ip_key=maybe("i"),
            wifi_key=maybe("w"),
        )
        for _ in range(rng.randint(0, 60))
    ]
    bindings = [
        BindingFact(
            patient_key=rng.choice(patients),
            account_id=rng.choice(accounts),
            account_phone_hash=maybe("h"),
        )
        for _ in range(rng.randint(0, 40))
    ]
    settings = RingSettings(
        max_network_patients=rng.randint(3, 25),
        min_ring_patients=rng.randint(1, 3),
        family_size=rng.randint(2, 6),
        family_accounts=rng.randint(1, 3),
    )
    whole, streamed = both(bookings, requests, bindings, settings)
    assert streamed == whole
