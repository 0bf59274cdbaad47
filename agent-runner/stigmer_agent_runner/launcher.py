"""The sandbox launcher's loop: the `Launcher` that sandbox_launcher.py runs once it has forked the service.

It answers the service's requests over the inherited socket (JSON lines; sandbox_launcher.py lists them),
reaps its children and runs the budgets' watcher. A module of its own so that the launcher forks the
service before importing it (and ctypes, the network policy and its supervisor): the service's start
does not wait for them. Standard library only, like the launcher: this is code to audit. Over 350 lines
because the Launcher is one state machine (slots, helpers, children, supervised runs' status pipes) whose
parts share its tables; what it does to a slot's processes and files is in slots.py, the network policy
in netpolicy.py / netsupervised.py, the budgets in budgets.py.
"""
from __future__ import annotations

import array
import json
import os
import select
import signal
import socket
import stat
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from . import budgets, netpolicy, netsupervised
from .slots import become, kill_as, release, release_now

if TYPE_CHECKING:
    from .sandbox_launcher import Settings

MAX_FDS = 2
MAX_LINE = 8 << 20
SCRATCH_DIRS = budgets.SCRATCH_DIRS
COMMAND_PATH = "/usr/local/bin:/usr/bin:/bin"


def set_limits(settings: Settings, file_size: int) -> None:
    """file_size: the per-file limit, or less (what is left of the execution's disk budget)."""
    import resource

    memory = min(settings.max_memory, settings.budgets.memory)
    for which, value in ((resource.RLIMIT_NPROC, settings.max_processes), (resource.RLIMIT_DATA, memory),
                         (resource.RLIMIT_FSIZE, file_size), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))


class Launcher:
    def __init__(self, settings: Settings, sock: socket.socket, service_pid: int,
                 network: Tuple[Optional[netpolicy.Filter], Optional[str]] = (None, "not prepared"),
                 supervised: Tuple[Optional[netpolicy.Filter], Optional[str]] = (None, "not prepared")) -> None:
        self.settings = settings
        # the filter of policy none, or why it cannot be enforced (then no command runs)
        self.network_filter, self.network_problem = network
        # the notifying filter of policies internet and allow, or why it cannot be enforced
        self.supervised_filter, self.supervised_problem = supervised
        self.poller = select.poll()
        self.statuses: Dict[int, Tuple[int, bytes]] = {}  # status pipe of a supervised run -> (its pid, unread)
        self.sock = sock
        self.service_pid = service_pid
        self.slot_execution: Dict[int, str] = {}  # slot -> workspace directory
        self.busy: Dict[int, str] = {}  # slot -> what its helper does (killing, releasing)
        self.children: Dict[int, Tuple[str, Any, int]] = {}  # pid -> (kind, request id, slot)
        self.received_fds: List[int] = []
        self.buffer = b""
        self.waiting: Dict[int, List[Tuple[str, Any]]] = {}  # slot -> kill/release requests while it is busy
        self.watcher = budgets.Watcher(settings.budgets, settings.workspace, SCRATCH_DIRS)

    # -- protocol ------------------------------------------------------------------------------

    def send(self, message: Dict[str, Any]) -> None:
        try:
            self.sock.sendall(json.dumps(message).encode() + b"\n")
        except OSError:
            pass  # the service is gone; the main loop notices

    def reply(self, request_id: Any, **fields: Any) -> None:
        self.send({"id": request_id, **fields})

    def handle(self, message: Dict[str, Any], fds: List[int]) -> None:
        request_id = message.get("id")
        op = message.get("op")
        try:
            if op == "acquire":
                self.acquire(request_id, message.get("directory"))
            elif op == "run":
                self.run(request_id, self.slot(message), message.get("command"), message.get("network"), fds)
            elif op in ("kill", "release"):
                slot = self.slot(message, busy_ok=True)
                if slot in self.busy:  # a budget's kill, say: this request follows it
                    self.waiting.setdefault(slot, []).append((op, request_id))
                else:
                    self.start_helper(op, request_id, slot)
            elif op == "reclaim":
                self.reclaim(request_id, message.get("directory"))
            else:
                raise ValueError(f"unknown operation {op!r}")
        except (ValueError, OSError) as error:
            self.reply(request_id, ok=False, error=str(error))
        finally:
            for fd in fds:
                os.close(fd)

    def slot(self, message: Dict[str, Any], busy_ok: bool = False) -> int:
        slot = message.get("slot")
        if not isinstance(slot, int) or slot not in self.slot_execution:
            raise ValueError(f"slot {slot!r} is not in use")
        if slot in self.busy and not busy_ok:
            raise ValueError(f"slot {slot} is {self.busy[slot]}")
        return slot

    def workspace_dir(self, directory: Any) -> str:
        """An execution directory: below the workspace root, no symlink on the way, owned by the service."""
        if (not isinstance(directory, str) or os.path.realpath(directory) != directory
                or not directory.startswith(self.settings.workspace + os.sep)):
            raise ValueError(f"{directory!r} is not an execution directory below {self.settings.workspace}")
        st = os.lstat(directory)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != self.settings.service_uid:
            raise ValueError(f"{directory} is not a directory owned by the service")
        return directory

    def acquire(self, request_id: Any, directory: Any) -> None:
        directory = self.workspace_dir(directory)
        free = [s for s in range(self.settings.slots) if s not in self.slot_execution and s not in self.busy]
        if not free:
            raise ValueError(f"all {self.settings.slots} sandbox slots are in use")
        slot = free[0]
        self.slot_execution[slot] = directory
        ident = self.settings.slot_id(slot)
        self.reply(request_id, ok=True, slot=slot, uid=ident, gid=ident)

    def reclaim(self, request_id: Any, directory: Any) -> None:
        """A directory a previous run left with a slot's files (killed before its release): hand it back."""
        directory = self.workspace_dir(directory)
        slot = self.settings.slot_of(os.lstat(directory).st_gid)
        if slot is None:
            raise ValueError(f"{directory} does not belong to a sandbox slot")
        if slot in self.slot_execution or slot in self.busy:
            raise ValueError(f"slot {slot} is in use")
        self.slot_execution[slot] = directory
        self.start_helper("release", request_id, slot)

    def run(self, request_id: Any, slot: int, command: Any, network: Any, fds: List[int]) -> None:
        """The child has its own copies of `fds`."""
        if not isinstance(command, str) or "\x00" in command:
            raise ValueError("command must be a string without NUL bytes")
        if len(fds) != 2:
            raise ValueError("run needs the stdout and stderr pipes")
        try:
            policy = netpolicy.check(self.settings.network if network is None else str(network))
        except netpolicy.PolicyError as error:
            raise ValueError(str(error)) from None
        installer, problem = ((self.network_filter, self.network_problem) if policy == netpolicy.NONE
                              else (self.supervised_filter, self.supervised_problem))
        if installer is None:
            raise ValueError(f"the command was not run: {problem}")
        directory = self.slot_execution[slot]
        ident = self.settings.slot_id(slot)
        file_size = self.budget_file_size(slot, ident, directory)
        if policy == netpolicy.NONE:
            pid = os.fork()
            if pid == 0:
                self.exec_command(installer, ident, directory, command, fds, file_size)
        else:
            pid = self.start_supervised(installer, policy, ident, directory, command, fds, file_size)
        self.children[pid] = ("run", request_id, slot)
        self.watcher.command_started(slot)
        self.reply(request_id, ok=True, pid=pid)

    def start_supervised(self, installer: netpolicy.Filter, policy: str, ident: int, directory: str, command: str,
                         fds: List[int], file_size: int) -> int:
        """Policies internet and allow: a supervisor process (netsupervised.py) that starts the command."""
        status_r, status_w = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:
            os.close(status_r)
            netsupervised.run_supervised(installer, policy, ident, fds, status_w, lambda hand_over: self.exec_command(
                installer, ident, directory, command, fds, file_size, hand_over))
        os.close(status_w)
        self.statuses[status_r] = (pid, b"")
        self.poller.register(status_r, select.POLLIN)
        return pid

    def read_status(self, fd: int) -> None:
        """A supervised run's lines: its command's exit, and destinations the policy refused."""
        pid, unread = self.statuses[fd]
        data = os.read(fd, 4096)
        if not data:
            self.poller.unregister(fd)
            os.close(fd)
            del self.statuses[fd]
            return
        unread += data
        *lines, unread = unread.split(b"\n")
        self.statuses[fd] = (pid, unread)
        for line in lines:
            word, _, rest = line.decode(errors="replace").partition(" ")
            kind, request_id, slot = self.children.get(pid, (None, None, -1))
            if word == "exit" and kind == "run":
                self.children[pid] = ("supervisor", None, slot)
                code = int(rest)
                self.command_exited(request_id, slot, code)
            elif word == "refused" and slot >= 0:
                destination, _, reason = rest.partition("\t")
                self.send({"event": "network", "slot": slot, "destination": destination, "reason": reason})

    def exec_command(self, installer: netpolicy.Filter, ident: int, directory: str, command: str, fds: List[int],
                     file_size: int, hand_over: Optional[Any] = None) -> None:
        """In the forked child: never returns. hand_over(listener): a supervised filter's listener goes there."""
        try:
            null = os.open("/dev/null", os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(fds[0], 1)
            os.dup2(fds[1], 2)
            if installer.notify:  # the magic fd carries the listener to the supervisor
                os.closerange(3, installer.magic_fd)
                os.closerange(installer.magic_fd + 1, os.sysconf("SC_OPEN_MAX"))
            else:
                os.closerange(3, os.sysconf("SC_OPEN_MAX"))
            for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.setsid()
            with open("/proc/self/oom_score_adj", "w") as handle:
                handle.write("1000")  # the OOM killer takes sandbox processes before the service
            set_limits(self.settings, file_size)
            listener = installer.install()  # inherited by every descendant; setuid below keeps it
            if listener is not None and hand_over is not None:
                hand_over(listener)
            become(ident, ident, [])
            os.umask(0o007)
            os.chdir(directory)
            env = {"PATH": COMMAND_PATH, "HOME": directory, "TMPDIR": directory, "PWD": directory, "LANG": "C.UTF-8"}
            os.execve("/bin/sh", ["sh", "-c", command], env)
        except BaseException as error:  # noqa: B902 - report whatever stopped the exec on the command's stderr
            try:
                os.write(2, f"sandbox: cannot start the command: {error}\n".encode())
            finally:
                os._exit(126)

    # -- budgets (budgets.py) ----------------------------------------------------------------------

    def budget_file_size(self, slot: int, ident: int, directory: str) -> int:
        """Measures the execution's files before its command: refuses when over budget, else the file size limit."""
        budget = self.settings.budgets.disk
        remaining = self.watcher.before_command(slot, ident, directory)
        if remaining < 0:
            self.enforce(budgets.Breach(slot, "disk", budget - remaining, budget))
            raise ValueError(budgets.breach_message("disk", budget - remaining, budget))
        # one big file stops at the budget (passing it by the slack, so that the watcher reports it)
        return max(1, min(self.settings.max_file, remaining + budgets.FSIZE_SLACK))

    def enforce(self, breach: budgets.Breach) -> None:
        """Tells the service why, then kills the slot's processes (the service ends the execution)."""
        self.send(breach.event())
        if breach.slot in self.slot_execution and breach.slot not in self.busy:
            self.start_helper("kill", None, breach.slot)

    def start_helper(self, kind: str, request_id: Any, slot: int) -> None:
        (self.watcher.drop if kind == "release" else self.watcher.forget)(slot)
        self.busy[slot] = "being released" if kind == "release" else "being killed"
        ident = self.settings.slot_id(slot)
        directory = self.slot_execution[slot]
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = 0 if (release(self.settings, ident, directory) if kind == "release" else kill_as(ident)) else 1
            finally:
                os._exit(code)
        self.children[pid] = (kind, request_id, slot)

    # -- processes -----------------------------------------------------------------------------

    def reap(self) -> Optional[int]:
        """Collects exited children; returns the service's exit code once it has exited."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return None
            if pid == 0:
                return None
            code = os.waitstatus_to_exitcode(status)
            if pid == self.service_pid:
                return code if code >= 0 else 128 - code
            for fd, (owner, _) in list(self.statuses.items()):
                while owner == pid and fd in self.statuses:  # its last lines first (its exit, say)
                    self.read_status(fd)
            kind, request_id, slot = self.children.pop(pid, (None, None, -1))
            if kind == "run":  # a supervised run whose supervisor died before its command's exit: that is it
                self.command_exited(request_id, slot, code)
            elif kind == "supervisor":
                pass
            elif kind is not None:
                self.busy.pop(slot, None)
                if kind == "release":
                    self.slot_execution.pop(slot, None)
                if request_id is not None:  # None: the launcher's own kill (a budget)
                    self.reply(request_id, ok=code == 0, **({} if code == 0 else {"error": f"{kind} of slot {slot} failed"}))
                self.next_waiting(slot)

    def command_exited(self, request_id: Any, slot: int, code: int) -> None:
        self.watcher.command_exited(slot)
        for breach in self.watcher.tick(now_too=True, exact=slot):
            self.enforce(breach)
        self.send({"event": "exit", "id": request_id, "code": code if code >= 0 else 128 - code,
                   "signal": -code if code < 0 else None})

    def next_waiting(self, slot: int) -> None:
        waiting = self.waiting.get(slot)
        if not waiting:
            return
        op, request_id = waiting.pop(0)
        if not waiting:
            del self.waiting[slot]
        if slot in self.slot_execution:
            self.start_helper(op, request_id, slot)
        else:
            self.reply(request_id, ok=True)  # released meanwhile: nothing left to kill or release

    def forward(self, sig: int) -> None:
        """Signals the service (another uid: through a child that becomes it; no CAP_KILL needed)."""
        if os.fork() == 0:
            try:
                become(self.settings.service_uid, self.settings.service_gid, [])
                os.kill(self.service_pid, sig)
            finally:
                os._exit(0)

    def read_socket(self) -> bool:
        """Reads requests; False when the service closed its end."""
        fd_size = socket.CMSG_SPACE(MAX_FDS * array.array("i").itemsize)
        data, ancillary, _, _ = self.sock.recvmsg(1 << 16, fd_size)
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
                self.received_fds.extend(fds)
        if not data:
            return False
        self.buffer += data
        if len(self.buffer) > MAX_LINE and b"\n" not in self.buffer:
            raise SystemExit("sandbox launcher: a request exceeds the size limit")
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                self.reply(None, ok=False, error="a request is not a JSON object")
                continue
            # fds travel with the first byte of their message, so a complete message has received its own
            count = message.get("fds", 0)
            count = min(count, MAX_FDS) if isinstance(count, int) and count > 0 else 0
            fds, self.received_fds = self.received_fds[:count], self.received_fds[count:]
            self.handle(message, fds)
        return True

    def serve(self, wake_r: int) -> int:
        """wake_r: the wakeup pipe of the signals sandbox_launcher.catch_signals caught (since before the fork)."""
        poller = self.poller
        poller.register(self.sock, select.POLLIN)
        poller.register(wake_r, select.POLLIN)
        socket_open = True
        while True:
            for fd, _ in poller.poll(self.watcher.timeout_ms()):
                if fd in self.statuses:
                    self.read_status(fd)
                elif fd == wake_r:
                    for sig in os.read(wake_r, 512):
                        if sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
                            self.forward(sig)
                elif socket_open and not self.read_socket():
                    socket_open = False
                    poller.unregister(self.sock)
            code = self.reap()
            if code is not None:
                self.finish()
                return code
            for breach in self.watcher.tick():
                self.enforce(breach)

    def finish(self) -> None:
        """The service exited: end every command and hand every workspace still in use back."""
        for slot, directory in list(self.slot_execution.items()):
            release_now(self.settings, self.settings.slot_id(slot), directory)


def machine_of(network: Tuple[Optional[netpolicy.Filter], Optional[str]]) -> str:
    return network[0].arch if network[0] else netpolicy.machine()
