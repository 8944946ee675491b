"""The real server in a subprocess, for the release benchmark and the simulator:
``python -m fairslot serve`` with the chosen number of uvicorn workers, on a free port,
configured only through ``FAIRSLOT_*`` variables."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base_url: str
    # What the server wrote (the access log's JSON lines, warnings, errors), once stopped.
    log: str = ""
    pid: int = 0  # the serving process (its uvicorn workers are its children)


@contextmanager
def running_server(
    *, workers: int, env: Mapping[str, str], startup_timeout: float = 90.0
) -> Iterator[Server]:
    """Serve until the block ends; yields the base URL once ``/healthz`` answers.

    ``env`` is the server's whole environment (its settings are ``FAIRSLOT_*`` variables).
    """
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="fairslot-server-", suffix=".log")[1])
    command = [
        sys.executable,
        "-m",
        "fairslot",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-upgrade",
    ]
    with log.open("wb") as out:
        # A session of its own, so that stopping it stops its uvicorn workers too.
        process = subprocess.Popen(
            command,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(base_url=f"http://127.0.0.1:{port}", pid=process.pid)
    try:
        wait_healthy(server.base_url, process=process, log=log, timeout=startup_timeout)
        yield server
    finally:
        _stop(process)
        server.log = log.read_text(errors="replace")
        log.unlink(missing_ok=True)


class ServerNotReady(RuntimeError):
    """The server exited, or did not answer ``/healthz``, at start."""


def wait_healthy(base: str, *, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Return once ``base/healthz`` answers 200; :class:`ServerNotReady` with the tail of
    the server's log if the process exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerNotReady(
                f"the server exited at start ({process.returncode}):\n{_tail(log)}"
            )
        with suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=2.0).status_code == 200:
                return
        time.sleep(0.1)
    raise ServerNotReady(f"the server did not answer within {timeout:.0f} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)  # uvicorn shuts its workers down gracefully
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
