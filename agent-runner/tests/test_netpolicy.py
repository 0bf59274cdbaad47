"""The network policy's seccomp filter (netpolicy.py), installed in forked children of the test process,
and the policy as the launcher enforces it on a real command."""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import signal
import socket
import subprocess
import sys

import pytest
from conftest import requires_sandbox

from stigmer_agent_runner import netpolicy
from stigmer_agent_runner.config import ConfigError, load, sandbox_network

NR_IO_URING_SETUP = 425
# the children only install the filter and try one call: the threads pytest left behind do not matter
pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")


def in_child(attempt, with_filter: bool = True) -> "tuple[str, int]":
    """Runs `attempt()` (returns a line) in a forked child, with the filter or without; (its line, its status)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            if with_filter:
                netpolicy.Filter().install()
            os.write(write_end, attempt().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as handle:
        line = handle.read().decode()
    _, status = os.waitpid(pid, 0)
    return line, status


def create(family: int, kind: int = socket.SOCK_STREAM) -> str:
    try:
        socket.socket(family, kind).close()
        return "created"
    except OSError as error:
        return errno.errorcode.get(error.errno or 0, str(error.errno))


def io_uring_setup() -> str:
    params = ctypes.create_string_buffer(120)
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(NR_IO_URING_SETUP, 4, params)
    if fd >= 0:
        os.close(fd)
        return "created"
    return errno.errorcode.get(ctypes.get_errno(), "?")


FAMILIES = {"AF_INET": (socket.AF_INET, socket.SOCK_STREAM), "AF_INET6": (socket.AF_INET6, socket.SOCK_DGRAM),
            "AF_NETLINK": (socket.AF_NETLINK, socket.SOCK_RAW), "AF_INET udp": (socket.AF_INET, socket.SOCK_DGRAM)}


@pytest.mark.parametrize("name", FAMILIES)
def test_no_socket_but_unix_under_the_filter(name):
    family, kind = FAMILIES[name]
    assert in_child(lambda: create(family, kind), with_filter=False)[0] == "created", "the control: allowed without it"
    assert in_child(lambda: create(family, kind))[0] == "EACCES"


def test_unix_sockets_and_socketpairs_stay_usable():
    def unix() -> str:
        a, b = socket.socketpair()
        a.sendall(b"ping")
        got = b.recv(4)
        c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for s in (a, b, c):
            s.close()
        return got.decode()

    assert in_child(unix) == ("ping", 0)


def test_io_uring_is_refused():
    without, _ = in_child(io_uring_setup, with_filter=False)
    if without not in ("created",):
        pytest.skip(f"io_uring is unavailable here even without the filter ({without})")
    assert in_child(io_uring_setup)[0] == "EACCES"


def test_every_descendant_inherits_it_across_exec():
    probe = ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9), timeout=2)\n"
             "except OSError as e:\n    print(type(e).__name__, e.errno)\n")

    def child() -> str:
        return subprocess.run(["sh", "-c", f"{sys.executable} -c \"$0\"", probe], capture_output=True, text=True).stdout

    assert in_child(child)[0].strip() == f"PermissionError {errno.EACCES}"
    assert in_child(child, with_filter=False)[0].strip() == f"ConnectionRefusedError {errno.ECONNREFUSED}"


@pytest.mark.skipif(netpolicy.machine() != "x86_64", reason="x32 exists on x86_64 only")
def test_a_syscall_of_the_x32_abi_kills_the_process():
    libc = ctypes.CDLL(None, use_errno=True)
    line, status = in_child(lambda: str(libc.syscall(0x40000000 | 39)))  # x32 getpid
    assert line == "" and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS


def test_both_arches_have_a_program_and_others_are_refused():
    for arch in netpolicy.ARCHES:
        assert len(b"".join(netpolicy.program(arch))) % 8 == 0
    with pytest.raises(netpolicy.PolicyError, match="no syscall numbers for 'riscv64'"):
        netpolicy.program("riscv64")
    assert netpolicy.machine() in netpolicy.ARCHES, f"this machine ({platform.machine()}) has no table entry"


def test_the_three_policies_are_read_and_a_bad_one_is_named():
    assert sandbox_network({}) == "none" and load({}, read_secrets=False).sandbox_network == "none"
    assert sandbox_network({"STIGMER_SANDBOX_NETWORK": "internet"}) == "internet"
    assert sandbox_network({"STIGMER_SANDBOX_NETWORK": "allow: 10.0.0.0/8:5432, pypi.org"}) == "allow:10.0.0.0/8:5432,pypi.org"
    with pytest.raises(ConfigError, match="unknown network policy 'open'"):
        load({"STIGMER_SANDBOX_NETWORK": "open"}, read_secrets=False)
    with pytest.raises(ConfigError, match="allow entry 'x:99999': the port '99999' is not a number from 1 to 65535"):
        sandbox_network({"STIGMER_SANDBOX_NETWORK": "allow:x:99999"})


@requires_sandbox
def test_a_sandboxed_command_has_no_network_but_unix_sockets():
    import asyncio

    from stigmer_agent_runner.sandbox import Sandbox
    from stigmer_agent_runner.tools import Workspace

    root = os.environ["STIGMER_WORKSPACE"]
    import tempfile

    top = tempfile.mkdtemp(dir=root)
    os.chmod(top, 0o711)
    workspace = Workspace(os.path.join(top, "ws"), output_limit=4000, command_timeout=10, sandbox=Sandbox.from_env(os.environ))
    command = ("python3 -c 'import socket\nfor f in (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX):\n"
               "    try:\n        socket.socket(f, socket.SOCK_DGRAM).close(); print(f.name, \"OK\")\n"
               "    except OSError as e:\n        print(f.name, \"REFUSED\", e.strerror)'")
    try:
        outcome = asyncio.run(workspace.run_command(command))
    finally:
        asyncio.run(workspace.close())
    assert outcome.ok, outcome.output
    assert "AF_INET REFUSED Permission denied" in outcome.output
    assert "AF_INET6 REFUSED Permission denied" in outcome.output
    assert "AF_UNIX OK" in outcome.output
