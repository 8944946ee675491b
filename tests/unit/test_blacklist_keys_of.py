"""Which blacklist keys an identity is known by, and whether new entries hit it: the
pure half of every booking path's blacklist check."""

from __future__ import annotations

from fairslot.blacklist.gate import BlockedKeys, Identifiers, keys_of
from fairslot.blacklist.models import Scope
from fairslot.crypto import Protector

PROTECTOR = Protector(data_key="unit-test-data-key", hash_key="unit-test-hash-key")


def test_device_and_network_keys_need_the_protector_the_others_do_not() -> None:
    ids = Identifiers(
        patient_key="p",
        phone_hash="ph",
        account_id=7,
        device_id="dev",
        ip="203.0.113.9",
        payment_account_hash="pay",
    )

    without = keys_of(ids, protector=None)
    with_protector = keys_of(ids, protector=PROTECTOR)

    assert without == [
        (Scope.PATIENT, "p"),
        (Scope.PHONE, "ph"),
        (Scope.ACCOUNT, "account:7"),
        (Scope.PAYMENT, "pay"),
    ]
    assert (Scope.DEVICE, PROTECTOR.keyed_hash("dev", purpose="device")) in with_protector
    assert (Scope.NETWORK, PROTECTOR.keyed_hash("203.0.113.9", purpose="network")) in (
        with_protector
    )


def test_new_entries_hit_only_identities_carrying_one_of_their_keys() -> None:
    device = PROTECTOR.keyed_hash("bot-1", purpose="device")
    blocked = BlockedKeys(keys=frozenset({(Scope.DEVICE, device), (Scope.ACCOUNT, "account:3")}))

    assert blocked.hit(Identifiers(device_id="bot-1"), protector=PROTECTOR)
    assert blocked.hit(Identifiers(account_id=3), protector=PROTECTOR)
    assert not blocked.hit(Identifiers(device_id="bot-2", account_id=4), protector=PROTECTOR)
    assert blocked.account_ids == [3] and blocked.needs_raw_identifiers
    assert not BlockedKeys(keys=frozenset({(Scope.PHONE, "x")})).needs_raw_identifiers
