"""A command's stdout and stderr as the service reads them: pipes it creates (large, so that a flood wakes it
less), read without blocking the event loop, keeping a head and a tail of each (sandbox.py runs commands).
"""
from __future__ import annotations

import asyncio
import fcntl
import os

READ_SIZE = 256 * 1024
PIPE_SIZE = 1 << 20
F_SETPIPE_SZ = 1031


class OutputCap:
    """Keeps the first 2/3 and the last 1/3 of `limit` bytes of a stream and counts what falls between."""

    def __init__(self, limit: int) -> None:
        self.head_limit = limit * 2 // 3
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        self.tail += data
        excess = len(self.tail) - self.tail_limit
        if excess > 0:
            del self.tail[:excess]
            self.dropped += excess

    def text(self) -> str:
        head = self.head.decode("utf-8", errors="replace")
        tail = self.tail.decode("utf-8", errors="replace")
        if not self.dropped:
            return head + tail
        return f"{head}\n… [{self.dropped} bytes omitted] …\n{tail}"


class PipeReader:
    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int, cap: OutputCap) -> None:
        self.loop = loop
        self.fd = fd
        self.cap = cap
        self.eof = loop.create_future()
        os.set_blocking(fd, False)
        loop.add_reader(fd, self._read)

    def _read(self) -> None:
        for _ in range(16):  # bounded per wake-up, so a flood cannot starve the event loop
            try:
                data = os.read(self.fd, READ_SIZE)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.close()
                return
            self.cap.feed(data)

    def close(self) -> None:
        if self.fd >= 0:
            self.loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = -1
        if not self.eof.done():
            self.eof.set_result(None)


def pipe() -> "tuple[int, int]":
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    try:
        fcntl.fcntl(write_end, F_SETPIPE_SZ, PIPE_SIZE)  # fewer wake-ups under a flood
    except OSError:
        pass
    return read_end, write_end
