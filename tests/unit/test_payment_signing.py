"""Signatures between the platform and a payment provider, without a database."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest

from fairslot.config import load_settings
from fairslot.payments import signing
from fairslot.payments.errors import AmountMismatch, SignatureInvalid
from fairslot.payments.providers import (
    DEV_PAYMENT_SECRET,
    HttpProvider,
    SandboxCashier,
    check_provider,
    make_provider,
    read_signed_callback,
)

SECRET = "a-shared-secret-of-the-provider"
GOOD_KEYS = {
    "data_key": "bSbjnhCTJUAJQX0a5t2HbmnFhZ6fiVAjEW9LFXb-DR4=",
    "hash_key": "h" * 40,
    "sms_sender": "http",
    "sms_gateway_url": "https://sms.example/send",
}


def callback(**overrides: str) -> dict[str, str]:
    fields = {
        "order_id": "7d0c1f0e-0000-4000-8000-000000000001",
        "amount": "50.00",
        "outcome": "paid",
        "payer": "alipay:2088000000001",
        "trade_no": "T20261206-1",
    }
    return signing.signed(fields, secret=SECRET) | overrides


def test_a_signed_callback_is_read_with_its_amount_and_payer() -> None:
    read = read_signed_callback(callback(), secret=SECRET)

    assert read.amount == Decimal("50.00")
    assert (read.outcome, read.payer, read.trade_no) == (
        "paid",
        "alipay:2088000000001",
        "T20261206-1",
    )


def test_a_tampered_amount_is_refused() -> None:
    with pytest.raises(SignatureInvalid):
        read_signed_callback(callback(amount="0.01"), secret=SECRET)


@pytest.mark.parametrize("field", ["order_id", "outcome", "payer", "trade_no"])
def test_any_changed_field_breaks_the_signature(field: str) -> None:
    with pytest.raises(SignatureInvalid):
        read_signed_callback(callback(**{field: "changed"}), secret=SECRET)


def test_a_callback_signed_with_another_secret_is_refused() -> None:
    forged = signing.signed({k: v for k, v in callback().items() if k != "signature"}, secret="x")

    with pytest.raises(SignatureInvalid):
        read_signed_callback(forged, secret=SECRET)


def test_an_amount_spelled_otherwise_than_with_two_decimals_is_refused_even_if_signed() -> None:
    fields = {k: v for k, v in callback().items() if k != "signature"} | {"amount": "50.0"}

    with pytest.raises(AmountMismatch):
        read_signed_callback(signing.signed(fields, secret=SECRET), secret=SECRET)


def test_amounts_are_written_one_way() -> None:
    assert signing.amount_text(Decimal("12.5")) == "12.50"
    assert signing.parse_amount("12.50") == Decimal("12.50")
    assert signing.parse_amount("12.5") is None
    assert signing.parse_amount("NaN") is None
    assert signing.parse_amount("1e3") is None


def test_the_http_providers_redirect_carries_the_order_amount_return_url_and_signature() -> None:
    provider = HttpProvider(url="https://cashier.example/pay?merchant=42", secret=SECRET)

    url = provider.redirect_url(
        order_id="o-1", amount=Decimal("50"), return_url="https://h.example/done"
    )
    query = dict(parse_qsl(urlsplit(url).query))

    assert url.startswith("https://cashier.example/pay?merchant=42&")
    assert (query["order_id"], query["amount"], query["currency"]) == ("o-1", "50.00", "CNY")
    assert query["return_url"] == "https://h.example/done"
    assert signing.verify({k: v for k, v in query.items() if k != "merchant"}, secret=SECRET)


def test_the_sandbox_page_opens_only_with_the_query_the_checkout_signed() -> None:
    cashier = SandboxCashier(secret=SECRET)
    url = cashier.redirect_url(order_id="o-1", amount=Decimal("50"), return_url="/bookings")
    query = dict(parse_qsl(urlsplit(url).query))

    assert urlsplit(url).path == "/pay/sandbox/o-1"
    assert cashier.page_is_signed(query)
    assert not cashier.page_is_signed(query | {"amount": "0.01"})
    assert not cashier.page_is_signed(query | {"return_url": "https://evil.example/"})


def test_production_refuses_the_sandbox_and_an_http_provider_without_url_or_secret() -> None:
    with pytest.raises(RuntimeError, match="sandbox"):
        check_provider(load_settings(environment="production", **GOOD_KEYS))
    with pytest.raises(RuntimeError, match="PAYMENT_URL"):
        check_provider(
            load_settings(environment="production", payment_provider="http", **GOOD_KEYS)
        )
    with pytest.raises(RuntimeError, match="development secret"):
        check_provider(
            load_settings(
                environment="production",
                payment_provider="http",
                payment_url="https://cashier.example/pay",
                payment_secret=DEV_PAYMENT_SECRET,
                **GOOD_KEYS,
            )
        )
    check_provider(
        load_settings(
            environment="production",
            payment_provider="http",
            payment_url="https://cashier.example/pay",
            payment_secret=SECRET,
            **GOOD_KEYS,
        )
    )


def test_development_gets_the_sandbox_and_http_needs_its_settings() -> None:
    assert isinstance(make_provider(load_settings()), SandboxCashier)
    with pytest.raises(RuntimeError, match="PAYMENT_URL"):
        make_provider(load_settings(payment_provider="http"))
    provider = make_provider(
        load_settings(payment_provider="http", payment_url="https://c.example", payment_secret="s")
    )
    assert isinstance(provider, HttpProvider)
