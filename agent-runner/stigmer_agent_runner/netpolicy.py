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

Standard library only (ctypes for prctl): this is code to audit, like the launcher.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import socket
import struct
from typing import Dict, List, Optional, Tuple

NONE = "none"
POLICIES = (NONE,)
# The settings a later version may add (README, "Security"); named here so the refusal can say so.
PLANNED = ("internet", "allow")

# The syscall numbers by machine: (AUDIT_ARCH_*, socket, socketpair, (io_uring_setup, _enter, _register),
# the first number of an ABI multiplexed onto the native arch (x32 on x86_64), or None).
# x86_64: arch/x86/entry/syscalls/syscall_64.tbl; aarch64: include/uapi/asm-generic/unistd.h. Neither has
# socketcall (that is i386's and s390's multiplexer), and a foreign arch is refused before any number is read.
ARCHES: Dict[str, Tuple[int, int, int, Tuple[int, int, int], Optional[int]]] = {
    "x86_64": (0xC000003E, 41, 53, (425, 426, 427), 0x40000000),
    "aarch64": (0xC00000B7, 198, 199, (425, 426, 427), None),
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
DENIED_ERRNO = errno.EACCES
# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6] (little endian here)
OFFSET_NR, OFFSET_ARCH, OFFSET_ARG0_LOW = 0, 4, 16

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

FIX = ("run the agent-runner container with the engine's default seccomp profile or one that allows prctl "
       "and seccomp (`stigmer server start` does; do not pass --security-opt seccomp=... that forbids them)")


class PolicyError(Exception):
    """A policy that is unknown, not available in this version, or cannot be enforced here."""


def check(policy: str) -> str:
    """The policy, or PolicyError naming what is available."""
    if policy in POLICIES:
        return policy
    if policy in PLANNED or policy.startswith("allow"):
        raise PolicyError(f"network policy {policy!r} is not available in this version: only 'none' is, and "
                          "commands have no network")
    raise PolicyError(f"unknown network policy {policy!r} (this version knows only 'none')")


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


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class Filter:
    """Policy `none`, prepared in the launcher (ctypes and the program built once) and installed in a child."""

    def __init__(self, arch: Optional[str] = None) -> None:
        self.arch = arch or machine()
        code = b"".join(program(self.arch))
        self._buffer = ctypes.create_string_buffer(code, len(code))
        self._prog = _SockFprog(len(code) // 8, ctypes.cast(self._buffer, ctypes.c_void_p))
        libc = ctypes.CDLL(None, use_errno=True)
        self._prctl = libc.prctl
        self._prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        self._prctl.restype = ctypes.c_int

    def install(self) -> None:
        """In the child, before exec: from here on this process and its descendants have no network."""
        if self._prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise PolicyError(f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}; {FIX}")
        if self._prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(self._prog), 0, 0) != 0:
            raise PolicyError(f"the network filter could not be installed (prctl(PR_SET_SECCOMP): "
                              f"{os.strerror(ctypes.get_errno())}); {FIX}")


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
