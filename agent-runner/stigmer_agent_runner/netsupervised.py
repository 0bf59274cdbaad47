"""One command under policy `internet` or `allow`: the launcher's child that starts it and supervises it
(netsupervisor.Supervisor answers the notifications), and the probe of that path at the launcher's start.

The launcher forks this (root) for each `run`; it forks the command's child, which installs the notifying
filter, hands its listener over on netpolicy's magic fd, becomes the slot's uid and execs. This process
then becomes the slot's uid too, non-dumpable, and a child subreaper, so that it stays the ancestor of
every process of the command (Yama's relational ptrace scope asks that of whoever reads their memory).
"""
from __future__ import annotations

import os
import select
import socket
from typing import Callable, List, Optional, Tuple

from . import netrules
from .netsupervisor import Supervisor, _libc, become_supervisor


def run_supervised(installer, spec: str, ident: int, fds: List[int], status_w: int,
                   start_command: Callable[[Callable[[int], None]], None]) -> None:
    """In the launcher's child for one `run` (root): starts the command, supervises it. Never returns.

    Writes `exit CODE` and `refused DESTINATION<TAB>REASON` lines on status_w for the launcher."""
    import array
    import resource
    import signal

    code = 0
    try:
        keep = sorted({status_w, *fds})
        previous = 3
        for fd in keep + [os.sysconf("SC_OPEN_MAX")]:
            if fd >= previous:
                os.closerange(previous, fd)
                previous = fd + 1
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        _libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: the command's orphans stay below this process
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        magic = installer.magic_fd
        child = os.fork()
        if child == 0:
            parent_end.close()
            os.dup2(child_end.fileno(), magic)
            child_end.close()

            def hand_over(listener: int) -> None:
                handoff = socket.socket(fileno=magic)
                handoff.sendmsg([b"L"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [listener]))])
                handoff.close()
                os.close(listener)
                soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, magic), min(hard, magic)))

            start_command(hand_over)
            os._exit(127)
        child_end.close()
        os.close(fds[0])  # the command's stdout: only the command writes there
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        _, ancillary, _, _ = parent_end.recvmsg(1, socket.CMSG_SPACE(4))
        parent_end.close()
        listener = next((array.array("i", data[:4])[0] for level, kind, data in ancillary
                         if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS), None)
        become_supervisor(ident)
        reported_exit = False

        def status(line: str) -> None:
            os.write(status_w, (line.replace("\n", " ") + "\n").encode())

        def reap() -> None:
            nonlocal reported_exit
            while True:
                try:
                    pid, how = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    return
                if pid == 0:
                    return
                if pid == child and not reported_exit:
                    reported_exit = True
                    status(f"exit {os.waitstatus_to_exitcode(how)}")

        if listener is None:  # the child failed before the filter: it said why on stderr
            _, how = os.waitpid(child, 0)
            status(f"exit {os.waitstatus_to_exitcode(how)}")
            return

        def report(destination: str, reason: str) -> None:
            status(f"refused {destination}\t{reason}")
            try:
                os.write(fds[1], f"sandbox: the network policy refused {destination}: {reason}\n".encode())
            except OSError:
                pass

        supervisor = Supervisor(listener, lambda: netrules.Rules.from_env(spec), report)
        poller = select.poll()
        poller.register(listener, select.POLLIN)
        poller.register(wake_r, select.POLLIN)
        from .netpolicy import ARCHES, SEND_CALLS
        calls = SEND_CALLS[installer.arch][:4]
        nr_socket = ARCHES[installer.arch][1]
        listening = True
        reap()  # a child that exited before the wake-up pipe was set
        while listening or not reported_exit:
            for fd, events in poller.poll():
                if fd == wake_r:
                    os.read(wake_r, 512)
                elif events & select.POLLIN:
                    notification = supervisor.receive()
                    if notification is not None:
                        supervisor.handle(notification, calls, nr_socket)
                elif events & (select.POLLHUP | select.POLLERR):
                    poller.unregister(listener)  # no process is left under the filter
                    listening = False
            reap()
        supervisor.pool.shutdown(wait=False)
    except BaseException as error:  # noqa: B902 - the command is not supervised: it must not go on
        code = 1
        try:
            os.write(2, f"sandbox launcher: the network supervisor failed: {error!r}\n".encode())
        except OSError:
            pass
    finally:
        os._exit(code)


PROBE = ("import socket\ntry:\n    socket.create_connection(('192.0.2.1', 9), timeout=5)\n    print('connected')\n"
         "except PermissionError:\n    print('refused')\nexcept OSError as error:\n    print(repr(error))\n")


def prepare(probe_uid: int) -> Tuple[Optional[object], Optional[str]]:
    """At the launcher's start: the notifying filter and None, or None and why internet/allow cannot be enforced.

    The probe is a real supervised command (as `probe_uid`): its socket must be made by the supervisor and
    its connect to a documentation address (192.0.2.1, never routed) refused."""
    import resource
    import sys

    from . import netpolicy

    try:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        magic = min(hard if hard != resource.RLIM_INFINITY else 1 << 16, 1 << 16) - 1
        installer = netpolicy.Filter(notify=True, magic_fd=magic)
    except (netpolicy.PolicyError, OSError, AttributeError) as error:
        return None, f"network policies internet and allow cannot be enforced: {error}"
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    status_r, status_w = os.pipe()

    def start(hand_over: Callable[[int], None]) -> None:
        try:
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            listener = installer.install()
            assert listener is not None
            hand_over(listener)
            os.setgroups([])
            os.setgid(probe_uid)
            os.setuid(probe_uid)
            os.execv(sys.executable, [sys.executable, "-I", "-c", PROBE])
        except BaseException as error:  # noqa: B902
            os.write(2, f"{error}".encode())
            os._exit(126)

    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(err_r)
        os.close(status_r)
        run_supervised(installer, "allow:127.0.0.1:1", probe_uid, [out_w, err_w], status_w, start)
    for fd in (out_w, err_w, status_w):
        os.close(fd)
    answers = []
    for fd in (out_r, status_r, err_r):
        with os.fdopen(fd, "rb") as handle:
            answers.append(handle.read(8192).decode(errors="replace").strip())
    os.waitpid(pid, 0)
    out, status, err = answers
    if out == "refused" and "refused 192.0.2.1:9" in status:
        return installer, None
    return None, ("network policies internet and allow cannot be enforced: the supervised probe "
                  f"answered {out or 'nothing'!r} ({err or status or 'no error'}); {netpolicy.FIX}")
