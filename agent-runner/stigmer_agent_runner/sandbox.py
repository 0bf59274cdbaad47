"""The service's side of the command sandbox (the launcher is sandbox_launcher.py).

The service never runs a command itself: it asks the launcher, over the socket it inherited, to run it
under the execution's own uid, and reads the command's stdout/stderr from pipes it created, keeping at
most a head and a tail of each while they stream. Without the launcher there is no run_command at all
(`Sandbox.unavailable` says why): commands never run as the service.
"""
from __future__ import annotations

import array
import asyncio
import itertools
import json
import os
import socket
import stat
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Sequence

from . import config as names
from . import log
from .budgets import breach_message
from .command_output import OutputCap, PipeReader, pipe

# After `sh` exits, how long its output may still arrive; background processes that keep the pipes
# open are not waited for (they run on until the execution ends).
DRAIN_SECONDS = 0.25
KILL_WAIT_SECONDS = 5.0
FIX = (
    "run the container as root with every capability dropped but CHOWN, SETUID and SETGID "
    "(`stigmer server start` does; docker run: --user 0:0 --cap-drop ALL --cap-add CHOWN --cap-add SETUID "
    "--cap-add SETGID); see README, \"Security\""
)


_by_fd: Dict[int, "Sandbox"] = {}


class SandboxError(Exception):
    """The sandbox refused or failed; the message is shown to the model."""


class BudgetExceeded(SandboxError):
    """The launcher killed an execution's commands for passing its disk or memory budget: the execution fails."""

    def __init__(self, kind: str, used: int, budget: int) -> None:
        super().__init__(breach_message(kind, used, budget))
        self.kind = kind
        self.used = used
        self.budget = budget

    def event(self) -> Dict[str, Any]:
        """The data of the execution's `budget_exceeded` event (docs/http-api.md)."""
        return {"kind": self.kind, "used_bytes": self.used, "budget_bytes": self.budget, "message": str(self)}


@dataclass
class Lease:
    """An execution's slot: its uid (= gid) for as long as the execution runs."""

    slot: int
    uid: int
    directory: str


@dataclass
class CommandResult:
    exit_code: Optional[int]
    signal: Optional[int]
    timed_out: bool
    stdout: str
    stderr: str
    duration_ms: int


class Sandbox:
    def __init__(self, sock: Optional[socket.socket], unavailable: str = "") -> None:
        self.sock = sock
        self.unavailable = unavailable if sock is None else ""
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._ids = itertools.count(1)
        self._replies: Dict[int, "asyncio.Future[Dict[str, Any]]"] = {}
        self._exits: Dict[int, "asyncio.Future[Dict[str, Any]]"] = {}
        self._buffer = b""
        self._send_lock: Optional[asyncio.Lock] = None
        # the runner's network policy (netrules.py spells it), sent with each run unless the execution has its own
        self.network = "none"
        # an execution's policy may be wider than `network` (agentRunner.sandbox.agentsMayWiden)
        self.agents_may_widen = False
        # slot -> the budget its commands passed (until the slot's next lease), and who is told
        self.breaches: Dict[int, BudgetExceeded] = {}
        self._on_breach: Dict[int, Callable[[BudgetExceeded], None]] = {}
        # slot -> who is told of a destination the network policy refused (destination, reason)
        self._on_network: Dict[int, Callable[[str, str], None]] = {}

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Sandbox":
        raw = env.get(names.SANDBOX_FD, "")
        if not raw.isdigit():
            reason = env.get(names.SANDBOX_UNAVAILABLE) or "the service was not started by the sandbox launcher"
            return cls(None, f"run_command is unavailable: commands run only in the sandbox, and {reason}. Fix: {FIX}")
        fd = int(raw)
        if fd not in _by_fd:  # one client per socket: the service (or a test process) creates several apps
            sock = socket.socket(fileno=fd)
            os.set_inheritable(fd, False)
            sock.setblocking(False)
            _by_fd[fd] = cls(sock)
        return _by_fd[fd]

    @property
    def available(self) -> bool:
        return self.sock is not None

    # -- the connection ------------------------------------------------------------------------

    def _attach(self) -> asyncio.AbstractEventLoop:
        """Binds the socket to the running loop (tests run several loops one after the other)."""
        loop = asyncio.get_running_loop()
        if self.sock is None:
            raise SandboxError(self.unavailable)
        if self._loop is not loop:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self.sock.fileno())
            self._loop = loop
            self._send_lock = asyncio.Lock()
            self._replies.clear()
            self._exits.clear()
            loop.add_reader(self.sock.fileno(), self._on_readable)
        return loop

    def _on_readable(self) -> None:
        assert self.sock is not None
        try:
            data = self.sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._lost("the sandbox launcher closed its socket")
            return
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            message = json.loads(line)
            if message.get("event") == "budget":
                self._breach(message)
                continue
            if message.get("event") == "network":
                listener = self._on_network.get(message.get("slot"))
                if listener is not None:
                    listener(str(message.get("destination")), str(message.get("reason")))
                continue
            table = self._exits if message.get("event") == "exit" else self._replies
            future = table.pop(message.get("id"), None)
            if future is not None and not future.done():
                future.set_result(message)

    def _breach(self, message: Dict[str, Any]) -> None:
        slot = message.get("slot")
        if not isinstance(slot, int) or slot in self.breaches:
            return
        breach = BudgetExceeded(str(message.get("kind")), int(message.get("used", 0)), int(message.get("budget", 0)))
        self.breaches[slot] = breach
        listener = self._on_breach.get(slot)
        if listener is not None:
            listener(breach)

    def _lost(self, reason: str) -> None:
        log.error(f"sandbox: {reason}; run_command is unavailable from now on")
        if self._loop is not None and self.sock is not None:
            self._loop.remove_reader(self.sock.fileno())
        self.sock = None
        self.unavailable = f"run_command is unavailable: {reason}"
        for future in [*self._replies.values(), *self._exits.values()]:
            if not future.done():
                future.set_exception(SandboxError(self.unavailable))
        self._replies.clear()
        self._exits.clear()

    async def _send(self, message: Dict[str, Any], fds: Sequence[int] = ()) -> None:
        loop = self._attach()
        assert self._send_lock is not None
        data = json.dumps(message).encode() + b"\n"
        async with self._send_lock:
            while True:
                if self.sock is None:
                    raise SandboxError(self.unavailable)
                try:
                    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
                    sent = self.sock.sendmsg([data], ancillary)
                    break
                except BlockingIOError:
                    await asyncio.sleep(0.001)
            if sent < len(data):
                await loop.sock_sendall(self.sock, data[sent:])

    async def _request(self, message: Dict[str, Any], fds: Sequence[int] = (),
                       exit_future: bool = False) -> "tuple[Dict[str, Any], Optional[asyncio.Future[Dict[str, Any]]]]":
        loop = self._attach()
        request_id = next(self._ids)
        reply = loop.create_future()
        self._replies[request_id] = reply
        exited = None
        if exit_future:
            exited = loop.create_future()
            self._exits[request_id] = exited
        await self._send({"id": request_id, **message, **({"fds": len(fds)} if fds else {})}, fds)
        answer = await reply
        if not answer.get("ok"):
            self._exits.pop(request_id, None)
            raise SandboxError(f"sandbox: {answer.get('error', 'refused')}")
        return answer, exited

    # -- operations ----------------------------------------------------------------------------

    async def acquire(self, directory: str, on_breach: Optional[Callable[[BudgetExceeded], None]] = None,
                      on_network: Optional[Callable[[str, str], None]] = None) -> Lease:
        """Gives the execution's workspace its own uid and shares its files with that uid's group.

        on_breach: called when the launcher kills the execution's commands for passing a budget;
        on_network: with each destination (once) the network policy refused to its commands, and why."""
        answer, _ = await self._request({"op": "acquire", "directory": directory})
        lease = Lease(answer["slot"], answer["uid"], directory)
        self.breaches.pop(lease.slot, None)
        if on_breach is not None:
            self._on_breach[lease.slot] = on_breach
        if on_network is not None:
            self._on_network[lease.slot] = on_network
        try:
            share_with_group(directory, answer["gid"])
        except OSError:
            await self.release(lease)
            raise
        return lease

    async def release(self, lease: Lease) -> None:
        """Ends every process of the execution and hands its workspace back to the service."""
        self._on_breach.pop(lease.slot, None)
        self._on_network.pop(lease.slot, None)
        await self._request({"op": "release", "slot": lease.slot})

    async def kill(self, lease: Lease) -> None:
        await self._request({"op": "kill", "slot": lease.slot})

    async def reclaim(self, workspace_root: str) -> None:
        """At start: workspaces a killed runner left with a slot's files are handed back."""
        if self.sock is None:
            return
        try:
            entries = list(os.scandir(workspace_root))
        except OSError:
            return
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode) and st.st_gid != os.getegid() and st.st_gid in os.getgroups():
                try:
                    await self._request({"op": "reclaim", "directory": entry.path})
                    log.info(f"sandbox: handed {entry.path} back to the service")
                except SandboxError as error:
                    log.warning(f"{error}")

    async def run(self, lease: Lease, command: str, timeout: float, limit: int, network: Optional[str] = None) -> CommandResult:
        """network: the execution's policy (its agent's narrower one), else the runner's."""
        loop = self._attach()
        caps = (OutputCap(limit), OutputCap(limit))
        started = time.monotonic()
        out_r, out_w = pipe()
        err_r, err_w = pipe()
        readers = (PipeReader(loop, out_r, caps[0]), PipeReader(loop, err_r, caps[1]))
        try:
            try:
                _, exited = await self._request({"op": "run", "slot": lease.slot, "command": command,
                                                   "network": network or self.network}, (out_w, err_w), True)
            except SandboxError:
                self.raise_breach(lease)  # refused because the workspace is already past its disk budget
                raise
            finally:
                os.close(out_w)
                os.close(err_w)
            assert exited is not None
            timed_out = False
            try:
                status = await asyncio.wait_for(asyncio.shield(exited), timeout)
            except asyncio.TimeoutError:
                timed_out = True
                await self.kill(lease)
                status = await asyncio.wait_for(exited, KILL_WAIT_SECONDS)
            except asyncio.CancelledError:
                loop.create_task(self._kill_quietly(lease))  # the execution's release waits for it
                raise
            # The output written before `sh` exited is in the pipes: read it, but not what background
            # processes might write later.
            await asyncio.wait([reader.eof for reader in readers], timeout=DRAIN_SECONDS)
        finally:
            for reader in readers:
                reader.close()
        self.raise_breach(lease)
        return CommandResult(status.get("code"), status.get("signal"), timed_out, caps[0].text(), caps[1].text(),
                             int((time.monotonic() - started) * 1000))

    def raise_breach(self, lease: Lease) -> None:
        breach = self.breaches.get(lease.slot)
        if breach is not None:
            raise breach

    async def _kill_quietly(self, lease: Lease) -> None:
        try:
            await self.kill(lease)
        except SandboxError:
            pass


def share_with_group(directory: str, gid: int) -> None:
    """The service's files of the workspace join the slot's group (g+rw, directories setgid)."""
    def share(path: str, dir_fd: Optional[int], is_dir: bool) -> None:
        st = os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
        if st.st_uid != os.geteuid() or stat.S_ISLNK(st.st_mode):
            return
        os.chown(path, -1, gid, dir_fd=dir_fd, follow_symlinks=False)
        os.chmod(path, (stat.S_IMODE(st.st_mode) | (0o2770 if is_dir else 0o660)) & ~0o007, dir_fd=dir_fd)

    share(directory, None, True)
    for _, dirs, files, dir_fd in os.fwalk(directory, follow_symlinks=False):
        for name in dirs:
            share(name, dir_fd, True)
        for name in files:
            share(name, dir_fd, False)


def close_to_others(workspace_root: str, data: str) -> None:
    """With a sandbox: the data directory is the service's alone; the workspace root can be crossed to
    reach one's own directory but not listed, and old executions' directories are closed."""
    for path, mode in ((data, 0o700), (workspace_root, 0o711)):
        try:
            os.chmod(path, mode)
        except OSError as error:
            log.warning(f"sandbox: cannot chmod {path} to {mode:o}: {error.strerror}")
    try:
        for entry in os.scandir(workspace_root):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and st.st_mode & 0o007:
                os.chmod(entry.path, stat.S_IMODE(st.st_mode) & ~0o007)
    except OSError as error:
        log.warning(f"sandbox: cannot close old workspaces in {workspace_root}: {error.strerror}")
