"""The gate's settings: layered default limits, trusted proxies, sane thresholds."""

from __future__ import annotations

import pytest
from limits import parse_many
from pydantic import ValidationError

from fairslot.config import Settings, load_settings


def test_the_default_limits_are_layered_and_refuse_the_101st_operation_in_a_minute() -> None:
    items = {item.GRANULARITY.name: item.amount for item in parse_many(Settings().rate_limits)}
    assert items["minute"] == 100
    assert items["second"] < 100  # a burst is cut before the minute is used


def test_only_loopback_proxies_are_trusted_by_default() -> None:
    assert Settings().trusted_proxies == ["127.0.0.1/32", "::1/128"]


@pytest.mark.parametrize("raw", ["10.0.0.0/8, 192.168.1.7", '["10.0.0.0/8", "192.168.1.7"]'])
def test_trusted_proxies_are_read_from_a_comma_list_or_json(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRSLOT_TRUSTED_PROXIES", raw)
    assert load_settings().trusted_proxies == ["10.0.0.0/8", "192.168.1.7"]


def test_an_empty_trusted_proxy_list_trusts_no_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAIRSLOT_TRUSTED_PROXIES", "")
    assert load_settings().trusted_proxies == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"trusted_proxies": "10.0.0.0/33"},
        {"velocity_binding_review_at": 5, "velocity_binding_block_at": 4},
        {"velocity_device_review_at": 6, "velocity_device_block_at": 5},
        {"suspect_delay_seconds": 60},
        {"suspect_action": "tarpit"},
    ],
)
def test_settings_that_make_no_sense_are_refused_at_start(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        load_settings(**overrides)
