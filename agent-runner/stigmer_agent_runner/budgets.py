"""Disk and memory budgets of an execution's commands (docs/security.md).

No quota and no cgroup per execution is available to the launcher (neither needs less than CAP_SYS_ADMIN),
so the budgets are enforced by measurement, in the launcher, only while a slot may have processes:

- disk: the allocated bytes (st_blocks) of the execution's workspace and of the slot's files in the shared
  scratch directories (/tmp and /dev/shm are tmpfs: memory, bounded by their size, but another execution's
  room; they count against the disk budget), hard links once, symlinks not followed. Walking a tree is
  not cheap, so a tick only reads the file systems' used space (statvfs) and walks a slot's files when
  that has grown by more than the slot's remaining budget less a margin. Each command also gets
  RLIMIT_FSIZE = the remaining budget, so one big file stops at the budget by itself.
- memory: the anonymous resident memory (RSS less shared pages) of the slot's processes, summed on the
  same tick; RLIMIT_DATA = the budget is each process's hard ceiling.

Standard library only: the launcher imports it.

Over 350 lines: the measuring (tree walks as the slot's uid, statvfs, /proc) and the Watcher that decides
when to measure share their constants and one reason to change (how a budget is measured); split, each
half would need the other's margins and ticks to be read.
"""
from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Set, Tuple

from . import config as names

DEFAULT_MEMORY_BUDGET = 512 << 20  # without a container limit to take half of
TICK_SECONDS = 0.05
# The tick while a slot is within 2 × DISK_MARGIN of its disk budget: a faster writer passes it by less.
NEAR_TICK_SECONDS = 0.01
# What a writer at ~500 MB/s adds in one tick: a slot is walked once its remaining budget is within this
# of the growth seen by statvfs, so the walk happens before the budget is reached, not after.
DISK_MARGIN = 32 << 20
# Growth that is always worth a walk when the remaining budget is below the margin (less: nothing grew),
# unless the remaining budget itself is smaller: then any growth past it is.
MIN_WALK_GROWTH = 1 << 20
# RLIMIT_FSIZE = remaining + this: a file stopped by the limit passes the budget (so the watcher reports
# it) by at most this much.
FSIZE_SLACK = 64 << 10
PAGE = os.sysconf("SC_PAGE_SIZE")
# Shared scratch directories every sandbox uid may write (tmpfs in the container); the launcher cleans them.
SCRATCH_DIRS = ("/tmp", "/dev/shm")
CGROUP_MEMORY_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def format_bytes(value: int) -> str:
    """1 GiB, 64 MiB, 1.5 GiB, 900 KiB: what the errors show."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if value >= 1 << shift:
            amount = value / (1 << shift)
            return f"{amount:.0f} {unit}" if amount == int(amount) or amount >= 100 else f"{amount:.1f} {unit}"
    return f"{value} bytes"


def container_memory_limit() -> Optional[int]:
    for path in CGROUP_MEMORY_LIMITS:
        try:
            with open(path) as handle:
                raw = handle.read().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < 1 << 50:  # cgroup v1 says "no limit" with a huge number
            return int(raw)
    return None


@dataclass(frozen=True)
class BudgetSettings:
    disk: int
    memory: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "BudgetSettings":
        limit = container_memory_limit()
        memory_default = limit // 2 if limit else DEFAULT_MEMORY_BUDGET
        return cls(
            disk=names.disk_budget(env),
            memory=names._int(env, names.SANDBOX_MEMORY_BUDGET_BYTES, memory_default, 16 << 20, 1 << 44),
        )


def breach_message(kind: str, used: int, budget: int) -> str:
    if kind == "disk":
        return (f"workspace budget of {format_bytes(budget)} exceeded: the execution's files take {format_bytes(used)} "
                "(its workspace and its files in /tmp and /dev/shm); its commands were killed and its files kept. "
                "Remove files it does not need, or raise agentRunner.sandbox.diskBudget in config.yaml")
    return (f"memory budget of {format_bytes(budget)} exceeded: the execution's processes used {format_bytes(used)} "
            "together; its commands were killed. Use less memory at once, or raise agentRunner.sandbox.memoryBudget "
            "in config.yaml")


# -- measuring files -------------------------------------------------------------------------------


def _allocated(st: os.stat_result, seen: Set[Tuple[int, int]]) -> int:
    if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
        key = (st.st_dev, st.st_ino)
        if key in seen:
            return 0
        seen.add(key)
    return st.st_blocks * 512


def _open_dir(name: str, dir_fd: Optional[int], open_up: bool) -> Optional[int]:
    """A directory's fd, never through a symlink. With open_up (the walker runs as the files' owner), a
    directory its owner made unreadable or unsearchable to hide what it holds is opened up (u+rwx)."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except PermissionError:
        if not open_up:
            return None
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
                return None
            os.chmod(name, stat.S_IMODE(st.st_mode) | 0o700, dir_fd=dir_fd)
            fd = os.open(name, flags, dir_fd=dir_fd)
        except OSError:
            return None
    except OSError:
        return None
    if open_up:
        try:
            st = os.fstat(fd)
            if st.st_uid == os.geteuid() and st.st_mode & 0o500 != 0o500:
                os.fchmod(fd, stat.S_IMODE(st.st_mode) | 0o700)
        except OSError:
            pass
    return fd


def _list(fd: int, seen: Set[Tuple[int, int]]) -> Tuple[int, List[str]]:
    total = 0
    subdirs: List[str] = []
    try:
        with os.scandir(fd) as entries:
            for entry in entries:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                total += _allocated(st, seen)
                if stat.S_ISDIR(st.st_mode):
                    subdirs.append(entry.name)
    except OSError:
        pass
    return total, subdirs


def tree_usage(top: str, seen: Optional[Set[Tuple[int, int]]] = None, open_up: bool = False) -> int:
    """Bytes allocated to `top` and everything below it: st_blocks × 512, symlinks counted as themselves
    and never followed, a file with several hard links once (across calls sharing `seen`).

    Depth-first with one open fd per level (a directory of many subdirectories does not open them all)."""
    seen = set() if seen is None else seen
    try:
        st = os.lstat(top)
    except OSError:
        return 0
    total = _allocated(st, seen)
    if not stat.S_ISDIR(st.st_mode):
        return total
    fd = _open_dir(top, None, open_up)
    if fd is None:
        return total
    size, subdirs = _list(fd, seen)
    total += size
    stack = [(fd, iter(subdirs))]
    try:
        while stack:
            parent, pending = stack[-1]
            name = next(pending, None)
            if name is None:
                os.close(parent)
                stack.pop()
                continue
            child = _open_dir(name, parent, open_up)
            if child is None:
                continue
            size, subdirs = _list(child, seen)
            total += size
            stack.append((child, iter(subdirs)))
    finally:
        for parent, _ in stack:
            os.close(parent)
    return total


def scratch_usage(uid: int, scratch_dirs: Iterable[str], seen: Set[Tuple[int, int]], open_up: bool = False) -> int:
    """What `uid` holds at the top of the shared scratch directories, and below."""
    total = 0
    for scratch in scratch_dirs:
        try:
            entries = list(os.scandir(scratch))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid == uid:
                    total += tree_usage(entry.path, seen, open_up)
            except OSError:
                continue
    return total


def execution_usage(uid: int, directory: str, scratch_dirs: Iterable[str], open_up: bool = False) -> int:
    seen: Set[Tuple[int, int]] = set()
    return tree_usage(directory, seen, open_up) + scratch_usage(uid, scratch_dirs, seen, open_up)


def measure_as(uid: int, directory: str, scratch_dirs: Iterable[str]) -> Optional[int]:
    """In a child acting as the slot's uid on files (it can open up what that uid hid from the launcher);
    None if it failed. Only its effective ids change: its real and saved uid stay root, so the slot's own
    processes cannot signal it (a SIGSTOP would otherwise hold the launcher, which waits for the result)."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            if os.geteuid() != uid:  # (the tests' watcher measures its own files as itself)
                os.setgroups([])
                os.setegid(uid)
                os.seteuid(uid)
            os.write(write_end, str(execution_usage(uid, directory, scratch_dirs, open_up=True)).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    chunks = []
    try:
        while True:
            chunk = os.read(read_end, 64)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
    raw = b"".join(chunks)
    return int(raw) if os.waitstatus_to_exitcode(status) == 0 and raw.isdigit() else None


def filesystems_used(paths: Iterable[str]) -> int:
    """Bytes in use on the distinct file systems of `paths` (statvfs: no walk)."""
    total = 0
    seen: Set[int] = set()
    for path in paths:
        try:
            dev = os.stat(path).st_dev
            if dev in seen:
                continue
            seen.add(dev)
            vfs = os.statvfs(path)
        except OSError:
            continue
        total += (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize
    return total


# -- measuring memory ------------------------------------------------------------------------------


def processes_by_uid(uids: Set[int]) -> Dict[int, Tuple[int, int]]:
    """uid -> (process count, anonymous resident bytes) for the processes of `uids` (zombies hold none)."""
    found: Dict[int, Tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            uid = os.stat(f"/proc/{name}").st_uid
            if uid not in uids:
                continue
            with open(f"/proc/{name}/statm", "rb") as handle:
                fields = handle.read().split()
        except OSError:
            continue
        anonymous = max(0, int(fields[1]) - int(fields[2])) * PAGE if len(fields) > 2 else 0
        if fields and fields[0] == b"0":
            continue  # a zombie (no address space): not a process that can write or allocate
        count, resident = found.get(uid, (0, 0))
        found[uid] = (count + 1, resident + anonymous)
    return found


# -- the watcher -----------------------------------------------------------------------------------


@dataclass
class Watched:
    uid: int
    directory: str
    remaining: int  # disk budget left at the last exact measurement
    base_used: int  # the file systems' used bytes then (lowered when they shrink)
    running: int = 0  # commands of the slot not yet exited
    active: bool = True  # its processes may write or allocate: the tick looks at it


@dataclass(frozen=True)
class Breach:
    slot: int
    kind: str
    used: int
    budget: int

    def event(self) -> Dict[str, object]:
        return {"event": "budget", "slot": self.slot, "kind": self.kind, "used": self.used, "budget": self.budget}


class Watcher:
    """Which slots may have processes, and their budgets. Ticks only while there is one (no timer otherwise)."""

    def __init__(self, settings: BudgetSettings, workspace_root: str, scratch_dirs: Iterable[str]) -> None:
        self.settings = settings
        self.scratch_dirs = tuple(scratch_dirs)
        self.filesystems = (workspace_root, *self.scratch_dirs)
        self.slots: Dict[int, Watched] = {}
        self.next_tick = 0.0
        self.walks = 0

    def active(self) -> Dict[int, Watched]:
        return {slot: watched for slot, watched in self.slots.items() if watched.active}

    def timeout_ms(self) -> Optional[int]:
        """For poll(): None (no timer) when no slot is watched."""
        if not any(watched.active for watched in self.slots.values()):
            return None
        return max(0, int((self.next_tick - time.monotonic()) * 1000) + 1)

    def measure(self, slot: int, uid: int, directory: str) -> Optional[int]:
        """An exact measurement; keeps the slot's remaining budget. None if the measurement failed."""
        base = filesystems_used(self.filesystems)
        used = measure_as(uid, directory, self.scratch_dirs)
        self.walks += 1
        watched = self.slots.setdefault(slot, Watched(uid, directory, self.settings.disk, base, active=False))
        if used is not None:
            watched.remaining = self.settings.disk - used
            watched.base_used = base
        return used

    def before_command(self, slot: int, uid: int, directory: str) -> int:
        """The disk budget left before a command starts: measured again only if the file systems grew by more
        than a trifle since the last measurement (a walk of a large tree takes a while: 0.6 s for 30k files)."""
        watched = self.slots.get(slot)
        if watched is not None:
            used_now = filesystems_used(self.filesystems)
            growth = max(0, used_now - min(watched.base_used, used_now))
            if growth < MIN_WALK_GROWTH and watched.remaining - growth >= 0:
                return watched.remaining - growth
        used = self.measure(slot, uid, directory)
        return self.settings.disk - used if used is not None else self.slots[slot].remaining

    def command_started(self, slot: int) -> None:
        watched = self.slots[slot]
        if not any(w.active for w in self.slots.values()):
            self.next_tick = time.monotonic() + TICK_SECONDS
        watched.active = True
        watched.running += 1

    def command_exited(self, slot: int) -> None:
        watched = self.slots.get(slot)
        if watched is not None:
            watched.running = max(0, watched.running - 1)

    def forget(self, slot: int) -> None:
        """Its processes are gone (killed): the tick leaves it alone until its next command."""
        watched = self.slots.get(slot)
        if watched is not None:
            watched.active = False
            watched.running = 0

    def drop(self, slot: int) -> None:
        """The slot is released: what was measured belongs to the execution that had it."""
        self.slots.pop(slot, None)

    def tick(self, now_too: bool = False, exact: Optional[int] = None) -> List[Breach]:
        """Measures when due (callers call it whenever poll() returns), or at once with now_too (a command
        exited: what it wrote is judged before the service hears of its exit). Slot `exact` (the one whose
        command exited) is walked whatever the file systems say: their used space is the whole disk's, and
        another process freeing as much as the slot wrote between two ticks hides its growth (seen in CI,
        five test runs at once: a 64 MiB write passed a 64 MiB budget unmeasured)."""
        now = time.monotonic()
        active = self.active()
        if not active or (now < self.next_tick and not now_too):
            return []
        breaches: List[Breach] = []
        near = False
        by_uid = processes_by_uid({w.uid for w in active.values()})
        used_now = filesystems_used(self.filesystems)
        for slot, watched in active.items():
            count, resident = by_uid.get(watched.uid, (0, 0))
            if resident > self.settings.memory:
                breaches.append(Breach(slot, "memory", resident, self.settings.memory))
                self.forget(slot)
                continue
            watched.base_used = min(watched.base_used, used_now)
            growth = used_now - watched.base_used
            if slot == exact or growth >= max(watched.remaining - DISK_MARGIN, min(MIN_WALK_GROWTH, watched.remaining + 1)):
                used = self.measure(slot, watched.uid, watched.directory)
                if used is not None and used > self.settings.disk:
                    breaches.append(Breach(slot, "disk", used, self.settings.disk))
                    self.forget(slot)
                    continue
            if count == 0 and watched.running == 0:
                self.forget(slot)  # nothing left that could write or allocate (until its next command)
            elif watched.remaining - (used_now - watched.base_used) <= 2 * DISK_MARGIN:
                near = True
        self.next_tick = time.monotonic() + (NEAR_TICK_SECONDS if near else TICK_SECONDS)
        return breaches
