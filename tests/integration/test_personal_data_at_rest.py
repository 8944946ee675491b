"""After a journey that carries an end user's address, device id and Wi-Fi id, and a
patient's name, no table holds any of them in the clear: only keyed hashes, a masked
address and ciphertext. On SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.demand import resident_id
from factories.world import World
from fairslot.audit.models import RequestRecord
from fairslot.db.registry import Base
from fairslot.patients.models import Patient

NAME = "欧阳明月"
END_USER_IP = "203.0.113.77"
DEVICE = "imei-86420135792468"
WIFI = "HomeNet-Ouyang-5G"


def test_a_booking_journey_leaves_no_address_device_wifi_or_name_in_any_table(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=3)
    headers = {
        "X-Channel-Key": world.channel_key,
        "X-Device-Id": DEVICE,
        "X-End-User-IP": END_USER_IP,
        "X-Wifi-Id": WIFI,
    }
    account = client.post("/v1/accounts", headers=headers, json={"phone": "13912345678"})
    assert account.status_code == 201, account.text
    account_id = account.json()["account_id"]
    patient = client.post(
        f"/v1/accounts/{account_id}/patients",
        headers=headers,
        json={"name": NAME, "id_number": resident_id(), "phone": "13912345678"},
    )
    assert patient.status_code == 201, patient.text
    hold = client.post(
        "/v1/holds",
        headers=headers,
        json={
            "account_id": account_id,
            "patient_id": patient.json()["patient_id"],
            "session_id": session.id,
        },
    )
    assert hold.status_code == 201, hold.text
    confirm = client.post(
        f"/v1/bookings/{hold.json()['booking_id']}/confirm",
        headers=headers,
        json={
            "account_id": account_id,
            "payment_account": "alipay-77@example.cn",
            "payment_reference": "pay-1",
        },
    )
    assert confirm.status_code == 200, confirm.text

    world.db.rollback()
    dump = _dump(world)
    for secret in (NAME, END_USER_IP, DEVICE, WIFI, "203.0.113.77", "imei-864"):
        assert secret not in dump, f"{secret!r} is stored in the clear"
    # What is stored instead: the keys the blacklist would use, and the masked address.
    records = world.db.scalars(select(RequestRecord)).all()
    assert records and {r.device_key for r in records} == {world.device_key(DEVICE)}
    assert {(r.ip_key, r.ip_label, r.wifi_key) for r in records} == {
        (world.network_key(END_USER_IP), "203.0.113.x", world.network_key(WIFI))
    }
    stored = world.db.scalars(select(Patient)).one()
    assert stored.name_masked == "欧**月"
    assert world.platform.protector.decrypt(stored.name_encrypted) == NAME


def _dump(world: World) -> str:
    """Every value of every table, as text."""
    lines = []
    for table in Base.metadata.sorted_tables:
        for row in world.db.execute(select(table)).all():
            lines.append(f"{table.name}: " + " | ".join(str(v) for v in row))
    return "\n".join(lines)
