"""What the sandbox launcher does to a slot's processes and files (sandbox_launcher.py decides when):
end every process of the slot's uid, open its files to the service and hand them back, clean what it left
in the shared scratch directories. Each runs in a forked helper that becomes the slot's uid where it can
(so that no privilege is used for what the uid itself may do).
"""
from __future__ import annotations

import os
import shutil
import signal
import stat
import time
from typing import TYPE_CHECKING, List, Optional

from . import budgets

if TYPE_CHECKING:
    from .sandbox_launcher import Settings

SCRATCH_DIRS = budgets.SCRATCH_DIRS


def live_processes(uid: int) -> List[int]:
    """Pids of the processes (zombies excluded) whose real uid is `uid`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as handle:
                text = handle.read()
        except OSError:
            continue
        fields = dict(line.split(b":", 1) for line in text.splitlines() if b":" in line)
        if fields.get(b"State", b"").strip().startswith(b"Z"):
            continue
        if int(fields.get(b"Uid", b"-1").split()[0]) == uid:
            found.append(int(name))
    return found


def become(uid: int, gid: int, groups: List[int]) -> None:
    os.setgroups(groups)
    os.setgid(gid)
    os.setuid(uid)  # from root to a non-zero uid: the kernel clears every capability


def become_signaller(uid: int) -> None:
    """Effective uid `uid`, real and saved uid root: it may signal `uid`'s processes, which may not signal it
    back (a command's `kill -STOP -1` loop would otherwise stop the helper that is ending it)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(0, uid, 0)


def kill_all_as(uid: int) -> bool:
    """In a child that became_signaller(uid): SIGKILL every process of that uid until none is left.

    One by one through a pidfd (kill(-1) would reach root's processes too, since this real uid is root), the
    uid checked after the pidfd pins the process, so that a reused pid is never signalled; a process forked
    meanwhile is found by the next round (RLIMIT_NPROC bounds them)."""
    for _ in range(400):  # bounded: at most ~2 s
        pids = live_processes(uid)
        if not pids:
            return True
        for pid in pids:
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:
                continue
            try:
                if real_uid(pid) == uid:
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            except OSError:
                pass
            finally:
                os.close(pidfd)
        time.sleep(0.002)
    return False


def real_uid(pid: int) -> int:
    with open(f"/proc/{pid}/status", "rb") as handle:
        for line in handle:
            if line.startswith(b"Uid:"):
                return int(line.split()[1])
    return -1


def open_up_as_owner(top: str, uid: int) -> None:
    """As the slot's uid: u+rwX,g+rwX on every entry it owns (so root can walk and chown them by group)."""
    def fix(name: str, dir_fd: Optional[int]) -> None:
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if st.st_uid == uid and not stat.S_ISLNK(st.st_mode):
                extra = 0o770 if stat.S_ISDIR(st.st_mode) else 0o660 | (0o110 if st.st_mode & 0o100 else 0)
                os.chmod(name, stat.S_IMODE(st.st_mode) | extra, dir_fd=dir_fd)
        except OSError:
            pass

    fix(top, None)
    for _, dirs, files, dir_fd in os.fwalk(top, topdown=True, follow_symlinks=False, onerror=lambda e: None):
        for name in dirs + files:
            fix(name, dir_fd)


def clean_scratch_as(uid: int) -> None:
    """As the slot's uid: removes what it left in the shared /tmp and /dev/shm."""
    for scratch in SCRATCH_DIRS:
        try:
            entries = os.listdir(scratch)
        except OSError:
            continue
        for name in entries:
            path = os.path.join(scratch, name)
            try:
                st = os.lstat(path)
                if st.st_uid != uid:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    open_up_as_owner(path, uid)
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
            except OSError:
                pass


def chown_tree(top: str, to_uid: int, to_gid: int) -> None:
    """As root with CAP_CHOWN (and the slot's group): hands the slot's entries back, deepest first."""
    for _, dirs, files, dir_fd in os.fwalk(top, topdown=False, follow_symlinks=False, onerror=lambda e: None):
        for name in dirs + files:
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                if (st.st_uid, st.st_gid) != (to_uid, to_gid):
                    os.chown(name, to_uid, to_gid, dir_fd=dir_fd, follow_symlinks=False)
            except OSError:
                pass
    os.chown(top, to_uid, to_gid, follow_symlinks=False)


def kill_as(ident: int) -> bool:
    become_signaller(ident)
    return kill_all_as(ident)


def release(settings: "Settings", ident: int, directory: str) -> bool:
    """In a root helper: the slot's processes die and it opens its files (as the slot), then chown back."""
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            become_signaller(ident)
            ok = kill_all_as(ident)
            os.setresuid(ident, ident, ident)  # nothing of the slot is left to signal it: now the slot itself
            open_up_as_owner(directory, ident)
            clean_scratch_as(ident)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    chown_tree(directory, settings.service_uid, settings.service_gid)
    return os.waitstatus_to_exitcode(status) == 0


def release_now(settings: "Settings", ident: int, directory: str) -> None:
    pid = os.fork()
    if pid == 0:
        try:
            release(settings, ident, directory)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
