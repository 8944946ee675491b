"""Paying for a held booking through a payment provider (a cashier) and its signed callback."""
