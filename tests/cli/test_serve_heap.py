"""A serving process hides what start-up made from the cyclic garbage collector
(``cli/serve_cmd.py::settle_heap``): a full collection under load walked every one of
those objects while requests waited (the bench's availability p99 halved without it)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from fairslot.cli.serve_cmd import worker_app


def test_a_workers_start_up_objects_are_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRSLOT_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("FAIRSLOT_ACCESS_LOG", "false")  # no handler left on the test run
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        app = worker_app()
        frozen = gc.get_freeze_count()
        # the app, its routes and the ORM's mappers are among them
        assert frozen > 50_000, frozen
        assert not any(o is app for o in gc.get_objects(generation=2))
    finally:
        gc.unfreeze()
