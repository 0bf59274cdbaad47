"""The sandbox launcher: the container's main process, the only code that keeps any privilege.

It runs as root with three capabilities (CHOWN, SETUID, SETGID; everything else dropped, no-new-privileges)
and does four things, all on request of the HTTP service over an inherited socket (JSON lines):

- starts the service as the service uid:gid with no capabilities (`become_service`), member of every
  slot's group so that its file tools reach the files commands leave;
- `acquire`: gives an execution a slot, i.e. its own uid:gid (base + slot), from a pool of 2 × max
  concurrency;
- `run`: runs `sh -c COMMAND` as the slot's uid with no supplementary groups, a clean environment, its
  workspace as cwd and HOME, umask 007, oom_score_adj 1000, rlimits (processes per uid, memory and file
  size per process, no core) and the network policy's seccomp filter (netpolicy.py: under `none` no socket
  but AF_UNIX; under `internet`/`allow` through a supervisor process, netsupervised.py); stdout/stderr are
  the pipes the service passed with SCM_RIGHTS;
- `kill` / `release`: ends every process of the slot's uid (slots.py: a child whose effective uid is the
  slot's and real uid root, so that the slot's processes cannot stop it, SIGKILLs them through pidfds until
  none is left, so setsid and double forks die too); release then hands the workspace back to the service
  uid:gid and frees the slot.

Standard library only, and as little of it as possible: this is the code to audit. This module reads the
settings and forks the service first, importing only what that needs; the loop that answers the requests
(launcher.py), ctypes and the network policy are imported while the service imports (its start is on the
readiness path, they are not; no command runs before the policy is prepared, as the loop starts after it).

The service runs in the forked child itself, with no second interpreter (`run_service`): the child drops to
the service uid (which clears every capability), undoes the launcher's signal handling and only then
imports the service, so no code of the service or of its dependencies ever runs with a privilege. An
interpreter's start and the modules both import (config, budgets, dataclasses...) are paid once: ~40 ms
of CPU of the cold start (bench/agent-runner-image.ts). Any other command (`tests/run.sh`: pytest) is
exec'd as before.
"""
from __future__ import annotations

import gc
import os
import signal
import socket
import stat
import sys
import time
from typing import Dict, List, Optional

from . import budgets, startup
from . import config as names
from .slots import become

# Capabilities the launcher needs (bit numbers of linux/capability.h).
CAP_CHOWN, CAP_SETGID, CAP_SETUID = 0, 6, 7
REQUIRED_CAPS = {"CHOWN": CAP_CHOWN, "SETGID": CAP_SETGID, "SETUID": CAP_SETUID}
DEFAULT_SERVICE_ID = 10001
DEFAULT_UID_BASE = 61000


class Settings:
    """What the launcher reads from the environment (names in config.py, tuning in README)."""

    def __init__(self, env: Dict[str, str]) -> None:
        self.service_uid = names._int(env, names.SERVICE_UID, DEFAULT_SERVICE_ID, 1, (1 << 31) - 1)
        self.service_gid = names._int(env, names.SERVICE_GID, DEFAULT_SERVICE_ID, 1, (1 << 31) - 1)
        concurrency = names._int(env, names.MAX_CONCURRENCY, 4, 1, 256)
        self.slots = 2 * concurrency
        self.uid_base = names._int(env, names.SANDBOX_UID_BASE, DEFAULT_UID_BASE, 1000, (1 << 31) - 1024)
        self.max_processes = names._int(env, names.SANDBOX_MAX_PROCESSES, 64, 4, 1 << 16)
        self.max_memory = names._int(env, names.SANDBOX_MAX_MEMORY_BYTES, 512 << 20, 16 << 20, 1 << 44)
        self.max_file = names._int(env, names.SANDBOX_MAX_FILE_BYTES, 1 << 30, 1 << 20, 1 << 50)
        self.workspace = os.path.realpath(env.get(names.WORKSPACE, "").strip() or "/workspace")
        self.data = os.path.realpath(env.get(names.DATA, "").strip() or "/data")
        self.network = names.sandbox_network(env)
        self.budgets = budgets.BudgetSettings.from_env(env)
        if self.service_uid in range(self.uid_base, self.uid_base + self.slots):
            raise names.ConfigError(f"{names.SERVICE_UID}={self.service_uid} is inside the sandbox uid range")

    def slot_id(self, slot: int) -> int:
        return self.uid_base + slot

    def slot_of(self, uid_or_gid: int) -> Optional[int]:
        slot = uid_or_gid - self.uid_base
        return slot if 0 <= slot < self.slots else None


def privilege_problem() -> Optional[str]:
    """Why this process cannot sandbox commands (None when it can)."""
    if os.geteuid() != 0:
        return f"the container runs as uid {os.geteuid()}, not as root"
    try:
        with open("/proc/self/status") as handle:
            effective = next(int(line.split()[1], 16) for line in handle if line.startswith("CapEff:"))
    except (OSError, StopIteration, ValueError):
        return "cannot read the process's capabilities from /proc/self/status"
    missing = [name for name, bit in REQUIRED_CAPS.items() if not effective >> bit & 1]
    if missing:
        return f"the container lacks the capabilities {', '.join(missing)}"
    return None


def hand_roots_to_service(settings: Settings) -> None:
    """The workspace and data roots belong to the service uid:gid (it sets their modes itself).

    A bind mount of the user's home already does; a named volume (a remote engine) starts as a copy of
    the image's directory, owned by the image's user, which the service may not be. Only the roots: what
    lies below is the service's own from earlier runs.
    """
    for top in (settings.workspace, settings.data):
        try:
            st = os.lstat(top)
            if stat.S_ISDIR(st.st_mode) and (st.st_uid, st.st_gid) != (settings.service_uid, settings.service_gid):
                os.chown(top, settings.service_uid, settings.service_gid, follow_symlinks=False)
        except OSError as error:
            print(f"sandbox launcher: cannot hand {top} to the service: {error.strerror}", file=sys.stderr, flush=True)


def catch_signals() -> int:
    """From before the fork: a signal to stop (the engine's stop, tini passing it on) no longer ends the launcher
    by default while it prepares the network policy beside the starting service, which would go on without
    it; the loop passes it on to the service (Launcher.forward). The read end of the wakeup pipe."""
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, lambda *_: None)
    return wake_r


def service_environment(settings: Settings, fd: Optional[int], problem: Optional[str]) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (names.SANDBOX_FD, names.SANDBOX_UNAVAILABLE)}
    if fd is not None:
        env[names.SANDBOX_FD] = str(fd)
    if problem:
        env[names.SANDBOX_UNAVAILABLE] = problem
    return env


# The image's CMD: the service, run in this interpreter (run_service) rather than exec'd.
SERVICE_COMMAND = ["python3", "-m", "stigmer_agent_runner"]
SERVICE_NAME = "stigmer-service"


def in_process(service: List[str]) -> bool:
    return service in (SERVICE_COMMAND, [sys.executable, *SERVICE_COMMAND[1:]])


def run_service(env: Dict[str, str]) -> int:
    """The service in this process (already the service uid, or the container's user when no sandbox is
    possible): its environment as an exec would have given it, then its imports and its loop."""
    os.environ.clear()
    os.environ.update(env)
    # No cyclic garbage collection while the service imports and starts (each collection walks every
    # object made so far, for little garbage): 4 % fewer instructions to ready. __main__ turns it back on
    # once the port listens.
    gc.disable()
    from .__main__ import main as service_main

    return service_main()


def start_service(service: List[str], env: Dict[str, str]) -> int:
    """Runs the service: here (its own command), else exec'd (never returns then)."""
    if in_process(service):
        return run_service(env)
    os.execvpe(service[0], service, env)


def name_service() -> None:
    """The service's process name (/proc/PID/comm; `ps`, `docker top` and the tests tell it from the launcher
    by it, the command line being the launcher's). Before `become`: the service uid cannot write it after."""
    try:
        with open("/proc/self/comm", "w") as handle:
            handle.write(SERVICE_NAME)
    except OSError:
        pass


def forget_signals(wake_r: int) -> None:
    """In the forked service: the launcher's signal handling undone (catch_signals), as an exec would. A
    signal caught before this went into the launcher's wakeup pipe: its loop passes it on to the service."""
    wake_w = signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    for fd in (wake_r, wake_w):
        if fd >= 0:
            os.close(fd)


def main(argv: List[str]) -> int:
    startup.mark("imported")
    service = argv or SERVICE_COMMAND
    try:
        settings = Settings(dict(os.environ))
    except names.ConfigError as error:
        print(f"sandbox launcher: invalid configuration: {error}", file=sys.stderr, flush=True)
        return 2
    problem = privilege_problem()
    if problem:
        # No sandbox possible: the service runs as this process is, and run_command refuses with this reason.
        if in_process(service):
            name_service()
        return start_service(service, service_environment(settings, None, problem))
    hand_roots_to_service(settings)
    parent_end, service_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    slot_groups = [settings.slot_id(s) for s in range(settings.slots)]
    wake_r = catch_signals()
    cpu_before_fork = time.process_time()  # the launcher's share of the start, in the log (bench/agent-runner-image.ts)
    pid = os.fork()
    if pid == 0:
        startup.mark("forked")
        code = 127
        try:
            parent_end.close()
            forget_signals(wake_r)
            if in_process(service):
                name_service()
            # The image's group (10001) opens /run/secrets; the slot groups open the executions' files.
            become(settings.service_uid, settings.service_gid, sorted({DEFAULT_SERVICE_ID, *slot_groups}))
            os.umask(0o007)
            os.set_inheritable(service_end.fileno(), True)
            code = start_service(service, service_environment(settings, service_end.fileno(), None))
        except BaseException as error:  # noqa: B902
            print(f"sandbox launcher: cannot start the service: {error}", file=sys.stderr, flush=True)
        exit_now(code)
    service_end.close()
    # Root walks the slots' directories through their groups (it has no DAC capability).
    os.setgroups(slot_groups)
    # While the service imports, not before: the loop's modules, ctypes, the program and a probe child. The
    # service's requests wait in the socket until the loop below reads them, so none runs unprepared.
    from . import netpolicy, netsupervised
    from .launcher import Launcher, machine_of

    network = netpolicy.prepare(netpolicy.NONE)
    supervised = netsupervised.prepare(settings.slot_id(0))
    problem = network[1] if settings.network == netpolicy.NONE else supervised[1]
    print(f"sandbox launcher: commands' network policy {settings.network}: "
          + (f"NOT ENFORCED, no command will run: {problem}" if problem else
             f"enforced (seccomp filter{'' if settings.network == netpolicy.NONE else ' and supervisor'}, {machine_of(network)})")
          + f"; the service started after {cpu_before_fork * 1000:.0f} ms of CPU", file=sys.stderr, flush=True)
    return Launcher(settings, parent_end, pid, network, supervised).serve(wake_r)


def exit_now(code: int) -> None:
    """Out at once, without the interpreter's teardown: when the OOM killer ended the service, the memory is
    often still full (a file in /tmp, say), and a teardown under that pressure thrashed for 0.3-0.5 s, or
    until the killer ended the launcher too, before the container's `die` said what happened. The service
    run in process leaves the same way (its own teardown is done: uvicorn's shutdown, the engine's)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    exit_now(main(sys.argv[1:]))
