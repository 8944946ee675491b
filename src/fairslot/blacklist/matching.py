"""Which rows may carry a blocked identifier: one filter for every table that records who
asked and how (waiting entries, draw intents, bookings), so that a block reaches each the
same way.

Patient keys and phones are matched through the row's patient (the caller joins
``Patient``); accounts and payment-account hashes on the row itself. Devices and networks
are stored raw and blacklisted as keyed hashes: ``with_raw_identifiers`` selects every row
carrying one, for the caller to hash and compare.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, or_

from fairslot.patients.models import Patient


def carrying(
    model: Any,
    *,
    patient_keys: Collection[str],
    phone_hashes: Collection[str],
    account_ids: Collection[int],
    payment_hashes: Collection[str],
    with_raw_identifiers: bool,
) -> list[ColumnElement[bool]]:
    """The alternatives (to be OR-ed) of rows of ``model`` that may carry one of the
    identifiers; empty when nothing is asked for. ``model`` has ``account_id``,
    ``payment_account_hash``, ``device_key``, ``ip_key`` and ``wifi_key`` columns."""
    wanted: list[ColumnElement[bool]] = []
    if patient_keys:
        wanted.append(Patient.id_hash.in_(sorted(patient_keys)))
    if phone_hashes:
        wanted.append(Patient.phone_hash.in_(sorted(phone_hashes)))
    if account_ids:
        wanted.append(model.account_id.in_(sorted(account_ids)))
    if payment_hashes:
        wanted.append(model.payment_account_hash.in_(sorted(payment_hashes)))
    if with_raw_identifiers:
        wanted.append(
            or_(
                model.device_key.is_not(None),
                model.ip_key.is_not(None),
                model.wifi_key.is_not(None),
            )
        )
    return wanted
