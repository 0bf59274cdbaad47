"""The network policy of sandboxed commands: a seccomp filter the launcher installs in each command's child.

Commands share the container's network namespace with the service (which must keep reaching the LLM), so
no rule of that namespace can tell them apart, and a namespace of their own needs CAP_SYS_ADMIN, which no
engine grants. A seccomp filter needs no privilege once no_new_privs is set (the container sets it), holds
on every engine, is inherited by every descendant and cannot be removed. Policy `none`:

- `socket()` and `socketpair()` create AF_UNIX sockets only; any other family (AF_INET, AF_INET6,
  AF_NETLINK, AF_PACKET, AF_VSOCK, ...) fails with EACCES ("Permission denied"), so a tool reports at once
  instead of hanging on a timeout;
- io_uring_setup/enter/register fail with EACCES (IORING_OP_SOCKET would create a socket past the check);
- a syscall of another ABI (i386's int 0x80, x32) kills the process: the filter reads the native numbers.

Policies `internet` and `allow` (the rules: netrules.py) use the same filter with one change: AF_INET,
AF_INET6 and AF_UNIX sockets, connect(), sendmsg(), sendmmsg() and sendto() with an address are not
decided by the filter but handed to a supervisor (seccomp user notification, netsupervisor.py) that
creates each socket itself, keeps a copy, and performs each judged connect or send on its copy with its
own copy of the address: what the command's memory says after the decision changes nothing.

Standard library only (ctypes for prctl and seccomp): this is code to audit, like the launcher.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import socket
import struct
from typing import Any, Dict, List, Optional, Tuple

from . import netrules

NONE = netrules.NONE

# The syscall numbers by machine: (AUDIT_ARCH_*, socket, socketpair, (io_uring_setup, _enter, _register),
# the first number of an ABI multiplexed onto the native arch (x32 on x86_64), or None).
# x86_64: arch/x86/entry/syscalls/syscall_64.tbl; aarch64: include/uapi/asm-generic/unistd.h. Neither has
# socketcall (that is i386's and s390's multiplexer), and a foreign arch is refused before any number is read.
ARCHES: Dict[str, Tuple[int, int, int, Tuple[int, int, int], Optional[int]]] = {
    "x86_64": (0xC000003E, 41, 53, (425, 426, 427), 0x40000000),
    "aarch64": (0xC00000B7, 198, 199, (425, 426, 427), None),
}
# (connect, sendto, sendmsg, sendmmsg, seccomp) by machine, for the notifying filter
SEND_CALLS: Dict[str, Tuple[int, int, int, int, int]] = {
    "x86_64": (42, 44, 46, 307, 317),
    "aarch64": (203, 206, 211, 269, 277),
}
ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}

# linux/filter.h, linux/seccomp.h
BPF_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
BPF_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
BPF_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
BPF_RET_K = 0x06  # BPF_RET | BPF_K
RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000  # a kernel older than 4.14 reads it as KILL (the thread)
RET_ERRNO = 0x00050000
RET_USER_NOTIF = 0x7FC00000
DENIED_ERRNO = errno.EACCES
# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6] (little endian here)
OFFSET_NR, OFFSET_ARCH, OFFSET_ARG0_LOW = 0, 4, 16
OFFSET_ARG4_LOW, OFFSET_ARG4_HIGH = 48, 52
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_NEW_LISTENER = 8

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

FIX = ("run the agent-runner container with the engine's default seccomp profile or one that allows prctl "
       "and seccomp (`stigmer server start` does; do not pass --security-opt seccomp=... that forbids them)")


class PolicyError(Exception):
    """A policy that is unknown, not available in this version, or cannot be enforced here."""


def check(policy: str) -> str:
    """The policy in its canonical spelling, or PolicyError naming what is wrong and the forms it takes."""
    try:
        return netrules.canonical(policy)
    except netrules.RuleError as error:
        raise PolicyError(str(error)) from None


def machine() -> str:
    name = platform.machine().lower()
    return ARCH_ALIASES.get(name, name)


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program(arch: str) -> List[bytes]:
    """The BPF instructions of policy `none` for `arch` (a key of ARCHES)."""
    if arch not in ARCHES:
        raise PolicyError(f"the network filter knows no syscall numbers for {arch!r} (only {', '.join(ARCHES)})")
    audit_arch, nr_socket, nr_socketpair, io_uring, foreign_base = ARCHES[arch]
    ret = lambda value: _insn(BPF_RET_K, 0, 0, value)  # noqa: E731
    kill, allow, deny = ret(RET_KILL_PROCESS), ret(RET_ALLOW), ret(RET_ERRNO | DENIED_ERRNO)
    head = [_insn(BPF_LD_W_ABS, 0, 0, OFFSET_ARCH), _insn(BPF_JEQ_K, 1, 0, audit_arch), kill,
            _insn(BPF_LD_W_ABS, 0, 0, OFFSET_NR)]
    if foreign_base is not None:
        head += [_insn(BPF_JGE_K, 0, 1, foreign_base), kill]
    # After the syscall checks: [0 allow, 1 deny, 2 load the family, 3 AF_UNIX? allow : deny].
    # A jump's offset counts from the instruction after it.
    checks = [(nr_socket, 2), (nr_socketpair, 2)] + [(nr, 1) for nr in io_uring]
    body = [_insn(BPF_JEQ_K, len(checks) - i - 1 + target, 0, nr) for i, (nr, target) in enumerate(checks)]
    tail = [allow, deny, _insn(BPF_LD_W_ABS, 0, 0, OFFSET_ARG0_LOW), _insn(BPF_JEQ_K, 0, 1, socket.AF_UNIX),
            allow, deny]
    # no check matched: falls through to tail[0], allow
    return head + body + tail


def notify_program(arch: str, magic_fd: int) -> List[bytes]:
    """Policies internet and allow: the checks of `none`, but sockets, connect and sends go to the supervisor.

    sendmsg() on `magic_fd` passes (the command's child hands the supervisor its listener that way; no process
    of the command can hold that fd number afterwards: its RLIMIT_NOFILE stays below it); sendto() without an
    address passes (a connected socket's destination was judged at connect)."""
    if arch not in ARCHES or arch not in SEND_CALLS:
        raise PolicyError(f"the network filter knows no syscall numbers for {arch!r} (only {', '.join(ARCHES)})")
    audit_arch, nr_socket, nr_socketpair, io_uring, foreign_base = ARCHES[arch]
    nr_connect, nr_sendto, nr_sendmsg, nr_sendmmsg, _ = SEND_CALLS[arch]
    code: List[Tuple[str, Any]] = []  # (op, args) with jump targets as labels, resolved below
    labels: Dict[str, int] = {}

    def label(name: str) -> None:
        labels[name] = len(code)

    def load(offset: int) -> None:
        code.append(("ld", offset))

    def jeq(value: int, yes: str, no: Optional[str] = None) -> None:
        code.append(("jeq", (value, yes, no)))

    load(OFFSET_ARCH)
    jeq(audit_arch, "nr", "kill")
    label("nr")
    load(OFFSET_NR)
    if foreign_base is not None:
        code.append(("jge", (foreign_base, "kill", None)))
    for nr in io_uring:
        jeq(nr, "deny")
    for nr, target in ((nr_socket, "socket"), (nr_socketpair, "pair"), (nr_connect, "notify"),
                       (nr_sendmmsg, "notify"), (nr_sendto, "sendto"), (nr_sendmsg, "sendmsg")):
        jeq(nr, target)
    code.append(("jeq", (nr_sendmsg, "allow", "allow")))  # no check matched
    label("socket"), load(OFFSET_ARG0_LOW)
    for family in (socket.AF_UNIX, socket.AF_INET):
        jeq(family, "notify")
    jeq(socket.AF_INET6, "notify", "deny")
    label("pair"), load(OFFSET_ARG0_LOW), jeq(socket.AF_UNIX, "allow", "deny")
    label("sendto"), load(OFFSET_ARG4_LOW), jeq(0, "sendto_high", "notify")
    label("sendto_high"), load(OFFSET_ARG4_HIGH), jeq(0, "allow", "notify")
    label("sendmsg"), load(OFFSET_ARG0_LOW), jeq(magic_fd, "allow", "notify")
    # the answers last: every jump goes forward
    label("allow"), code.append(("ret", RET_ALLOW))
    label("kill"), code.append(("ret", RET_KILL_PROCESS))
    label("deny"), code.append(("ret", RET_ERRNO | DENIED_ERRNO))
    label("notify"), code.append(("ret", RET_USER_NOTIF))
    out = []
    for index, (op, arg) in enumerate(code):
        if op == "ld":
            out.append(_insn(BPF_LD_W_ABS, 0, 0, arg))
        elif op == "ret":
            out.append(_insn(BPF_RET_K, 0, 0, arg))
        else:
            value, yes, no = arg
            jt = labels[yes] - index - 1
            jf = 0 if no is None else labels[no] - index - 1
            assert 0 <= jt < 256 and 0 <= jf < 256, "a jump of the filter is out of range"
            out.append(_insn(BPF_JEQ_K if op == "jeq" else BPF_JGE_K, jt, jf, value))
    return out


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class Filter:
    """A policy's filter, prepared in the launcher (ctypes and the program built once) and installed in a child.

    `none`: installed with prctl, nothing to supervise. `internet`/`allow` (notify=True): installed with
    seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER); install() returns the listener for the supervisor."""

    def __init__(self, arch: Optional[str] = None, notify: bool = False, magic_fd: int = 0) -> None:
        self.arch = arch or machine()
        self.notify = notify
        self.magic_fd = magic_fd
        code = b"".join(notify_program(self.arch, magic_fd) if notify else program(self.arch))
        self._buffer = ctypes.create_string_buffer(code, len(code))
        self._prog = _SockFprog(len(code) // 8, ctypes.cast(self._buffer, ctypes.c_void_p))
        libc = ctypes.CDLL(None, use_errno=True)
        self._prctl = libc.prctl
        self._prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        self._prctl.restype = ctypes.c_int
        self._syscall = libc.syscall
        self._syscall.restype = ctypes.c_long
        self._nr_seccomp = SEND_CALLS.get(self.arch, (0, 0, 0, 0, 0))[4]

    def install(self) -> Optional[int]:
        """In the child, before exec: from here on this process and its descendants are under the policy."""
        if self._prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise PolicyError(f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}; {FIX}")
        if not self.notify:
            if self._prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(self._prog), 0, 0) != 0:
                raise PolicyError(f"the network filter could not be installed (prctl(PR_SET_SECCOMP): "
                                  f"{os.strerror(ctypes.get_errno())}); {FIX}")
            return None
        listener = self._syscall(self._nr_seccomp, ctypes.c_ulong(SECCOMP_SET_MODE_FILTER),
                                 ctypes.c_ulong(SECCOMP_FILTER_FLAG_NEW_LISTENER), ctypes.c_void_p(ctypes.addressof(self._prog)))
        if listener < 0:
            raise PolicyError(f"the supervised network filter could not be installed (seccomp with a listener: "
                              f"{os.strerror(ctypes.get_errno())}); {FIX}")
        return int(listener)


def probe(installer: Filter) -> Optional[str]:
    """In a forked child: install the filter and check it holds. None when it does, else why not."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        message = b""
        try:
            installer.install()
            for end in socket.socketpair(socket.AF_UNIX):
                end.close()
            try:
                socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
                message = b"an AF_INET socket was created under the filter"
            except PermissionError:
                pass
        except BaseException as error:  # noqa: B902 - whatever it is, it is the answer
            message = str(error).encode() or repr(error).encode()
        finally:
            os.write(write_end, message[:4000])
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as handle:
        answer = handle.read()
    os.waitpid(pid, 0)
    return answer.decode(errors="replace") or None


def prepare(policy: str) -> Tuple[Optional[Filter], Optional[str]]:
    """At the launcher's start: the filter of `policy` and None, or None and why commands cannot run."""
    check(policy)
    try:
        installer = Filter()
    except (PolicyError, OSError, AttributeError) as error:
        return None, f"network policy {policy!r} cannot be enforced: {error}"
    problem = probe(installer)
    if problem:
        return None, f"network policy {policy!r} cannot be enforced: {problem}"
    return installer, None
