"""Run one ``wrk`` phase and read what it recorded.

``wrk`` (Debian's package, ``/usr/bin/wrk``) is the load generator: C, an event loop per
thread, Lua (LuaJIT) for the requests. The script is generated per run (``bench/lua.py``).
Its own CPU is read from ``/proc/<pid>/stat`` (user + system time of all its threads)
when the load starts and, polled, just before it exits: the generator's share of the
machine during the phase, which ``bench/phases.py`` reports beside every figure.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from fairslot.bench.lua import Plan, data_chunk, script
from fairslot.bench.stats import Sample

WRK = "wrk"
_TICKS = os.sysconf("SC_CLK_TCK")


class WrkMissing(RuntimeError):
    """``wrk`` is not installed (Debian: ``apt-get install wrk``)."""


@dataclass(frozen=True)
class WrkErrors:
    connect: int = 0
    read: int = 0
    write: int = 0
    timeout: int = 0

    @property
    def total(self) -> int:
        return self.connect + self.read + self.write


@dataclass(frozen=True)
class WrkRun:
    samples: list[Sample]
    errors: WrkErrors
    cpu_seconds: float  # wrk's user + system time over the phase
    wall_seconds: float  # from wrk's start to its exit

    @property
    def cpu_share(self) -> float:
        """wrk's share of the whole machine's CPU over the phase (1.0: every core)."""
        cores = os.cpu_count() or 1
        return self.cpu_seconds / (self.wall_seconds * cores) if self.wall_seconds > 0 else 0.0


def wrk_path() -> str:
    found = shutil.which(WRK)
    if found is None:
        raise WrkMissing("wrk is not installed: apt-get install wrk (Debian)")
    return found


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (all its threads), from
    ``/proc/<pid>/stat``; None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat_cpu_seconds(raw)


def threads(pid: int) -> int:
    """How many threads process ``pid`` has now (0 once it is gone)."""
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def stat_cpu_seconds(stat_line: str) -> float:
    """Fields 14 (utime) and 15 (stime) of a ``/proc/<pid>/stat`` line, in seconds. The
    command name (field 2) may hold spaces and parentheses: count from its last ``)``."""
    after = stat_line[stat_line.rindex(")") + 2 :].split()
    # ``after`` starts at field 3 (state): utime is field 14, stime field 15.
    return (int(after[11]) + int(after[12])) / _TICKS


def run(plan: Plan, *, url: str, duration_s: float, timeout_s: float = 60.0) -> WrkRun:
    """Run ``plan`` against ``url`` for ``duration_s``.

    Each wrk thread stops itself ``duration_s`` after its first send, once its last
    answer is in (or sooner, when its work list is done), so no request is cut off in
    flight. wrk's own ``-d`` is only a backstop (``timeout_s`` later): wrk would sleep it
    out even with every thread stopped, so once only its main thread is left, it gets
    the SIGINT that ends that sleep, and writes its records."""
    binary = wrk_path()
    work = Path(tempfile.mkdtemp(prefix="fairslot-wrk-"))
    try:
        out = work / "records.tsv"
        plan = replace(
            plan,
            out_path=str(out),
            constants={"PHASE_US": round(duration_s * 1_000_000), **plan.constants},
        )
        data = work / "data.lua"
        data.write_text(data_chunk(plan), encoding="utf-8")
        (work / "script.lua").write_text(script(plan, data_path=str(data)), encoding="utf-8")
        command = [
            binary,
            f"-t{plan.connections}",
            f"-c{plan.connections}",
            f"-d{math.ceil(duration_s + timeout_s)}s",
            f"--timeout={max(1, round(timeout_s))}s",
            "-s",
            str(work / "script.lua"),
            url,
        ]
        began = time.monotonic()
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        first = process_cpu_seconds(process.pid) or 0.0
        last = first
        # SIGINT only once the threads were seen (wrk sets its handler after starting
        # them; before, SIGINT would kill it) and are gone again.
        started = interrupted = False
        while process.poll() is None:
            seen = process_cpu_seconds(process.pid)
            if seen is not None:
                last = seen
            alive = threads(process.pid)
            started = started or alive > 1
            if started and alive == 1 and not interrupted:
                process.send_signal(signal.SIGINT)
                interrupted = True
            time.sleep(0.02)
        wall = time.monotonic() - began
        stdout, stderr = process.communicate()
        if process.returncode != 0 or not out.exists():
            raise RuntimeError(f"wrk failed ({process.returncode}):\n{stderr}\n{stdout}")
        samples, errors = read_records(out.read_text(encoding="utf-8"))
        return WrkRun(samples=samples, errors=errors, cpu_seconds=last - first, wall_seconds=wall)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def read_records(text: str) -> tuple[list[Sample], WrkErrors]:
    """The records ``done`` wrote (see ``bench/lua.py``); answers of finished threads'
    idle requests are left out."""
    samples: list[Sample] = []
    errors = WrkErrors()
    for line in text.splitlines():
        if not line:
            continue
        fields = line.split("\t")
        if fields[0] == "#summary":
            connect, read, write, _status, timeout = (int(f) for f in fields[3:8])
            errors = WrkErrors(connect=connect, read=read, write=write, timeout=timeout)
            continue
        endpoint, status, code, latency_us, end_us, extra = fields
        if endpoint == "idle":
            continue
        samples.append(
            Sample(
                endpoint=endpoint,
                status=int(status),
                ms=int(float(latency_us)) / 1000,
                code=None if code == "-" else code,
                end_s=int(float(end_us)) / 1_000_000,
                extra=None if extra == "-" else extra,
            )
        )
    return samples, errors
