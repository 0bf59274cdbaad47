"""The agent's tools, confined to one execution's workspace directory.

A path that leaves the workspace (`..`, an absolute path, a symlink pointing out) raises ToolError,
which the agent loop hands back to the model as a failed tool result; the execution goes on.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from . import log
from .budgets import SCRATCH_DIRS, execution_usage, format_bytes, tree_usage
from .sandbox import BudgetExceeded, Lease, Sandbox, SandboxError

TOOL_NAMES = ("list_files", "read_file", "write_file", "run_command")
MAX_LIST_ENTRIES = 1000
MAX_COMMAND_TIMEOUT = 3600.0

SCHEMAS: Dict[str, Dict[str, Any]] = {
    "list_files": {
        "description": "List files and directories (recursively) under a path of the workspace.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string", "description": "directory relative to the workspace; default ."}},
        },
    },
    "read_file": {
        "description": "Read a text file of the workspace.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string", "description": "file path relative to the workspace"}},
            "required": ["path"],
        },
    },
    "write_file": {
        "description": "Create or overwrite a file of the workspace (parent directories are created).",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        },
    },
    "run_command": {
        "description": "Run a shell command (sh -c) in the workspace; returns exit code, stdout and stderr.",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string"}, "timeout_seconds": {"type": "number"}},
            "required": ["command"],
        },
    },
}


class ToolError(Exception):
    """A tool refused or failed; the message is shown to the model."""


@dataclass
class ToolOutcome:
    ok: bool
    output: str
    extra: Dict[str, Any] = field(default_factory=dict)


def cap(text: str, limit: int) -> str:
    """Folds text longer than `limit` characters, keeping its head and tail."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    return f"{text[:head]}\n… [{len(text) - limit} characters omitted] …\n{text[-tail:]}"


class Workspace:
    def __init__(self, root: str, output_limit: int = 16 * 1024, command_timeout: float = 60.0,
                 sandbox: Optional[Sandbox] = None, disk_budget: Optional[int] = None,
                 on_breach: Optional[Callable[[BudgetExceeded], None]] = None) -> None:
        os.makedirs(root, exist_ok=True)
        self.root = os.path.realpath(root)
        self.output_limit = output_limit
        self.command_timeout = command_timeout
        self.sandbox = sandbox
        self.disk_budget = disk_budget
        self.on_breach = on_breach
        self.on_network: Optional[Callable[[str, str], None]] = None  # a destination refused, and why
        self.network: Optional[str] = None  # the execution's network policy; None: the runner's
        self.commands_running = 0  # a breach while one runs ends it (run_command raises BudgetExceeded)
        self._lease: Optional[Lease] = None

    def resolve(self, path: Any, *, allow_root: bool = True) -> str:
        if not isinstance(path, str) or path.strip() == "":
            raise ToolError("path must be a non-empty string")
        if "\x00" in path:
            raise ToolError("path contains a NUL byte")
        if os.path.isabs(path):
            raise ToolError(f"{path}: absolute paths are not allowed; use a path relative to the workspace")
        resolved = os.path.realpath(os.path.join(self.root, path))
        if resolved != self.root and not resolved.startswith(self.root + os.sep):
            raise ToolError(f"{path}: leaves the workspace")
        if resolved == self.root and not allow_root:
            raise ToolError(f"{path}: is the workspace directory itself")
        return resolved

    def relative(self, absolute: str) -> str:
        return os.path.relpath(absolute, self.root)

    def _open_parent(self, resolved: str, create: bool) -> "tuple[int, str]":
        """A directory fd of `resolved`'s parent and its last name, reached from the workspace root one
        component at a time without following any symlink: a command (a background process of this
        execution) that swaps a directory for a symlink after resolve() gets an error, never a path outside."""
        parts = os.path.relpath(resolved, self.root).split(os.sep)
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            for part in parts[:-1]:
                if create:
                    try:
                        os.mkdir(part, 0o777, dir_fd=fd)
                    except FileExistsError:
                        pass
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = inner
        except BaseException:
            os.close(fd)
            raise
        return fd, parts[-1]

    def _open(self, resolved: str, flags: int, *, create: bool = False) -> int:
        if resolved == self.root:
            return os.open(self.root, flags | os.O_NOFOLLOW)
        parent, name = self._open_parent(resolved, create)
        try:
            # O_NOFOLLOW: a symlink swapped in after resolve() is refused rather than followed;
            # O_NONBLOCK: a FIFO a command left in place of a file cannot block the service;
            # 0o666 less the umask (007 with a sandbox: the execution's commands may change the file too).
            return os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK, 0o666, dir_fd=parent)
        finally:
            os.close(parent)

    def list_files(self, path: Any = ".") -> ToolOutcome:
        target = self.resolve("." if path in (None, "") else path)
        try:
            top = self._open(target, os.O_RDONLY | os.O_DIRECTORY)
        except (NotADirectoryError, FileNotFoundError):
            raise ToolError(f"{path}: not a directory") from None
        try:
            return ToolOutcome(True, self._listing(top, self.relative(target)))
        finally:
            os.close(top)

    def _listing(self, top: int, prefix: str) -> str:
        lines: List[str] = []
        for directory, dirs, files, dir_fd in os.fwalk(".", dir_fd=top):
            base = os.path.normpath(os.path.join(prefix, directory))
            dirs.sort()
            for name in dirs:
                lines.append(os.path.normpath(os.path.join(base, name)) + "/")
            for name in sorted(files):
                try:
                    size = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_size
                except OSError:
                    size = 0
                lines.append(f"{os.path.normpath(os.path.join(base, name))} ({size} bytes)")
            if len(lines) >= MAX_LIST_ENTRIES:
                lines = lines[:MAX_LIST_ENTRIES] + [f"… listing stopped at {MAX_LIST_ENTRIES} entries"]
                break
        return "\n".join(lines) if lines else "(empty)"

    def read_file(self, path: Any) -> ToolOutcome:
        target = self.resolve(path, allow_root=False)
        try:
            fd = self._open(target, os.O_RDONLY)
        except FileNotFoundError:
            raise ToolError(f"{path}: no such file") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ToolError(f"{path}: not a regular file")
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(self.output_limit * 4 + 1)
        return ToolOutcome(True, cap(raw.decode("utf-8", errors="replace"), self.output_limit))

    def write_file(self, path: Any, content: Any) -> ToolOutcome:
        if not isinstance(content, str):
            raise ToolError("content must be a string")
        target = self.resolve(path, allow_root=False)
        if os.path.isdir(target):
            raise ToolError(f"{path}: is a directory")
        data = content.encode("utf-8")
        self._check_budget(target, len(data))
        fd = self._open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, create=True)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return ToolOutcome(True, f"wrote {len(content.encode('utf-8'))} bytes to {self.relative(target)}")

    def _check_budget(self, target: str, size: int) -> None:
        """write_file refuses what would take the workspace past its disk budget (the file it replaces freed)."""
        if self.disk_budget is None:
            return
        try:
            replaced = os.lstat(target).st_blocks * 512
        except OSError:
            replaced = 0
        # with a lease, its uid's files in /tmp and /dev/shm count too (the service is in the slot's group)
        used = execution_usage(self._lease.uid, self.root, SCRATCH_DIRS) if self._lease else tree_usage(self.root)
        after = used - replaced + size
        if after > self.disk_budget:
            raise ToolError(f"workspace budget of {format_bytes(self.disk_budget)} exceeded: writing {format_bytes(size)} "
                            f"would bring the workspace to {format_bytes(after)}; remove files it does not need first")

    async def run_command(self, command: Any, timeout_seconds: Any = None) -> ToolOutcome:
        if not isinstance(command, str) or not command.strip():
            raise ToolError("command must be a non-empty string")
        timeout = self.command_timeout
        if timeout_seconds is not None:
            if not isinstance(timeout_seconds, (int, float)) or timeout_seconds <= 0:
                raise ToolError("timeout_seconds must be a positive number")
            timeout = min(float(timeout_seconds), MAX_COMMAND_TIMEOUT)
        if self.sandbox is None or not self.sandbox.available:
            raise ToolError(self.sandbox.unavailable if self.sandbox else "run_command is unavailable: no sandbox")
        self.commands_running += 1
        try:
            if self._lease is None:
                self._lease = await self.sandbox.acquire(self.root, self.on_breach, self.on_network)
            result = await self.sandbox.run(self._lease, command, timeout, self.output_limit // 2, self.network)
        except BudgetExceeded:
            raise
        except SandboxError as error:
            raise ToolError(str(error)) from None
        finally:
            self.commands_running -= 1
        code = result.exit_code
        status = f"timed out after {timeout:g} s (killed)" if result.timed_out else f"exit code {code}"
        text = f"{status}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        return ToolOutcome(not result.timed_out and code == 0, text,
                           {"exit_code": code, "timed_out": result.timed_out, "duration_ms": result.duration_ms})

    async def close(self) -> None:
        """The execution ended: its processes are killed and its files handed back to the service."""
        lease, self._lease = self._lease, None
        if lease is not None and self.sandbox is not None:
            try:
                await self.sandbox.release(lease)
            except SandboxError as error:
                log.warning(str(error))

    async def call(self, name: str, arguments: Dict[str, Any]) -> ToolOutcome:
        if name == "list_files":
            return self.list_files(arguments.get("path", "."))
        if name == "read_file":
            return self.read_file(arguments.get("path"))
        if name == "write_file":
            return self.write_file(arguments.get("path"), arguments.get("content"))
        if name == "run_command":
            return await self.run_command(arguments.get("command"), arguments.get("timeout_seconds"))
        raise ToolError(f"unknown tool {name}")


def schemas_for(names: Optional[List[str]]) -> List[Dict[str, Any]]:
    return [{"type": "function", "function": {"name": name, **SCHEMAS[name]}} for name in (names or TOOL_NAMES)]
