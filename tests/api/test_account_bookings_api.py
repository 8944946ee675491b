"""``GET /v1/accounts/{id}/bookings``: an account's bookings, paged (issue 12's gap)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from factories.demand import resident_id
from factories.world import World


def h(world: World) -> dict[str, str]:
    return {"X-Channel-Key": world.channel_key, "X-Device-Id": "imei-12"}


def test_a_channel_lists_an_accounts_bookings_a_page_at_a_time(
    client: TestClient, world: World
) -> None:
    account_id = client.post(
        "/v1/accounts", json={"phone": "13800138012"}, headers=h(world)
    ).json()["account_id"]
    held = []
    for n in range(3):
        patient = client.post(
            f"/v1/accounts/{account_id}/patients",
            json={
                "name": f"王{'一二三'[n]}",
                "id_number": resident_id(),
                "phone": "13800138012",
                "relation": "self" if n == 0 else "child",
            },
            headers=h(world),
        ).json()
        session = world.session(capacity=2)
        answer = client.post(
            "/v1/holds",
            json={
                "account_id": account_id,
                "patient_id": patient["patient_id"],
                "session_id": session.id,
            },
            headers=h(world),
        )
        assert answer.status_code == 201, answer.text
        held.append(answer.json()["booking_id"])

    first = client.get(f"/v1/accounts/{account_id}/bookings?limit=2", headers=h(world))
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) == 2 and page["next_offset"] == 2
    item = page["items"][0]
    assert item["status"] == "held" and item["cancellable"] is True
    assert item["department_name"] == world.department.name
    assert item["patient_name_masked"].startswith("王") and "*" in item["patient_name_masked"]
    assert item["slot_starts_at"].endswith("+08:00")
    rest = client.get(
        f"/v1/accounts/{account_id}/bookings?limit=2&offset=2", headers=h(world)
    ).json()
    assert rest["next_offset"] is None
    listed = {i["booking_id"] for i in page["items"] + rest["items"]}
    assert listed == set(held)


def test_another_channels_account_is_not_found(client: TestClient, world: World) -> None:
    answer = client.get("/v1/accounts/999999/bookings", headers=h(world))
    assert answer.status_code == 404 and answer.json()["error"] == "account_not_found"
