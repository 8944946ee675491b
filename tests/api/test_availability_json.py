"""The slot radar's poll is answered from JSON rendered once per memo lifetime
(``availability/recall.py``), not validated and serialised per poll: the bytes must be
those the response model would make, and the OpenAPI document must still say so."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from factories.channel_api import channel_headers
from factories.statements import statements
from factories.world import RELEASED_DAY, World
from fairslot.availability.schemas import SessionAvailabilityView
from fairslot.availability.service import availability
from fairslot.memo import AVAILABILITY_FOR


def _poll(client: TestClient, world: World) -> tuple[bytes, str]:
    answer = client.get(
        "/v1/availability",
        headers=channel_headers(world, device="radar-1"),
        params={
            "department_id": world.department.id,
            "date_from": str(RELEASED_DAY),
            "date_to": str(RELEASED_DAY + timedelta(days=1)),
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.content, answer.headers["content-type"]


def test_the_recalled_json_is_what_the_response_model_makes(
    client: TestClient, world: World
) -> None:
    world.session(capacity=3)
    world.session(capacity=2, day=RELEASED_DAY + timedelta(days=1))

    served, content_type = _poll(client, world)

    assert content_type == "application/json"
    read = availability(
        world.db,
        department_id=world.department.id,
        date_from=RELEASED_DAY,
        date_to=RELEASED_DAY + timedelta(days=1),
        title=None,
        now=world.now(),
        channel_id=world.channel.id,
        batch_window_default=world.platform.settings.batch_window_seconds,
    )
    world.db.commit()
    assert len(read) == 2 and sum(len(s.slots) for s in read) == 5
    # What FastAPI makes of the response model, as a client reads it back.
    as_model = TypeAdapter(list[SessionAvailabilityView])
    assert as_model.validate_json(served) == read
    assert served == as_model.dump_json(read)


def test_a_second_poll_within_the_lifetime_reads_no_session(
    client: TestClient, world: World
) -> None:
    world.session(capacity=3)
    first, _ = _poll(client, world)

    with statements(world.platform.engine) as seen:
        again, _ = _poll(client, world)
    assert again == first
    assert not any("clinic_sessions" in s for s in seen), seen

    world.platform.clock.advance(AVAILABILITY_FOR)
    with statements(world.platform.engine) as seen:
        later, _ = _poll(client, world)
    assert later == first
    assert any("clinic_sessions" in s for s in seen)


def test_the_openapi_document_still_declares_the_answer(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    ok = document["paths"]["/v1/availability"]["get"]["responses"]["200"]
    schema = ok["content"]["application/json"]["schema"]
    assert schema["type"] == "array"
    assert schema["items"]["$ref"].endswith("/SessionAvailabilityView")
