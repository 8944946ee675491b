"""The bench's own servers as processes of their own: the trivial responder
(``bench/responder.py``) and the hand-written anchor (``bench/anchor.py``). The product's
server is ``localserver.running_server``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from fairslot.localserver import free_port, wait_healthy


@contextmanager
def running_module(
    module: str, *, workers: int, env: Mapping[str, str], startup_timeout: float = 60.0
) -> Iterator[str]:
    """``python -m module --port P --workers N`` until the block ends; yields its base URL
    once ``/healthz`` answers."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="fairslot-bench-", suffix=".log")[1])
    command = [sys.executable, "-m", module, "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        # A session of its own, so that stopping it stops its worker processes too.
        process = subprocess.Popen(
            command, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process=process, log=log, timeout=startup_timeout)
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.unlink(missing_ok=True)
