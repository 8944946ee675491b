"""Profiling the server under the bench's load (``bench release --profile DIR``).

``py-spy`` (a dev dependency) samples the serving process and its uvicorn workers from
outside while one wrk phase runs, and writes the collapsed stacks (``DIR/<phase>.txt``).
:func:`summarise` turns them into the table a reader wants: per function, the share of
samples in which it was on the stack (inclusive) and at the top (self). The sampling
costs CPU on the same machine, so a profiled run's throughput is not a figure to quote.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError("py-spy is not installed (pip install -e '.[dev]')")
    return found


@contextmanager
def sampling(pid: int, *, out: Path, rate: int = 100) -> Iterator[None]:
    """Sample ``pid`` and its children until the block ends; collapsed stacks to ``out``."""
    process = subprocess.Popen(
        [py_spy(), "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
         "--format", "raw", "--rate", str(rate), "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def summarise(collapsed: str, *, top: int = 40) -> list[tuple[str, float, float]]:
    """``(function, inclusive share, self share)`` of the ``top`` functions by inclusive
    share, from py-spy's collapsed stacks (``frame;frame;frame count`` per line)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_short(frame) for frame in stack.split(";")]
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    if total == 0:
        return []
    return [(f, n / total, own[f] / total) for f, n in inclusive.most_common(top)]


def _short(frame: str) -> str:
    """``func (path/to/module.py:12)`` -> ``func (module.py)``: lines differ per call."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({'/'.join(Path(path).parts[-2:])})" if path else name
