"""The supervisor of one command under policy `internet` or `allow` (the filter: netpolicy.py; rules: netrules.py;
the process that starts the command and runs this: netsupervised.py).

The supervisor runs as the slot's uid, non-dumpable (the command cannot ptrace it), and is the ancestor of
every process of the command: what it needs passes the checks of every
engine's default seccomp profile and of Yama's relational ptrace scope (measured on Docker 20.10 and 28.5,
Podman 4.3: pidfd_getfd and process_vm_readv are refused by Docker's profile, /proc/PID/mem and the
listener's ioctls, ADDFD included, are not).

For each notification, never letting the kernel go on with what the command's memory says:
- socket(AF_INET/AF_INET6/AF_UNIX): the supervisor creates the socket, installs it in the command
  (SECCOMP_IOCTL_NOTIF_ADDFD) and keeps a copy, found again by the socket's inode;
- connect(): reads the address from /proc/PID/mem (then checks the notification is still valid), judges
  it and connects its own copy with its own copy of the address; a stream socket's copy is dropped then
  (the command's close() must close the connection);
- sendto() with an address, sendmsg(), sendmmsg(): the same, sending its own copy of the data (at most
  64 KiB a call: a stream socket takes it as a short write). Ancillary data (fd passing) is refused.
A socket it has no copy of (a socketpair, an accepted or already connected socket) may still read,
write and send() (the filter passes sendto without an address), but not connect, nor sendmsg.

Refusals answer EACCES, and each destination is reported once: on the command's stderr and to the
launcher (an event of the execution).
"""
from __future__ import annotations

import ctypes
import errno
import os
import socket
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Optional, Set, Tuple

from . import netrules

# linux/seccomp.h
NOTIF_RECV, NOTIF_SEND, NOTIF_ID_VALID, NOTIF_ADDFD = 0xC0502100, 0xC0182101, 0x40082102, 0x40182103
ADDFD_FLAG_SEND = 2
NOTIF_SIZE = 80
MAX_SEND = 1 << 16
MAX_MMSG = 64
MAX_DATAGRAM_COPIES = 256
PR_SET_DUMPABLE = 4
SOCK_TYPE_MASK = 0xF

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
_libc.ioctl.restype = ctypes.c_int
for _name in ("connect",):
    getattr(_libc, _name).argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
_libc.sendto.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
_libc.sendto.restype = ctypes.c_ssize_t


class Gone(Exception):
    """The notification is no longer valid (the thread was interrupted or died)."""


def _errno_of(result: int) -> int:
    return ctypes.get_errno() if result < 0 else 0


def sockaddr_destination(raw: bytes) -> Optional[Tuple[int, str, int]]:
    """(family, address, port) of an AF_INET/AF_INET6 sockaddr, else None."""
    if len(raw) < 2:
        return None
    family = struct.unpack_from("=H", raw)[0]
    if family == socket.AF_INET and len(raw) >= 8:
        return family, socket.inet_ntop(socket.AF_INET, raw[4:8]), struct.unpack_from("!H", raw, 2)[0]
    if family == socket.AF_INET6 and len(raw) >= 24:
        return family, socket.inet_ntop(socket.AF_INET6, raw[8:24]), struct.unpack_from("!H", raw, 2)[0]
    return None


class Supervisor:
    def __init__(self, listener: int, rules: Callable[[], netrules.Rules], report: Callable[[str, str], None]) -> None:
        self.listener = listener
        self._rules_factory = rules
        self._rules: Optional[netrules.Rules] = None
        self.report = report  # (destination, reason), once per destination
        self.reported: Set[str] = set()
        self.copies: Dict[int, socket.socket] = {}  # inode -> the supervisor's copy
        self.datagrams: List[int] = []  # inodes of datagram copies, oldest first (bounded)
        self.connected: Set[int] = set()  # stream sockets whose copy was dropped after connect
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=16)

    # -- the kernel's side -----------------------------------------------------------------------

    def respond(self, ident: int, value: int, error: int) -> None:
        buffer = ctypes.create_string_buffer(struct.pack("=QqiI", ident, value, -error if error else 0, 0), 24)
        _libc.ioctl(self.listener, NOTIF_SEND, buffer)  # ENOENT: the thread went away meanwhile

    def valid(self, ident: int) -> None:
        value = ctypes.c_uint64(ident)
        if _libc.ioctl(self.listener, NOTIF_ID_VALID, ctypes.byref(value)) != 0:
            raise Gone()

    def read(self, ident: int, pid: int, address: int, size: int) -> bytes:
        if size <= 0:
            return b""
        try:
            fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
            try:
                data = os.pread(fd, size, address)
            finally:
                os.close(fd)
        except OSError as error:
            self.valid(ident)
            raise OSError(errno.EFAULT, f"cannot read the command's memory: {error.strerror}") from None
        self.valid(ident)  # the pid was still the notifying thread when its memory was read
        return data

    def write(self, pid: int, address: int, data: bytes) -> None:
        fd = os.open(f"/proc/{pid}/mem", os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.pwrite(fd, data, address)
        finally:
            os.close(fd)

    def copy_of(self, pid: int, fd: int) -> Tuple[Optional[socket.socket], int]:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            return None, -1
        if not link.startswith("socket:["):
            return None, -1
        inode = int(link[8:-1])
        with self.lock:
            return self.copies.get(inode), inode

    def keep(self, copy: socket.socket) -> None:
        inode = os.fstat(copy.fileno()).st_ino
        with self.lock:
            self.copies[inode] = copy
            if copy.type == socket.SOCK_DGRAM:
                self.datagrams.append(inode)
                if len(self.datagrams) > MAX_DATAGRAM_COPIES:
                    old = self.copies.pop(self.datagrams.pop(0), None)
                    if old is not None:
                        old.close()

    def drop(self, inode: int) -> None:
        with self.lock:
            copy = self.copies.pop(inode, None)
            self.connected.add(inode)
        if copy is not None:
            copy.close()

    # -- judging -------------------------------------------------------------------------------

    def refuse(self, destination: str, reason: str) -> int:
        if destination not in self.reported and len(self.reported) < 1000:
            self.reported.add(destination)
            self.report(destination, reason)
        return errno.EACCES

    def judge(self, copy: socket.socket, raw: bytes, pid: int) -> Tuple[bytes, int]:
        """The address to use (AF_UNIX paths made absolute) and 0, or an errno when refused."""
        if copy.family == socket.AF_UNIX:
            path = raw[2:].split(b"\x00", 1)[0] if raw[2:3] != b"\x00" else None
            if path is not None and not path.startswith(b"/"):
                full = b"/proc/%d/cwd/" % pid + path
                if len(full) >= 108:
                    return raw, errno.ENAMETOOLONG
                raw = raw[:2] + full + b"\x00"
            return raw, 0
        destination = sockaddr_destination(raw)
        if destination is None:
            if len(raw) >= 2 and struct.unpack_from("=H", raw)[0] == socket.AF_UNSPEC:
                return raw, 0  # dissolves a datagram socket's association
            return raw, errno.EAFNOSUPPORT
        family, host, port = destination
        if self._rules is None:  # built at the first destination: most commands open none
            self._rules = self._rules_factory()
        reason = self._rules.judge(host, port)
        if reason is None:
            return raw, 0
        shown = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
        return raw, self.refuse(shown, reason)

    # -- the calls -----------------------------------------------------------------------------

    def on_socket(self, ident: int, args: Tuple[int, ...]) -> None:
        family, kind, protocol = (ctypes.c_int(a & 0xFFFFFFFF).value for a in args[:3])
        if kind & SOCK_TYPE_MASK not in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):
            self.respond(ident, 0, errno.EACCES)  # raw sockets: the filter of `none` refuses them too
            return
        try:
            copy = socket.socket(family, kind, protocol)
        except OSError as error:
            self.respond(ident, 0, error.errno or errno.EACCES)
            return
        addfd = struct.pack("=QIIII", ident, ADDFD_FLAG_SEND, copy.fileno(), 0,
                            os.O_CLOEXEC if kind & socket.SOCK_CLOEXEC else 0)
        buffer = ctypes.create_string_buffer(addfd, len(addfd))
        if _libc.ioctl(self.listener, NOTIF_ADDFD, buffer) < 0:
            copy.close()  # the thread went away: no socket was made
            return
        self.keep(copy)

    def perform(self, ident: int, work: Callable[[], Tuple[int, int]]) -> None:
        """Runs a call that may block (a connect, a send) on a pool thread and answers with its result."""
        def job() -> None:
            try:
                value, error = work()
            except Gone:
                return
            except OSError as failure:
                value, error = 0, failure.errno or errno.EIO
            self.respond(ident, value, error)

        self.pool.submit(job)

    def on_connect(self, ident: int, pid: int, args: Tuple[int, ...]) -> None:
        copy, inode = self.copy_of(pid, args[0] & 0xFFFFFFFF)
        if copy is None:
            self.respond(ident, 0, errno.EISCONN if inode in self.connected else errno.EACCES)
            return
        raw = self.read(ident, pid, args[1], min(args[2] & 0xFFFFFFFF, 128))
        raw, refused = self.judge(copy, raw, pid)
        if refused:
            self.respond(ident, 0, refused)
            return

        def work() -> Tuple[int, int]:
            buffer = ctypes.create_string_buffer(raw, len(raw))
            result = _libc.connect(copy.fileno(), buffer, len(raw))
            error = _errno_of(result)
            if copy.type == socket.SOCK_STREAM and error not in (errno.EINTR, errno.EAGAIN):
                self.drop(inode)
            return 0, error

        self.perform(ident, work)

    def gather(self, ident: int, pid: int, msghdr: bytes) -> Tuple[bytes, bytes]:
        """(address, data) of a struct msghdr read from the command; refuses ancillary data."""
        name, name_length, iov, iov_count, control, control_length, _ = struct.unpack("=QI4xQQQQi4x", msghdr)
        if control_length:
            raise OSError(errno.EACCES, "ancillary data")
        address = self.read(ident, pid, name, min(name_length, 128)) if name and name_length else b""
        data = bytearray()
        vectors = self.read(ident, pid, iov, 16 * min(iov_count, 1024))
        for index in range(len(vectors) // 16):
            base, length = struct.unpack_from("=QQ", vectors, 16 * index)
            data += self.read(ident, pid, base, min(length, MAX_SEND + 1 - len(data)))
            if len(data) > MAX_SEND:
                break
        return address, bytes(data)

    def send(self, copy: socket.socket, pid: int, address: bytes, data: bytes, flags: int) -> Tuple[int, int]:
        if len(data) > MAX_SEND:
            if copy.type != socket.SOCK_STREAM:
                return 0, errno.EMSGSIZE
            data = data[:MAX_SEND]  # a short write, as a stream socket may do
        if address:
            address, refused = self.judge(copy, address, pid)
            if refused:
                return 0, refused
        buffer = ctypes.create_string_buffer(data, max(1, len(data)))
        name = ctypes.create_string_buffer(address, len(address)) if address else None
        sent = _libc.sendto(copy.fileno(), buffer, len(data), flags, name, len(address))
        return (sent, 0) if sent >= 0 else (0, ctypes.get_errno())

    def on_send(self, ident: int, pid: int, nr: int, args: Tuple[int, ...], calls: Tuple[int, ...]) -> None:
        _, sendto, sendmsg, _ = calls
        copy, _ = self.copy_of(pid, args[0] & 0xFFFFFFFF)
        if copy is None:
            self.respond(ident, 0, errno.EACCES)  # no copy to send on: the destination cannot be held
            return
        if nr == sendto:
            data = self.read(ident, pid, args[1], min(args[2], MAX_SEND + 1))
            address = self.read(ident, pid, args[4], min(args[5] & 0xFFFFFFFF, 128))
            flags = args[3] & 0xFFFFFFFF
            self.perform(ident, lambda: self.send(copy, pid, address, data, ctypes.c_int(flags).value))
            return
        if nr == sendmsg:
            address, data = self.gather(ident, pid, self.read(ident, pid, args[1], 56))
            flags = ctypes.c_int(args[2] & 0xFFFFFFFF).value
            self.perform(ident, lambda: self.send(copy, pid, address, data, flags))
            return
        # sendmmsg: each message in turn; its msg_len written back; the count sent, or the first error
        count = min(args[2] & 0xFFFFFFFF, MAX_MMSG)
        messages = [self.gather(ident, pid, self.read(ident, pid, args[1] + 64 * i, 56)) for i in range(count)]
        flags = ctypes.c_int(args[3] & 0xFFFFFFFF).value

        def work() -> Tuple[int, int]:
            done = 0
            for index, (address, data) in enumerate(messages):
                sent, error = self.send(copy, pid, address, data, flags)
                if error:
                    return (done, 0) if done else (0, error)
                self.valid(ident)
                self.write(pid, args[1] + 64 * index + 56, struct.pack("=I", sent))
                done += 1
            return done, 0

        self.perform(ident, work)

    def handle(self, notification: bytes, calls: Tuple[int, ...], nr_socket: int) -> None:
        ident, pid, _flags, nr, _arch, _ip = struct.unpack_from("=QIIiIQ", notification)
        args = struct.unpack_from("=6Q", notification, 32)
        try:
            if nr == nr_socket:
                self.on_socket(ident, args)
            elif nr == calls[0]:
                self.on_connect(ident, pid, args)
            elif nr in calls[1:]:
                self.on_send(ident, pid, nr, args, calls)
            else:
                self.respond(ident, 0, errno.EACCES)
        except Gone:
            pass
        except OSError as error:
            self.respond(ident, 0, error.errno or errno.EACCES)

    def receive(self) -> Optional[bytes]:
        buffer = ctypes.create_string_buffer(NOTIF_SIZE)
        if _libc.ioctl(self.listener, NOTIF_RECV, buffer) != 0:
            return None  # ENOENT: the thread went away before we read it; EINTR
        return buffer.raw


def become_supervisor(uid: int) -> None:
    """The slot's uid (to read its processes' memory), non-dumpable (so that they cannot ptrace this one)."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
