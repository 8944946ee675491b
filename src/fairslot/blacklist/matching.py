"""Which rows carry a blocked identifier: one filter for every table that records who
asked and how (waiting entries, draw intents, bookings), so that a block reaches each the
same way.

Every identifier is matched by equality on the key the row stores, in SQL: patient keys and
phones through the row's patient (the caller joins ``Patient``); accounts, payment accounts,
devices and networks on the row itself. Devices and networks are stored as keyed hashes
under the blacklist's own purposes (``context.py::edge_context``), so a stored key *is* the
blacklist key and no row has to be read into Python to be hashed and compared.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement

from fairslot.patients.models import Patient


def carrying(
    model: Any,
    *,
    patient_keys: Collection[str],
    phone_hashes: Collection[str],
    account_ids: Collection[int],
    payment_hashes: Collection[str],
    device_keys: Collection[str],
    network_keys: Collection[str],
) -> list[ColumnElement[bool]]:
    """The alternatives (to be OR-ed) of rows of ``model`` that carry one of the
    identifiers; empty when nothing is asked for. ``model`` has ``account_id``,
    ``payment_account_hash``, ``device_key``, ``ip_key`` and ``wifi_key`` columns; a
    network key is an address's or a Wi-Fi's (one blacklist scope, two columns)."""
    wanted: list[ColumnElement[bool]] = []
    if patient_keys:
        wanted.append(Patient.id_hash.in_(sorted(patient_keys)))
    if phone_hashes:
        wanted.append(Patient.phone_hash.in_(sorted(phone_hashes)))
    if account_ids:
        wanted.append(model.account_id.in_(sorted(account_ids)))
    if payment_hashes:
        wanted.append(model.payment_account_hash.in_(sorted(payment_hashes)))
    if device_keys:
        wanted.append(model.device_key.in_(sorted(device_keys)))
    if network_keys:
        networks = sorted(network_keys)
        wanted.append(model.ip_key.in_(networks))
        wanted.append(model.wifi_key.in_(networks))
    return wanted
