"""``/metrics`` is for operators: production refuses to serve it without a real token, and
only ``observability/`` touches the Prometheus library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from fairslot.config import Settings, load_settings

SRC = Path(__file__).resolve().parents[2] / "src" / "fairslot"
GOOD_HASH_KEY = "h" * 40


def production(**overrides: object) -> Settings:
    return load_settings(
        environment="production",
        data_key=Fernet.generate_key().decode(),
        hash_key=GOOD_HASH_KEY,
        **overrides,
    )


def test_production_refuses_metrics_without_a_token() -> None:
    with pytest.raises(RuntimeError, match="FAIRSLOT_METRICS_TOKEN must be set"):
        production().check_production()


def test_production_refuses_a_short_metrics_token() -> None:
    with pytest.raises(RuntimeError, match="FAIRSLOT_METRICS_TOKEN must be at least 32"):
        production(metrics_token="short").check_production()


def test_production_starts_with_a_long_token_or_with_metrics_off() -> None:
    production(metrics_token="t" * 32).check_production()
    production(metrics_enabled=False).check_production()


def test_development_serves_metrics_to_loopback_without_a_token() -> None:
    settings = load_settings(environment="development")

    settings.check_production()
    assert settings.metrics_enabled and settings.metrics_token is None
    assert settings.metrics_networks == ["127.0.0.1/32", "::1/128"]


def test_the_operators_networks_are_read_as_cidrs() -> None:
    assert load_settings(metrics_networks="10.8.0.0/16, 127.0.0.1/32").metrics_networks == [
        "10.8.0.0/16",
        "127.0.0.1/32",
    ]
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        load_settings(metrics_networks="prometheus.internal")


def test_only_observability_imports_the_prometheus_library() -> None:
    importers = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name.split(".")[0] == "prometheus_client" for name in names):
                importers.add(path.relative_to(SRC).parts[0])

    assert importers == {"observability"}
