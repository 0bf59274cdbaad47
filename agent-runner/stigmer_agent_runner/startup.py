"""The start-up's phases on one clock, for the service's `ready` line (bench/agent-runner-image.ts reads it).

CLOCK_BOOTTIME is the clock of /proc's process start times, so the phases count from the launcher's
process start (the interpreter's own start included): `imported` (the launcher's modules), `forked` (the
service's process, the same interpreter), `service imported` (uvicorn, Starlette and the service's modules),
`listening` (the app started, the port bound). The service forked in process inherits the launcher's marks.
Standard library only: the launcher imports it.
"""
from __future__ import annotations

import os
import time
from typing import List, Tuple

_marks: List[Tuple[str, float]] = []
# the process that imported this module first: the launcher (the service forked in process shares it)
_origin_pid = os.getpid()


def _now_ms() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME) * 1000


def _process_start_ms() -> float:
    """The start of the process that imported this module first, in ms since boot (10 ms steps)."""
    with open(f"/proc/{_origin_pid}/stat") as handle:
        ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def mark(name: str) -> None:
    _marks.append((name, _now_ms()))


def summary() -> str:
    """' N ms after the process started (PHASE at T ms, ..., M ms of CPU)', or '' where /proc cannot say."""
    try:
        origin = _process_start_ms()
    except (OSError, ValueError, IndexError):
        return ""
    phases = "".join(f"{name} at {max(0.0, at - origin):.0f} ms, " for name, at in _marks)
    return (f" {max(0.0, _now_ms() - origin):.0f} ms after the process started"
            f" ({phases}{time.process_time() * 1000:.0f} ms of CPU)")
