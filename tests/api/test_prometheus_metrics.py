"""``/metrics`` over HTTP on the whole site, SQLite and PostgreSQL: Prometheus's text
format for an operator with the token, refused without it; requests counted under their
route template, refusals under their code, the gate's decisions, the pool's figures, and
the database's figures read at scrape time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from factories.world import World
from fairslot.bootstrap import Platform
from fairslot.clock import ManualClock
from fairslot.db.engine import make_session_factory
from fairslot.observability import scrape as scrape_module
from fairslot.observability.scrape import DatabaseFigures
from fairslot.web.site import create_site

TOKEN = "a-long-random-token-for-prometheus-scrapes"
OPERATOR = {"Authorization": f"Bearer {TOKEN}"}
# Released 2026-11-22 00:30 in Shanghai, 7.5 h before START: tonight's release.
TONIGHT_DAY = dt.date(2026, 11, 29)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def site(platform: Platform, world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    platform.settings.metrics_token = TOKEN
    monkeypatch.setattr(scrape_module, "CACHE_SECONDS", 0.0)  # each scrape reads anew
    with TestClient(
        create_site(platform), raise_server_exceptions=False, client=("127.0.0.1", 50123)
    ) as client:
        yield client


def scrape(client: TestClient) -> Samples:
    answer = client.get("/metrics", headers=OPERATOR)
    assert answer.status_code == 200, answer.text
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def h(world: World) -> dict[str, str]:
    return {"X-Channel-Key": world.channel_key, "X-Device-Id": "imei-1"}


def test_an_operator_with_the_token_reads_prometheus_text(site: TestClient) -> None:
    answer = site.get("/metrics", headers=OPERATOR)

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    names = {family.name for family in text_string_to_metric_families(answer.text)}
    assert {
        "fairslot_http_requests",
        "fairslot_http_request_duration_seconds",
        "fairslot_db_pool_size",
        "fairslot_db_pool_in_use",
        "fairslot_db_pool_wait_seconds",
        "fairslot_scrape_database_up",
        "fairslot_sweeper_lag_seconds",
    } <= names


def test_a_scrape_without_the_token_or_with_a_wrong_one_is_refused(site: TestClient) -> None:
    missing = site.get("/metrics")
    wrong = site.get("/metrics", headers={"Authorization": "Bearer not-the-token"})

    for answer in (missing, wrong):
        assert answer.status_code == 401
        assert answer.json()["error"] == "metrics_token_required"
        assert "fairslot_http_requests" not in answer.text


def test_a_peer_outside_the_operators_networks_gets_a_not_found(
    platform: Platform, world: World
) -> None:
    platform.settings.metrics_token = TOKEN
    with TestClient(create_site(platform), client=("203.0.113.9", 50123)) as outsider:
        answer = outsider.get("/metrics", headers=OPERATOR)

    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


def test_an_ipv4_peer_seen_through_a_dual_stack_socket_is_inside_loopback(
    platform: Platform, world: World
) -> None:
    platform.settings.metrics_token = TOKEN
    with TestClient(create_site(platform), client=("::ffff:127.0.0.1", 50123)) as peer:
        assert peer.get("/metrics", headers=OPERATOR).status_code == 200


def test_metrics_are_not_in_the_openapi_document(site: TestClient) -> None:
    assert "/metrics" not in site.get("/openapi.json").json()["paths"]


def test_a_request_is_counted_under_its_route_template_never_its_raw_path(
    site: TestClient, world: World
) -> None:
    template = "/v1/hospitals/{hospital_id}/departments"
    before = scrape(site)

    answer = site.get(f"/v1/hospitals/{world.hospital.id}/departments", headers=h(world))

    assert answer.status_code == 200
    after = scrape(site)
    counted = dict(method="GET", route=template, status="200")
    assert value(after, "fairslot_http_requests_total", **counted) == (
        value(before, "fairslot_http_requests_total", **counted) + 1
    )
    latency = dict(method="GET", route=template)
    assert value(after, "fairslot_http_request_duration_seconds_count", **latency) == (
        value(before, "fairslot_http_request_duration_seconds_count", **latency) + 1
    )
    raw = f"/v1/hospitals/{world.hospital.id}/"
    assert not any(raw in dict(labels).get("route", "") for _, labels in after)


def test_a_refusal_is_counted_under_its_code(site: TestClient, world: World) -> None:
    labels = dict(code="channel_key_invalid", route="/v1/hospitals")
    before = value(scrape(site), "fairslot_refusals_total", **labels)

    answer = site.get("/v1/hospitals", headers={"X-Channel-Key": "not-a-key"})

    assert answer.status_code == 401
    assert answer.json()["error"] == "channel_key_invalid"
    assert value(scrape(site), "fairslot_refusals_total", **labels) == before + 1


def test_a_refusal_rendered_as_a_console_page_is_counted_too(site: TestClient) -> None:
    before = value(scrape(site), "fairslot_refusals_total", code="not_found", route="-")

    site.get("/no-such-page", headers={"Accept": "text/html"})

    assert value(scrape(site), "fairslot_refusals_total", code="not_found", route="-") == (
        before + 1
    )


def hold(client: TestClient, world: World, *, day: dt.date, capacity: int) -> int:
    """A patient holds a slot of a session of ``day`` over HTTP; the session's id."""
    session = world.session(day=day, capacity=capacity)
    account, patient = world.patient()
    answer = client.post(
        "/v1/holds",
        headers=h(world),
        json={"account_id": account.id, "patient_id": patient.id, "session_id": session.id},
    )
    assert answer.status_code == 201, answer.text
    return session.id


def decisions(samples: Samples) -> float:
    return sum(v for (name, _), v in samples.items() if name == "fairslot_gate_decisions_total")


def test_a_hold_counts_the_gates_decision_and_fills_tonights_release(
    site: TestClient, world: World
) -> None:
    before = scrape(site)

    hold(site, world, day=TONIGHT_DAY, capacity=5)

    after = scrape(site)
    assert decisions(after) == decisions(before) + 1
    code = world.hospital.code
    assert value(after, "fairslot_release_slots_released", hospital=code) == 5
    assert value(after, "fairslot_release_slots_held", hospital=code) == 1
    assert value(after, "fairslot_release_slots_free", hospital=code) == 4


def test_the_sweeper_lag_is_how_long_a_lapsed_hold_has_waited(
    site: TestClient, platform: Platform, world: World
) -> None:
    clock = platform.clock
    assert isinstance(clock, ManualClock)
    figures = DatabaseFigures(
        sessions=make_session_factory(platform.engine, reader=True), clock=clock, cache_seconds=0
    )
    hold(site, world, day=TONIGHT_DAY, capacity=3)
    fresh = figures.read()
    assert fresh is not None and fresh.oldest.hold_expiry is None

    # Nobody sweeps: two minutes after the hold lapsed, the lag says so.
    clock.advance(dt.timedelta(minutes=platform.settings.hold_minutes + 2))
    late = figures.read()

    assert late is not None and late.oldest.hold_expiry is not None
    assert (late.now - late.oldest.hold_expiry).total_seconds() == pytest.approx(120, abs=1)
    assert late.oldest.re_release is None and late.oldest.draw is None


def test_the_pool_counts_its_connections_in_use_while_a_request_holds_one(
    site: TestClient, platform: Platform
) -> None:
    with platform.engine.connect():
        during = scrape(site)
    after = scrape(site)

    # The scrape's own read holds one more while it collects; the open connection one.
    assert value(during, "fairslot_db_pool_in_use") == value(after, "fairslot_db_pool_in_use") + 1
    assert value(after, "fairslot_db_pool_size") >= 2 * platform.settings.db_pool_size
