"""Fixtures many test folders share, registered from tests/conftest.py as a plugin (a
second conftest.py would shadow the root one that tests import ``START`` from). A test
module that needs something else defines its own fixture of the same name, which wins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from factories.review import staff
from factories.staff import signed_in
from factories.world import World, make_world
from fairslot.api.app import create_app
from fairslot.bootstrap import Platform
from fairslot.staff.audit import StaffActor
from fairslot.staff.roles import Role


@pytest.fixture
def world(db: Session, platform: Platform) -> World:
    return make_world(db, platform)


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    """The app over HTTP; a server error comes back as a 500 for the test to see."""
    with TestClient(create_app(platform), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def it_admin(db: Session, platform: Platform, client: TestClient) -> dict[str, str]:
    """The Authorization header of IT admin ``it_li``."""
    return signed_in(client, db, username="it_li", roles={Role.IT_ADMIN}, now=platform.clock.now())


@pytest.fixture
def wang(world: World) -> StaffActor:
    """A reviewer, as the actor the services take."""
    return staff(world, "wang", Role.REVIEWER)


@pytest.fixture
def li(world: World) -> StaffActor:
    """A second reviewer."""
    return staff(world, "li", Role.REVIEWER)
