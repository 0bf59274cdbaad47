"""Policies internet and allow: the rules (netrules.py), and the supervisor (netsupervisor.py) on real commands."""
from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import threading

import pytest
from conftest import requires_sandbox

from stigmer_agent_runner import netrules
from stigmer_agent_runner.netrules import RuleError, Rules


def test_entries_are_read_and_each_bad_one_is_named_with_the_forms():
    kind, entries = netrules.parse("allow:pypi.org,203.0.113.7:443,10.0.0.0/8:5432,[2001:db8::1]:443,[fd00::/8]")
    assert kind == "allow"
    assert [(str(e.network) if e.network else e.name, e.port) for e in entries] == [
        ("pypi.org", None), ("203.0.113.7/32", 443), ("10.0.0.0/8", 5432), ("2001:db8::1/128", 443), ("fd00::/8", None)]
    for bad, message in (("allow:", "the list is empty"), ("allow:a b", "holds a space"), ("allow:h:0", "port '0'"),
                         ("allow:[::1", "IPv6 address with a port"), ("allow:10.0.0.0/33", "neither an address"),
                         ("allow:exa$mple.com", "not a host name"), ("open", "unknown network policy 'open'")):
        with pytest.raises(RuleError, match=message):
            netrules.parse(bad)


def test_internet_refuses_every_private_link_local_and_host_address():
    rules = Rules("internet", host_addresses=["198.51.100.20"])
    rules.dns = set()
    for refused in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "224.0.0.1",
                    "::1", "fe80::1", "fd00::1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "0.0.0.0",
                    "198.51.100.20", "192.0.2.1"):
        assert rules.judge(refused, 80) is not None, refused
    assert rules.judge("1.1.1.1", 443) is None
    assert rules.judge("2606:4700:4700::1111", 443) is None


def test_allow_holds_ports_and_a_name_never_opens_a_private_address():
    answers = {"mirror.example": ["151.101.0.223", "10.0.0.5"]}
    resolver = lambda name, *_: [(0, 0, 0, "", (a, 0)) for a in answers[name]]  # noqa: E731
    rules = Rules("allow:mirror.example:443,10.9.0.0/16:5432,169.254.169.254", resolver=resolver)
    rules.dns = set()
    assert rules.judge("151.101.0.223", 443) is None
    assert rules.judge("151.101.0.223", 80) is not None, "the port is held"
    assert rules.judge("10.0.0.5", 443) is not None, "a private address a name resolves to is not opened"
    assert rules.judge("10.9.3.4", 5432) is None and rules.judge("10.9.3.4", 22) is not None
    assert rules.judge("169.254.169.254", 80) is None, "listed by address: allowed"
    assert rules.judge("8.8.8.8", 443) is not None


def test_the_nameservers_are_reachable_on_port_53_only():
    rules = Rules("allow:203.0.113.7")
    rules.dns = {netrules.ipaddress.ip_address("10.0.0.2")}
    assert rules.judge("10.0.0.2", 53) is None
    assert rules.judge("10.0.0.2", 80) is not None


def run(policy: str, command: str) -> str:
    from stigmer_agent_runner.sandbox import Sandbox
    from stigmer_agent_runner.tools import Workspace

    top = tempfile.mkdtemp(dir=os.environ["STIGMER_WORKSPACE"])
    os.chmod(top, 0o711)
    sandbox = Sandbox.from_env(os.environ)
    previous, sandbox.network = sandbox.network, policy
    workspace = Workspace(os.path.join(top, "ws"), output_limit=8000, command_timeout=30, sandbox=sandbox)
    try:
        outcome = asyncio.run(workspace.run_command(command))
    finally:
        asyncio.run(workspace.close())
        sandbox.network = previous
    return outcome.output


PROBE = ("python3 -c 'import errno, socket, sys\nfor t in sys.argv[1:]:\n    h, p = t.rsplit(\":\", 1)\n"
         "    try:\n        socket.create_connection((h, int(p)), timeout=5).close(); r = \"open\"\n"
         "    except OSError as e:\n        r = errno.errorcode.get(e.errno, repr(e))\n    print(t, \"->\", r)'")


@requires_sandbox
def test_allow_reaches_a_listed_server_and_refuses_the_rest():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = []

    def serve() -> None:
        for _ in range(2):
            try:
                connection, _ = server.accept()
            except OSError:
                return
            accepted.append(connection.recv(100))
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        output = run(f"allow:127.0.0.1:{port}", f"{PROBE} 127.0.0.1:{port} 127.0.0.1:{port + 1} 10.0.0.1:{port}")
    finally:
        server.close()
    assert f"127.0.0.1:{port} -> open" in output, output
    assert f"127.0.0.1:{port + 1} -> EACCES" in output, output
    assert f"10.0.0.1:{port} -> EACCES" in output, output
    assert f"sandbox: the network policy refused 127.0.0.1:{port + 1}: not on the allow list" in output
    assert len(accepted) == 1


@requires_sandbox
def test_internet_refuses_loopback_and_a_connected_stream_closes_when_the_command_closes():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    output = run("internet", f"{PROBE} 127.0.0.1:{port} 169.254.169.254:80")
    assert f"127.0.0.1:{port} -> EACCES" in output and "169.254.169.254:80 -> EACCES" in output, output
    # the supervisor's copy of a stream socket is gone after its connect: the peer sees the command's close
    output = run(f"allow:127.0.0.1:{port}", "python3 -c 'import socket, time\n"
                 f"s = socket.create_connection((\"127.0.0.1\", {port})); s.sendall(b\"hi\"); s.close(); time.sleep(2)'")
    server.settimeout(10)
    connection, _ = server.accept()
    connection.settimeout(1.5)
    assert connection.recv(10) == b"hi" and connection.recv(10) == b"", "EOF before the command ended: " + output
    connection.close()
    server.close()


@requires_sandbox
def test_datagrams_with_an_address_are_judged_and_unix_sockets_still_work():
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    port = receiver.getsockname()[1]
    command = ("python3 -c 'import socket, os\n"
               "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
               f"print(\"to\", s.sendto(b\"ok\", (\"127.0.0.1\", {port})))\n"
               f"print(\"msg\", s.sendmsg([b\"o\", b\"k\"], [], 0, (\"127.0.0.1\", {port})))\n"
               "try:\n    s.sendto(b\"no\", (\"127.0.0.1\", 9))\nexcept OSError as e:\n    print(\"refused\", e.errno)\n"
               "u = socket.socket(socket.AF_UNIX); u.bind(\"u.sock\"); u.listen()\n"
               "c = socket.socket(socket.AF_UNIX); c.connect(\"u.sock\"); print(\"unix ok\")'")
    output = run(f"allow:127.0.0.1:{port}", command)
    receiver.settimeout(5)
    assert receiver.recv(10) == b"ok" and receiver.recv(10) == b"ok", output
    assert "to 2" in output and "msg 2" in output and "refused 13" in output and "unix ok" in output, output
    receiver.close()


def test_an_agent_may_narrow_the_runners_policy_but_never_widen_it():
    narrows = lambda agent, runner: netrules.narrowing_problem(agent, runner) is None  # noqa: E731
    assert narrows("none", "none") and narrows("none", "internet") and narrows("none", "allow:x.org")
    assert narrows("internet", "internet") and narrows("allow:pypi.org:443", "internet")
    assert narrows("allow:10.1.0.0/24:5432", "allow:10.0.0.0/8") and narrows("allow:x.org:443", "allow:x.org")
    assert not narrows("internet", "none") and not narrows("internet", "allow:x.org")
    assert not narrows("allow:10.0.0.1", "internet"), "a private address is not within internet"
    assert not narrows("allow:10.0.0.0/8", "allow:10.1.0.0/16") and not narrows("allow:x.org", "allow:x.org:443")
    assert "widen agentRunner.sandbox.network in config.yaml" in netrules.narrowing_problem("internet", "none")


def test_the_api_refuses_an_agent_that_widens_and_keeps_one_that_narrows():
    from stigmer_agent_runner.errors import RequestError
    from stigmer_agent_runner.validation import validate_execution

    agent = {"name": "a", "instructions": "x"}
    clean, _ = validate_execution({"agent": {**agent, "network": "allow: pypi.org:443"}, "input": "go"}, "internet")
    assert clean["network"] == "allow:pypi.org:443"
    with pytest.raises(RequestError, match="agent.network: internet is wider than the runner's policy \\(none\\)"):
        validate_execution({"agent": {**agent, "network": "internet"}, "input": "go"}, "none")
    with pytest.raises(RequestError, match="agent.network: unknown network policy 'open'"):
        validate_execution({"agent": {**agent, "network": "open"}, "input": "go"}, "internet")


@requires_sandbox
def test_no_command_can_hold_the_handover_fd_nor_go_on_without_its_supervisor():
    from stigmer_agent_runner.sandbox import Sandbox
    from stigmer_agent_runner.tools import Workspace

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    top = tempfile.mkdtemp(dir=os.environ["STIGMER_WORKSPACE"])
    os.chmod(top, 0o711)
    workspace = Workspace(os.path.join(top, "ws"), output_limit=8000, command_timeout=30, sandbox=Sandbox.from_env(os.environ))
    workspace.network = f"allow:127.0.0.1:{port}"
    # the fd number sendmsg() passes unjudged is past RLIMIT_NOFILE; the supervisor is sh's parent, same uid:
    # a process that outlives it probes the listed destination
    first = ("python3 -c 'import os, resource\n"
             "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
             "try:\n    os.dup2(1, hard)\n    print(\"held\", hard)\nexcept OSError as e:\n    print(\"dup2 refused\", e.errno)'\n"
             f"(while kill -0 $PPID 2>/dev/null; do sleep 0.05; done; {PROBE} 127.0.0.1:{port} > probe.txt) &\n"
             "kill -9 $PPID")
    second = "for i in $(seq 100); do [ -s probe.txt ] && break; sleep 0.1; done; cat probe.txt"

    async def both():
        try:
            return await workspace.run_command(first), await workspace.run_command(second)
        finally:
            await workspace.close()

    one, two = asyncio.run(both())
    server.close()
    assert "dup2 refused" in one.output and "held" not in one.output, one.output
    # without its supervisor the listed destination is not reached: the filter fails closed (ENOSYS)
    assert f"127.0.0.1:{port} -> ENOSYS" in two.output, one.output + two.output


SENDMMSG = r"""import ctypes, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", PORT)); r.settimeout(2)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(("127.0.0.1", PORT))
class iovec(ctypes.Structure): _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
class msghdr(ctypes.Structure): _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32), ("iov", ctypes.POINTER(iovec)), ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t), ("flags", ctypes.c_int)]
class mmsghdr(ctypes.Structure): _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint32)]
bufs = [ctypes.create_string_buffer(b"AAAA", 4), ctypes.create_string_buffer(b"BBBBBB", 6)]
iovs = [iovec(ctypes.cast(b, ctypes.c_void_p), len(b.raw)) for b in bufs]
msgs = (mmsghdr * 2)()
for i in range(2):
    msgs[i].hdr.iov = ctypes.pointer(iovs[i]); msgs[i].hdr.iovlen = 1
n = libc.sendmmsg(s.fileno(), msgs, 2, 0)
print("sendmmsg", n, ctypes.get_errno(), [msgs[i].len for i in range(2)], r.recv(10), r.recv(10))
# a message with a name to an unlisted port inside sendmmsg
addr = struct.pack("=H", socket.AF_INET) + struct.pack("!H", 9) + socket.inet_aton("127.0.0.1") + b"\0" * 8
ab = ctypes.create_string_buffer(addr, 16)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
m2 = (mmsghdr * 1)(); m2[0].hdr.name = ctypes.cast(ab, ctypes.c_void_p); m2[0].hdr.namelen = 16; m2[0].hdr.iov = ctypes.pointer(iovs[0]); m2[0].hdr.iovlen = 1
print("refused sendmmsg", libc.sendmmsg(u.fileno(), m2, 1, 0), ctypes.get_errno())
"""


@requires_sandbox
def test_sendmmsg_as_glibcs_resolver_uses_it_is_sent_and_its_lengths_written_back():
    # glibc sends a name's A and AAAA queries with one sendmmsg() on a connected UDP socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    output = run(f"allow:127.0.0.1:{port}", "python3 - <<'EOF'\n" + SENDMMSG.replace("PORT", str(port)) + "EOF")
    assert "sendmmsg 2 0 [4, 6] b'AAAA' b'BBBBBB'" in output, output
    assert "refused sendmmsg -1 13" in output, output


def test_agents_may_widen_only_when_the_config_says_so():
    from stigmer_agent_runner.config import load
    from stigmer_agent_runner.validation import validate_execution

    assert load({}, read_secrets=False).agents_may_widen is False
    assert load({"STIGMER_SANDBOX_AGENTS_MAY_WIDEN": "1"}, read_secrets=False).agents_may_widen is True
    clean, _ = validate_execution({"agent": {"name": "a", "instructions": "x", "network": "internet"}, "input": "go"}, "none", True)
    assert clean["network"] == "internet"
