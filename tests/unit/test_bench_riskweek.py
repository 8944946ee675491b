"""The batch benchmark's synthetic week: the gate's request records in it, and the grab
software only they reveal (``bench/riskweek/requests.py``, ``scalpers.plant_grabbers``,
``bench/riskweek/evaluation.py``). Pure: no database."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

import pytest

from fairslot.bench.riskweek import kept
from fairslot.bench.riskweek.data import COLUMNS, WINDOW_CHANNEL, ZONE, Fmt, Row, Shape
from fairslot.bench.riskweek.evaluation import judge
from fairslot.bench.riskweek.people import PersonInfo
from fairslot.bench.riskweek.requests import BINDING_WINDOW_SECONDS
from fairslot.bench.riskweek.week import Week, generate_week
from fairslot.crypto import Protector
from fairslot.risk.linking import RequestFact, request_links
from fairslot.risk.repository import FLAGGED, LINKING_ACTIONS
from fairslot.risk.rings import build_graph, rings

SHAPE = Shape(bookings=3000, days=7)
PROTECTOR = Protector(data_key="unit-test-data-key", hash_key="unit-test-hash-key")
GRAB = "grab software that lost"


def key(purpose: str, value: str | None) -> str | None:
    """A raw identifier's stored key, as the edge hashes it."""
    return None if value is None else PROTECTOR.keyed_hash(value, purpose=purpose)


class Rows:
    """A sink that keeps every row as a dict of its columns."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, str | None]]] = defaultdict(list)

    def row(self, table: str, values: Row) -> None:
        self.tables[table].append(dict(zip(COLUMNS[table], values, strict=True)))


@dataclass
class Generated:
    week: Week
    rows: Rows
    requests: list[dict[str, Any]] = field(default_factory=list)
    bookings: list[dict[str, Any]] = field(default_factory=list)


def epoch(stamp: str | None) -> float:
    assert stamp is not None
    return datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp()


def generate(*, requests: bool) -> Generated:
    rows = Rows()
    week = generate_week(SHAPE, sink=rows, fmt=Fmt.sqlite(), protector=PROTECTOR, requests=requests)
    found = Generated(week=week, rows=rows)
    for record in rows.tables["request_records"]:
        found.requests.append({**record, "at": epoch(record["at"])})
    for booking in rows.tables["bookings"]:
        found.bookings.append({**booking, "held_at": epoch(booking["held_at"])})
    return found


@pytest.fixture(scope="module")
def week() -> Generated:
    return generate(requests=True)


def grab_keys(generated: Generated) -> set[str]:
    return {k for p in generated.week.planted if p.pattern == GRAB for k in p.ring_patients}


def persons_by_key(generated: Generated) -> dict[str, PersonInfo]:
    return {p.key: p for p in generated.week.population.people.persons}


# --- the genuine side ---------------------------------------------------------------------


def test_every_binding_has_one_bind_patient_record_at_its_time_from_the_accounts_device_and_home(
    week: Generated,
) -> None:
    people = week.week.population.people.persons
    binds = [r for r in week.requests if r["action"] == "bind_patient"]
    bindings = week.rows.tables["bindings"]

    assert len(binds) == len(bindings) == len(people)
    bound_at = {b["patient_id"]: epoch(b["created_at"]) for b in bindings}
    by_key = persons_by_key(week)
    for record in binds:
        person = by_key[record["patient_key"]]
        account = person.account
        assert record["outcome"] == "ok"
        assert record["account_id"] == str(account.id)
        assert record["at"] == pytest.approx(bound_at[str(person.id)], abs=1e-3)
        # Stored as the platform stores them: keyed hashes (``context.py``).
        assert record["device_key"] == key("device", account.device)
        home = account.channel != WINDOW_CHANNEL
        assert (record["ip_key"], record["wifi_key"]) == (
            (key("network", account.ip), key("network", account.wifi)) if home else (None, None)
        )


def test_some_households_bound_their_patients_in_the_window_and_before_they_booked(
    week: Generated,
) -> None:
    window_start = datetime.combine(SHAPE.first_day, time(0), tzinfo=ZONE).timestamp()
    grab = grab_keys(week)
    recent = {
        r["patient_key"]: r["at"]
        for r in week.requests
        if r["action"] == "bind_patient" and r["at"] >= window_start
        and r["patient_key"] not in grab
    }  # fmt: skip
    key_of = {str(p.id): p.key for p in week.week.population.people.persons}

    assert len(recent) > 10
    for booking in week.bookings:
        key = key_of[booking["patient_id"]]
        if key in recent:
            assert booking["held_at"] > recent[key]


def test_the_third_binding_of_an_account_within_the_gates_window_is_flagged_binding_burst(
    week: Generated,
) -> None:
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in week.requests:
        if record["action"] == "bind_patient":
            by_account[record["account_id"]].append(record)
    reviewed = 0
    for records in by_account.values():
        records.sort(key=lambda r: r["at"])
        for n, record in enumerate(records):
            recent = sum(1 for r in records[:n] if r["at"] > record["at"] - BINDING_WINDOW_SECONDS)
            burst = recent + 1 >= 3
            assert (record["decision"], record["reasons"]) == (
                ("review", "binding_burst") if burst else ("allow", None)
            )
            reviewed += burst
    assert reviewed > 0


def test_a_rush_booking_lost_a_few_holds_first_seconds_after_the_release_with_its_identifiers(
    week: Generated,
) -> None:
    grab = grab_keys(week)
    lost = [r for r in week.requests if r["action"] == "hold" and r["patient_key"] not in grab]
    key_of = {str(p.id): p.key for p in week.week.population.people.persons}
    bookings_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for booking in week.bookings:
        bookings_of[key_of[booking["patient_id"]]].append(booking)

    assert lost
    for record in lost:
        assert record["outcome"] in ("slot_taken", "session_full")
        assert (record["slot_id"] is not None) == (record["outcome"] == "slot_taken")
        local = datetime.fromtimestamp(record["at"], ZONE).time()
        assert time(0, 30) <= local < time(1)
        won = [
            b
            for b in bookings_of[record["patient_key"]]
            if 0 < b["held_at"] - record["at"] <= 30
            and (b["device_key"], b["ip_key"], b["wifi_key"])
            == (record["device_key"], record["ip_key"], record["wifi_key"])
        ]
        assert won, record


def test_a_quick_payer_is_flagged_fast_confirm_and_their_booking_was_paid_within_three_seconds(
    week: Generated,
) -> None:
    fast = [r for r in week.requests if r["action"] == "confirm"]
    booking = {b["id"]: b for b in week.bookings}

    assert 0.002 * len(week.bookings) < len(fast) < 0.02 * len(week.bookings)
    for record in fast:
        paid = booking[record["booking_id"]]
        assert (record["decision"], record["reasons"]) == ("review", "fast_confirm")
        assert record["payment_account_hash"] == paid["payment_account_hash"]
        assert 0 < epoch(paid["booked_at"]) - paid["held_at"] < 3


def test_a_rate_limited_request_names_no_patient(week: Generated) -> None:
    limited = [r for r in week.requests if r["outcome"] == "rate_limited"]

    assert limited
    assert {(r["patient_key"], r["decision"]) for r in limited} == {(None, None)}


def test_the_week_holds_one_to_two_request_records_per_booking(week: Generated) -> None:
    assert 1.0 <= len(week.requests) / len(week.bookings) <= 2.0


def test_the_request_records_leave_the_seeds_bookings_as_they_were(week: Generated) -> None:
    without = generate(requests=False)

    def shape_of(bookings: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(b["id"], b["slot_id"], b["patient_id"], b["status"]) for b in bookings]

    assert without.requests == []
    assert shape_of(without.bookings) == shape_of(week.bookings)
    assert GRAB not in {p.pattern for p in without.week.planted}


# --- the grab software ---------------------------------------------------------------------


def test_grab_software_is_ten_identities_on_three_accounts_six_devices_twelve_proxies_no_booking(
    week: Generated,
) -> None:
    [plan] = [p for p in week.week.planted if p.pattern == GRAB]  # one per 100,000 bookings
    records = [r for r in week.requests if r["patient_key"] in plan.ring_patients]
    by_key = persons_by_key(week)
    booked = {by_key[k].id for k in plan.ring_patients} & {
        int(b["patient_id"]) for b in week.bookings
    }

    assert len(plan.ring_patients) == 10 and plan.bookings == 0 and not booked
    assert len({r["account_id"] for r in records}) == 3
    holds = [r for r in records if r["action"] == "hold"]
    assert {r["outcome"] for r in holds} == {"slot_taken", "session_full"}
    assert len({r["device_key"] for r in holds}) == 6
    assert len({r["ip_key"] for r in holds}) == 12
    assert any(r["action"] == "intent" for r in records)
    flagged = Counter(r["reasons"] for r in records if r["decision"] == "review")
    # As the gate flags it: each account's first hold, seconds after its registration, and
    # the third and fourth bindings of the two accounts with four identities.
    assert flagged == {"fast_first_hold": 3, "binding_burst": 4}


def request_facts(records: Iterable[dict[str, Any]]) -> list[RequestFact]:
    """What ``risk/repository.py::request_facts`` reads of these records."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for r in records:
        read = r["outcome"] != "ok" or r["decision"] in FLAGGED or r["action"] in LINKING_ACTIONS
        if r["patient_key"] is None or not read:
            continue
        key = (r["patient_key"], r["account_id"], r["device_key"], r["ip_key"], r["wifi_key"],
               r["payment_account_hash"])  # fmt: skip
        counts = groups.setdefault(key, [0, 0])
        counts[0] += 1
        counts[1] += r["decision"] in FLAGGED
    return [
        RequestFact(
            patient_key=key[0],
            account_id=int(key[1]),
            device_key=key[2],
            ip_key=key[3],
            wifi_key=key[4],
            payment_account_hash=key[5],
            requests=n,
            flagged=flagged,
        )
        for key, (n, flagged) in groups.items()
    ]


def test_only_its_request_records_make_the_grab_software_a_ring_and_its_flags_get_it_flagged(
    week: Generated,
) -> None:
    keys = grab_keys(week)
    facts = request_facts(r for r in week.requests if r["patient_key"] in keys)

    [ring] = rings(build_graph(request_links(facts)))
    assert set(ring.patients) == keys and ring.bookings == 0
    assert ring.flagged and "machine_pace" in {r.code for r in ring.reasons}
    # The same requests at a person's pace: the same group, not flagged.
    calm = [RequestFact(**{**vars(f), "flagged": 0}) for f in facts]
    [calm_ring] = rings(build_graph(request_links(calm)))
    assert set(calm_ring.patients) == keys and not calm_ring.flagged


# --- the verdict --------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    rule: str
    entity_kind: str
    entity_key: str
    details: dict[str, Any] = field(default_factory=dict)


def test_the_grab_software_is_caught_only_by_a_ring_alert_holding_most_of_its_identities(
    week: Generated,
) -> None:
    plans = week.week.planted
    keys = sorted(grab_keys(week))
    families = week.week.population.people.shared_phone_families

    def caught(alerts: list[Alert]) -> tuple[int, int]:
        return judge(plans, alerts, families=families).patterns[GRAB]

    ring = Alert("ring", "ring", "r1", {"patients": [{"key": k} for k in keys[:6]]})
    few = Alert("ring", "ring", "r2", {"patients": [{"key": k} for k in keys[:5]]})
    account = next(kind_key for kind_key in _grab_entities(week) if kind_key[0] == "account")
    gate = Alert("realtime_review", *account)
    assert caught([ring]) == (1, 1)
    assert caught([few, gate]) == (1, 0)
    # An alert on the grab software's own account is no alert on the rest of the population.
    assert judge(plans, [gate], families=families).other_alerts == Counter()


def _grab_entities(week: Generated) -> list[tuple[str, str]]:
    return sorted(e for p in week.week.planted if p.pattern == GRAB for e in p.entities)


def test_a_family_with_a_gate_review_on_its_account_is_counted_apart_from_a_flagged_family(
    week: Generated,
) -> None:
    families = week.week.population.people.shared_phone_families
    first, second = families[0], families[1]
    reviewed = Alert("realtime_review", "account", f"account:{first[0].account.id}")
    ring = Alert("ring", "ring", "r9", {"patients": [{"key": second[0].key}]})

    verdict = judge(week.week.planted, [reviewed, ring], families=families)

    assert (verdict.families_flagged, verdict.families_gate_reviewed) == (1, 1)
    assert verdict.other_alerts == Counter({"realtime_review": 1, "ring": 1})


def test_a_kept_answer_key_judges_alerts_as_the_generated_week_does(week: Generated) -> None:
    families = week.week.population.people.shared_phone_families
    shape = Shape(bookings=2000, days=7, seed=7)
    answers = kept.loads(kept.dumps(kept.answers_of(shape, week.week.planted, families)))
    grab = sorted(grab_keys(week))
    alerts = [
        Alert("ring", "ring", "r1", {"patients": [{"key": k} for k in grab]}),
        Alert("realtime_review", "account", f"account:{families[0][0].account.id}"),
        Alert("ring", "ring", "r2", {"patients": [{"key": families[1][0].key}]}),
        Alert("same_payment_same_department", "patient", "somebody else"),
        *(Alert(*expected) for p in week.week.planted[:3] for expected in p.expected),
    ]

    assert answers.shape == shape
    assert judge(answers.planted, alerts, families=answers.families) == judge(
        week.week.planted, alerts, families=families
    )
    with pytest.raises(ValueError, match="format"):
        kept.loads('{"format": 0}')
