"""Several worker processes, one set of figures: ``prometheus_client``'s multi-process
mode, set up by ``fairslot serve --workers N``.

Each process writes its instruments to memory-mapped files named by its pid in one
directory (``PROMETHEUS_MULTIPROC_DIR``); whichever worker answers a scrape adds them up.
Three things the library leaves to us:

- **a fresh directory per server start.** Files left by an earlier run would be added to
  this one's counters. ``fairslot serve`` makes ``fairslot-metrics-<pid>-…`` (under the
  ``PROMETHEUS_MULTIPROC_DIR`` the operator set, else the system's temporary directory)
  before any worker starts, hands it to the workers through the environment, and removes
  it when it stops; directories of earlier servers that died without removing theirs are
  removed at the next start.
- **the mode chosen before the first instrument.** The library picks its value class when
  it is imported; the serving process has imported it long before (the CLI imports the
  app), so :func:`enable` switches it, and refuses once an instrument exists.
- **dead workers.** uvicorn replaces a worker that dies; its counters must stay (a counter
  that went down would read as a reset), but its "live" gauges (connections in use, pool
  size) must go, or they would count forever. :func:`forget_dead` removes them; every
  scrape runs it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from prometheus_client import CollectorRegistry, multiprocess, values

from fairslot.observability import record

ENV = "PROMETHEUS_MULTIPROC_DIR"
DIR_PREFIX = "fairslot-metrics-"
_LIVE_FILE = re.compile(r"^gauge_live\w+?_(\d+)\.db$")
_SERVER_DIR = re.compile(rf"^{DIR_PREFIX}(\d+)-")


def directory() -> Path | None:
    """The shared directory of this process, when it runs in multi-process mode."""
    path = os.environ.get(ENV)
    return Path(path) if path else None


def enable(path: Path) -> None:
    """Write this process's instruments to ``path`` (and tell processes it starts)."""
    if record.made() and directory() != path:
        raise RuntimeError(
            "metrics instruments already exist in this process: enable the multi-process "
            "directory before the platform is built"
        )
    os.environ[ENV] = str(path)
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


def start_server_directory() -> Path:
    """A fresh directory for this server's processes, made before any of them starts;
    directories of servers that are gone are removed first."""
    base = Path(os.environ.get(ENV) or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    for old in base.iterdir():
        found = _SERVER_DIR.match(old.name)
        if found and old.is_dir() and not _alive(int(found.group(1))):
            shutil.rmtree(old, ignore_errors=True)
    path = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{os.getpid()}-", dir=base))
    enable(path)
    return path


def remove_server_directory(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def forget_dead(path: Path) -> list[int]:
    """Drop the live gauges of processes that are gone; their counters stay."""
    gone = set()
    for file in path.iterdir():
        found = _LIVE_FILE.match(file.name)
        if found and not _alive(int(found.group(1))):
            gone.add(int(found.group(1)))
    for pid in sorted(gone):
        multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]
    return sorted(gone)


def shared_registry(path: Path) -> CollectorRegistry:
    """A registry that adds up every process's files in ``path`` at each collection."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(path))  # type: ignore[no-untyped-call]
    return registry


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    # Never reaped here (no waitpid): uvicorn's supervisor reaps its workers, and a worker
    # reaped behind its back would look alive to it forever. A zombie counts as alive
    # until the supervisor has reaped it.
    return True
