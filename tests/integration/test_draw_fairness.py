"""Speed buys nothing: bots that ask first and often win no more often than patients who
ask once, later — measured on the platform itself, over HTTP, on both backends.

Eight draw-mode department-days of three slots each. In each, six bot-like clients
register first, at the opening of the intent window, three times each from rotating
devices, and grab with ``POST /v1/holds`` at the release instant; twelve genuine patients
register once each, spread over the rest of the window. The worker runs the draws; who won
is read from the bookings in the database.

Under a fair draw every entrant of a draw is equally likely to win, so the number of bot
wins is a sum of hypergeometric counts, one per draw. The test computes its exact upper
tail: the bots' per-identity win rate must not be significantly higher than the genuine
patients' (p > 0.01). The control runs the same traffic against a deliberately broken,
first-come allocator — the shuffle replaced by the order the intents arrived in — on
two department-days, and the same statistic must reject it (p < 0.01): the test can
fail, even on less data.

The draws' seeds and the platform's GUIDs come from seeded generators, so the verdict is
the same on every run; the allocation itself is the platform's own.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from math import comb
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import fairslot.db.base
from factories.demand import create_account, create_patient
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation import batches, shuffle
from fairslot.allocation import service as allocation_service
from fairslot.allocation.states import AllocationMode
from fairslot.allocation.verification import verify
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.cli.worker_cmd import sweep_once
from fairslot.config import Settings, load_settings
from fairslot.schedules.models import ClinicSession

DRAWS, SLOTS, BOTS, GENUINE, REPEATS = 8, 3, 6, 12, 3
SIGNIFICANCE = 0.01


@dataclass
class Run:
    """What the traffic did: who is a bot, when each intent first arrived, what came back."""

    draws: int = DRAWS
    bots: set[int] = field(default_factory=set)
    genuine: set[int] = field(default_factory=set)
    arrival: list[str] = field(default_factory=list)  # intent ids, first request first
    draw_ids: set[int] = field(default_factory=set)
    statuses: list[int] = field(default_factory=list)
    grabs: Counter[str] = field(default_factory=Counter)  # the holds' refusal codes


@dataclass(frozen=True)
class Tally:
    draws: int
    bot_wins: int
    genuine_wins: int
    p_value: float  # P(bots win at least this often | every entrant equally likely)

    def __str__(self) -> str:
        bots, genuine = self.draws * BOTS, self.draws * GENUINE
        return (
            f"{self.draws} draws: bots won {self.bot_wins}/{bots} "
            f"({self.bot_wins / bots:.3f} per identity), genuine {self.genuine_wins}/{genuine} "
            f"({self.genuine_wins / genuine:.3f}), one-sided exact p = {self.p_value:.3g}"
        )


@pytest.fixture(autouse=True)
def seeded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reproducible randomness: the draws' and batches' secret seeds and every GUID (intent
    ids among them) come from seeded generators instead of the operating system."""
    seeds, guids = random.Random(2026), random.Random(11)
    seeded_secrets = SimpleNamespace(token_hex=lambda n: f"{seeds.getrandbits(8 * n):0{2 * n}x}")
    monkeypatch.setattr(allocation_service, "secrets", seeded_secrets)
    monkeypatch.setattr(batches, "secrets", seeded_secrets)
    monkeypatch.setattr(
        fairslot.db.base,
        "uuid",
        SimpleNamespace(uuid4=lambda: uuid.UUID(int=guids.getrandbits(128), version=4)),
    )


def headers(world: World, *, device: str, ip: str, agent: str) -> dict[str, str]:
    return {
        "X-Channel-Key": world.channel_key,
        "X-Device-Id": device,
        "X-End-User-IP": ip,
        "User-Agent": agent,
    }


def drive(client: TestClient, world: World, run: Run) -> None:
    """The release day over HTTP, recording in ``run`` what was sent and answered."""
    sessions: list[ClinicSession] = []
    for _ in range(run.draws):
        department = world.department_(allocation_mode=AllocationMode.DRAW)
        sessions.append(world.session(day=UNRELEASED_DAY, capacity=SLOTS, department=department))
    people = {s.id: enrol(world, BOTS + GENUINE) for s in sessions}
    opens_at, release_at = sessions[0].push_at, sessions[0].release_at
    window = release_at - opens_at

    def intent(session: ClinicSession, n: int, *, device: str, agent: str) -> None:
        account_id, patient_id = people[session.id][n]
        answer = client.post(
            "/v1/intents",
            headers=headers(world, device=device, ip=f"10.{session.id % 250}.{n}.9", agent=agent),
            json={
                "account_id": account_id,
                "patient_id": patient_id,
                "session_id": session.id,
                "payment_account": f"62220200{patient_id:08d}",
                "payment_reference": f"pre-{patient_id}",
            },
        )
        run.statuses.append(answer.status_code)
        assert answer.status_code in (200, 201), answer.text
        if answer.status_code == 201:
            run.arrival.append(answer.json()["id"])
            run.draw_ids.add(answer.json()["draw_id"])

    # The bots, first: the window's first second, every request several times over.
    world.platform.clock.set(opens_at)
    for session in sessions:
        for n in range(BOTS):
            run.bots.add(people[session.id][n][1])
            for r in range(REPEATS):
                intent(session, n, device=f"bot-{session.id}-{n}-{r}", agent="grab/2.1")
    # The genuine patients, once each, spread over the rest of the 30-minute window.
    for g in range(GENUINE):
        world.platform.clock.set(opens_at + (g + 1) * window / (GENUINE + 1))
        for session in sessions:
            run.genuine.add(people[session.id][BOTS + g][1])
            intent(session, BOTS + g, device=f"phone-{session.id}-{g}", agent="Mozilla/5.0")
    # The release instant: the bots grab before the draw has run; nothing is on sale yet.
    world.platform.clock.set(release_at)
    for session in sessions:
        for n in range(BOTS):
            account_id, patient_id = people[session.id][n]
            grab = client.post(
                "/v1/holds",
                headers=headers(
                    world,
                    device=f"bot-{session.id}-{n}-0",
                    ip=f"10.{session.id % 250}.{n}.9",
                    agent="grab/2.1",
                ),
                json={"account_id": account_id, "patient_id": patient_id, "session_id": session.id},
            )
            run.statuses.append(grab.status_code)
            run.grabs[grab.json()["error"]] += 1
    sweep_once(world.platform)


def enrol(world: World, count: int) -> list[tuple[int, int]]:
    """(account id, patient id) of ``count`` people, each with an account of their own,
    made with the factories and committed once."""
    made = []
    for _ in range(count):
        account = create_account(world.db, world.platform, channel_id=world.channel.id)
        patient = create_patient(world.db, world.platform, account=account)
        made.append((account.id, patient.id))
    world.db.commit()
    return made


def tally(world: World, run: Run) -> Tally:
    """Who won, from the bookings the draws made."""
    world.db.expire_all()
    winners = list(
        world.db.scalars(select(Booking.patient_id).where(Booking.status == BookingStatus.BOOKED))
    )
    world.db.commit()
    assert len(winners) == len(set(winners)) == run.draws * SLOTS  # each slot once, nobody twice
    bot_wins = sum(1 for p in winners if p in run.bots)
    assert bot_wins + sum(1 for p in winners if p in run.genuine) == len(winners)
    per_draw = hypergeometric(population=BOTS + GENUINE, marked=BOTS, drawn=SLOTS)
    return Tally(
        draws=run.draws,
        bot_wins=bot_wins,
        genuine_wins=len(winners) - bot_wins,
        p_value=upper_tail([per_draw] * run.draws, at_least=bot_wins),
    )


def hypergeometric(*, population: int, marked: int, drawn: int) -> list[float]:
    """P(k marked among ``drawn`` taken uniformly at random), k = 0 .. drawn."""
    total = comb(population, drawn)
    return [
        comb(marked, k) * comb(population - marked, drawn - k) / total for k in range(drawn + 1)
    ]


def upper_tail(pmfs: Collection[list[float]], *, at_least: int) -> float:
    """P(sum of independent counts >= at_least), the exact convolution of their pmfs."""
    total = [1.0]
    for pmf in pmfs:
        summed = [0.0] * (len(total) + len(pmf) - 1)
        for i, a in enumerate(total):
            for j, b in enumerate(pmf):
                summed[i + j] += a * b
        total = summed
    return min(1.0, sum(total[at_least:]))


def test_the_exact_tail_is_right_on_a_case_done_by_hand() -> None:
    # 2 of 4 entrants marked, 1 winner per draw: P(marked wins) = 1/2; two draws.
    pmf = hypergeometric(population=4, marked=2, drawn=1)
    assert pmf == [0.5, 0.5]
    assert upper_tail([pmf, pmf], at_least=2) == 0.25
    assert upper_tail([pmf, pmf], at_least=1) == 0.75
    assert upper_tail([pmf, pmf], at_least=0) == 1.0


def test_bots_asking_first_and_often_win_no_more_often_than_patients(
    client: TestClient, world: World
) -> None:
    run = Run()
    drive(client, world, run)
    result = tally(world, run)
    print(f"\nfair draw: {result}")  # shown with -s
    assert result.p_value > SIGNIFICANCE, result
    assert len(run.arrival) == DRAWS * (BOTS + GENUINE)  # repeats collapsed: one chance each
    assert 500 not in run.statuses
    assert run.grabs == {"session_not_found": DRAWS * BOTS}  # not on sale before the draw
    for draw_id in run.draw_ids:
        assert verify(world.db, draw_id=draw_id).verified is True


def test_the_same_measure_catches_a_first_come_allocator(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: a draw that keeps arrival order hands the slots to whoever asked first,
    and the statistic above rejects it."""
    run = Run(draws=2)

    def arrival_order(seed: str, ids: Collection[str], *, algorithm: str) -> list[str]:
        return sorted(ids, key=run.arrival.index)

    monkeypatch.setattr(shuffle, "order", arrival_order)
    drive(client, world, run)
    result = tally(world, run)
    print(f"\nfirst-come allocator: {result}")
    assert result.p_value < SIGNIFICANCE, result


# -- A first-come clinic without history (issue 11: "fair from the first release") -------
#
# The hospital pushes scarce expert sessions first-come and has no release history on the
# platform. Bot-like clients hammer ``POST /v1/holds`` by session at the release instant,
# several times each from rotating devices, and come back the moment the window closes;
# genuine patients either register an intent during the half hour before the release (as
# the app offers for a batched clinic) or hold once at human pace, 5-50 s after it. The
# worker judges the clinic, opens its batch at the push and draws it at the window's end;
# who won is read from the database. With the platform's default (caution without
# history) the per-identity win rates must not differ significantly; the control runs the
# same traffic on a platform configured without caution — a first-come race — and the
# same statistic must reject it.

FIRST_COME_DAYS = 6


@pytest.fixture
def settings(platform_default_settings: Settings) -> Settings:
    return platform_default_settings  # the platform's own default: caution on


@dataclass
class Race:
    bots: set[int] = field(default_factory=set)
    genuine: set[int] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    entries: dict[int, set[str]] = field(default_factory=dict)  # patient -> entry ids seen


def hold_by_session(
    client: TestClient,
    world: World,
    race: Race,
    *,
    person: tuple[int, int],
    session: ClinicSession,
    device: str,
    ip: str,
    agent: str,
) -> None:
    account_id, patient_id = person
    answer = client.post(
        "/v1/holds",
        headers=headers(world, device=device, ip=ip, agent=agent),
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session.id},
    )
    race.statuses[answer.status_code] += 1
    body = answer.json()
    if answer.status_code == 202:
        race.entries.setdefault(patient_id, set()).add(body["entry_id"])
    elif answer.status_code >= 400:
        race.codes[body["error"]] += 1


def race_day(client: TestClient, world: World, race: Race) -> None:
    """The release day of ``FIRST_COME_DAYS`` new first-come clinics, over HTTP."""
    sessions = []
    for _ in range(FIRST_COME_DAYS):
        department = world.department_()  # first-come, as the hospital pushed it
        sessions.append(world.session(day=UNRELEASED_DAY, capacity=SLOTS, department=department))
    people = {s.id: enrol(world, BOTS + GENUINE) for s in sessions}
    push_at, release_at = sessions[0].push_at, sessions[0].release_at
    world.platform.clock.set(push_at)
    sweep_once(world.platform)  # the worker judges the new clinics and opens their batches
    for session in sessions:
        for n in range(BOTS):
            race.bots.add(people[session.id][n][1])
        for g in range(GENUINE):
            race.genuine.add(people[session.id][BOTS + g][1])
    # Half the genuine patients enter before the release, spread over the half hour.
    early = GENUINE // 2
    for g in range(early):
        world.platform.clock.set(push_at + (g + 1) * (release_at - push_at) / (early + 1))
        for session in sessions:
            account_id, patient_id = people[session.id][BOTS + g]
            answer = client.post(
                "/v1/intents",
                headers=headers(
                    world,
                    device=f"phone-{session.id}-{g}",
                    ip=f"10.9.{g}.{session.id % 250}",
                    agent="Mozilla/5.0",
                ),
                json={
                    "account_id": account_id,
                    "patient_id": patient_id,
                    "session_id": session.id,
                    "payment_account": f"62220200{patient_id:08d}",
                    "payment_reference": f"pre-{patient_id}",
                },
            )
            race.statuses[answer.status_code] += 1
            if answer.status_code == 201:
                race.entries.setdefault(patient_id, set()).add(answer.json()["id"])

    def bots_fire(tag: str) -> None:
        for session in sessions:
            for n in range(BOTS):
                for r in range(REPEATS):
                    hold_by_session(
                        client,
                        world,
                        race,
                        person=people[session.id][n],
                        session=session,
                        device=f"bot-{session.id}-{n}-{tag}-{r}",
                        ip=f"10.{session.id % 250}.{n}.{r + 1}",
                        agent="grab/2.1",
                    )

    world.platform.clock.set(release_at)
    bots_fire("t0")  # the release instant, every identity several times
    for g in range(early, GENUINE):
        world.platform.clock.set(release_at + dt.timedelta(seconds=5 + 45 * g / GENUINE))
        for session in sessions:
            hold_by_session(
                client,
                world,
                race,
                person=people[session.id][BOTS + g],
                session=session,
                device=f"phone-{session.id}-{g}",
                ip=f"10.9.{g}.{session.id % 250}",
                agent="Mozilla/5.0",
            )
    # The window closes: the bots are back at once, before and after the worker's run.
    world.platform.clock.set(release_at + dt.timedelta(seconds=world.policy.batch_window_seconds))
    bots_fire("t1")
    sweep_once(world.platform)
    bots_fire("t2")


def race_tally(world: World, race: Race) -> Tally:
    """Who holds an expert slot now (a batch winner holds it to pay; a pre-authorised
    entry is booked), read from the bookings."""
    world.db.expire_all()
    winners = list(
        world.db.scalars(
            select(Booking.patient_id).where(
                Booking.status.in_((BookingStatus.BOOKED, BookingStatus.HELD))
            )
        )
    )
    world.db.commit()
    assert len(winners) == len(set(winners)) == FIRST_COME_DAYS * SLOTS  # each slot once
    bot_wins = sum(1 for p in winners if p in race.bots)
    per_day = hypergeometric(population=BOTS + GENUINE, marked=BOTS, drawn=SLOTS)
    return Tally(
        draws=FIRST_COME_DAYS,
        bot_wins=bot_wins,
        genuine_wins=len(winners) - bot_wins,
        p_value=upper_tail([per_day] * FIRST_COME_DAYS, at_least=bot_wins),
    )


def test_on_a_first_come_clinic_without_history_speed_and_repeats_buy_nothing(
    client: TestClient, world: World
) -> None:
    assert world.policy.scarce_without_history  # the platform's default
    race = Race()
    race_day(client, world, race)
    result = race_tally(world, race)
    print(f"\nfirst-come clinic, first release: {result}")
    assert result.p_value > SIGNIFICANCE, result
    # One entry per person, however often and from however many devices they asked.
    assert all(len(ids) == 1 for ids in race.entries.values())
    assert set(race.entries) == race.bots | race.genuine  # every one of them got in
    assert race.codes["release_batch_drawing"] == FIRST_COME_DAYS * BOTS * REPEATS
    assert 500 not in race.statuses


class TestTheControl:
    """The same traffic where the platform is not cautious about a clinic without history:
    a race at the release instant, which the statistic rejects."""

    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return load_settings(
            database_url=database_url, db_pool_size=5, scarce_without_history=False
        )

    def test_the_same_measure_catches_the_first_come_race(
        self, client: TestClient, world: World
    ) -> None:
        race = Race()
        race_day(client, world, race)
        result = race_tally(world, race)
        print(f"\nfirst-come race: {result}")
        assert result.p_value < SIGNIFICANCE, result
