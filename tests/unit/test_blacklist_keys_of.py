"""Which blacklist keys an identity is known by, and whether new entries hit it: the
pure half of every booking path's blacklist check."""

from __future__ import annotations

from fairslot.blacklist.gate import BlockedKeys, Identifiers, keys_of
from fairslot.blacklist.keys import key_for
from fairslot.blacklist.models import Scope
from fairslot.context import edge_context
from fairslot.crypto import Protector

PROTECTOR = Protector(data_key="unit-test-data-key", hash_key="unit-test-hash-key")


def test_stored_device_and_network_keys_are_compared_as_they_are() -> None:
    ctx = edge_context(protector=PROTECTOR, actor="patient", device_id="dev", ip="203.0.113.9")
    ids = Identifiers(
        patient_key="p",
        phone_hash="ph",
        account_id=7,
        device_key=ctx.device_key,
        ip_key=ctx.ip_key,
        payment_account_hash="pay",
    )

    keys = keys_of(ids, protector=None)

    assert keys == [
        (Scope.PATIENT, "p"),
        (Scope.PHONE, "ph"),
        (Scope.ACCOUNT, "account:7"),
        (Scope.DEVICE, key_for(Scope.DEVICE, "dev", protector=PROTECTOR)),
        (Scope.NETWORK, key_for(Scope.NETWORK, "203.0.113.9", protector=PROTECTOR)),
        (Scope.PAYMENT, "pay"),
    ]
    assert keys_of(ids, protector=PROTECTOR) == keys


def test_new_entries_hit_only_identities_carrying_one_of_their_keys() -> None:
    device = PROTECTOR.keyed_hash("bot-1", purpose="device")
    blocked = BlockedKeys(keys=frozenset({(Scope.DEVICE, device), (Scope.ACCOUNT, "account:3")}))

    assert blocked.hit(Identifiers(device_key=device), protector=PROTECTOR)
    assert blocked.hit(Identifiers(account_id=3), protector=PROTECTOR)
    other = PROTECTOR.keyed_hash("bot-2", purpose="device")
    assert not blocked.hit(Identifiers(device_key=other, account_id=4), protector=PROTECTOR)
    assert blocked.account_ids == [3] and blocked.of(Scope.DEVICE) == [device]
    assert BlockedKeys(keys=frozenset({(Scope.PHONE, "x")})).of(Scope.NETWORK) == []
