"""The API bridge (api_bridge.py), run as stigmer's supervisor runs it through the engine's exec: bytes on
stdin reach the runner's port on the loopback, its answer comes back on stdout; a runner that does not
accept is reported on stderr with exit code 3; a spare that is never used ends quietly."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from typing import Iterator, Tuple

import pytest

import stigmer_agent_runner.api_bridge as api_bridge

BRIDGE = [sys.executable, "-I", "-S", api_bridge.__file__]


@pytest.fixture
def echo_server() -> Iterator[Tuple[int, list]]:
    """A loopback server that answers each chunk with `echo:` + the chunk, and records its connections."""
    server = socket.create_server(("127.0.0.1", 0))
    seen: list = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            seen.append(conn)
            with conn:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    conn.sendall(b"echo:" + data)

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], seen
    server.close()


def bridge(port: int) -> subprocess.Popen:
    env = {"STIGMER_HTTP_PORT": str(port), "PATH": os.environ.get("PATH", "")}
    return subprocess.Popen(BRIDGE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def test_bytes_both_ways_until_the_client_closes(echo_server: Tuple[int, list]) -> None:
    port, _ = echo_server
    process = bridge(port)
    out, err = process.communicate(b"GET /healthz HTTP/1.1\r\n\r\n", timeout=20)
    assert process.returncode == 0, err
    assert out == b"echo:GET /healthz HTTP/1.1\r\n\r\n"


def test_a_runner_that_does_not_accept_is_reported_with_exit_3() -> None:
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nothing listens there now
    process = bridge(port)
    out, err = process.communicate(b"GET / HTTP/1.1\r\n\r\n", timeout=20)
    assert process.returncode == 3
    assert out == b""
    assert f"cannot connect to the agent-runner at 127.0.0.1:{port} in its container".encode() in err


def test_a_spare_never_used_ends_quietly_without_connecting(echo_server: Tuple[int, list]) -> None:
    port, seen = echo_server
    process = bridge(port)
    out, err = process.communicate(b"", timeout=20)
    assert (process.returncode, out, err) == (0, b"", b"")
    assert seen == [], "the runner saw no connection"
