"""The API bridge: one connection to the runner's API, carried over this process's stdin and stdout.

On a remote engine the API is not published at all. stigmer's supervisor listens on 127.0.0.1:<port> of
the user's machine and, for each connection it accepts, runs this file in the container through the
engine's exec (stdin and stdout attached, one hijacked connection), so the bytes travel over the engine
connection (ssh, TLS) that stigmer already has (docs/architecture.md, "Remote engines").

It connects to the runner on the container's loopback when the first bytes arrive (the supervisor keeps
one bridge started ahead, idle, so a new connection does not wait for an exec and for Python), then pipes
both ways until either side ends. When the runner does not accept the connection, the reason goes to
stderr with exit code 3: the supervisor answers the HTTP client 502 with it.

Run as `python3 -I -S api_bridge.py` (no site, no environment, standard library only): about 15 ms.
"""
import os
import select
import socket
import sys

CHUNK = 1 << 16


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main() -> int:
    port = int(os.environ.get("STIGMER_HTTP_PORT", "") or 7480)
    first = os.read(0, CHUNK)
    if not first:
        return 0  # a spare that was never used
    try:
        upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError as error:
        reason = error.strerror or str(error)
        write_all(2, f"cannot connect to the agent-runner at 127.0.0.1:{port} in its container: {reason}\n".encode())
        return 3
    upstream.settimeout(None)
    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    upstream.sendall(first)
    poller = select.poll()
    poller.register(0, select.POLLIN)
    poller.register(upstream, select.POLLIN)
    while True:
        for fd, _ in poller.poll():
            if fd == 0:
                data = os.read(0, CHUNK)
                if data:
                    upstream.sendall(data)
                else:  # the client closed its side: so does the bridge, and waits for the rest of the answer
                    poller.unregister(0)
                    upstream.shutdown(socket.SHUT_WR)
            else:
                data = upstream.recv(CHUNK)
                if not data:
                    return 0
                write_all(1, data)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BrokenPipeError, ConnectionError):
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
