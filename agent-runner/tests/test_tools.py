from __future__ import annotations

import asyncio
import os
import time

import pytest
from conftest import requires_sandbox

from stigmer_agent_runner.sandbox import Sandbox
from stigmer_agent_runner.tools import ToolError, Workspace, cap


@pytest.fixture
def ws(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("outside")
    return Workspace(str(root), output_limit=1000, command_timeout=5)


def test_read_write_list(ws):
    assert ws.write_file("sub/dir/a.txt", "hello").ok
    assert ws.read_file("sub/dir/a.txt").output == "hello"
    listing = ws.list_files().output
    assert "sub/" in listing and "sub/dir/a.txt (5 bytes)" in listing


@pytest.mark.parametrize("path", ["../secret.txt", "sub/../../secret.txt", "/etc/passwd", "..", ""])
def test_paths_leaving_the_workspace_are_refused(ws, path):
    with pytest.raises(ToolError):
        ws.read_file(path)
    with pytest.raises(ToolError):
        ws.write_file(path, "x")


def test_symlinks_leaving_the_workspace_are_refused(ws, tmp_path):
    os.symlink(str(tmp_path / "secret.txt"), os.path.join(ws.root, "link.txt"))
    os.symlink(str(tmp_path), os.path.join(ws.root, "outdir"))
    with pytest.raises(ToolError, match="leaves the workspace"):
        ws.read_file("link.txt")
    with pytest.raises(ToolError, match="leaves the workspace"):
        ws.write_file("link.txt", "overwrite")
    with pytest.raises(ToolError, match="leaves the workspace"):
        ws.write_file("outdir/new.txt", "x")
    with pytest.raises(ToolError, match="leaves the workspace"):
        ws.list_files("outdir")
    assert (tmp_path / "secret.txt").read_text() == "outside"
    assert not (tmp_path / "new.txt").exists()


def test_a_directory_swapped_for_a_symlink_after_the_check_is_not_followed(ws, tmp_path):
    # A background process of the execution could swap a directory between resolve() and open().
    assert ws.write_file("d/f.txt", "inside").ok
    target = ws.resolve("d/f.txt")
    os.rename(os.path.join(ws.root, "d"), os.path.join(ws.root, "moved"))
    os.symlink(str(tmp_path), os.path.join(ws.root, "d"))
    (tmp_path / "f.txt").write_text("outside")
    for flags in (os.O_RDONLY, os.O_WRONLY | os.O_TRUNC):
        with pytest.raises(OSError):
            ws._open(target, flags)
    assert (tmp_path / "f.txt").read_text() == "outside"


def test_fifos_and_directories_are_not_read(ws):
    os.mkfifo(os.path.join(ws.root, "pipe"))
    with pytest.raises(ToolError, match="not a regular file"):
        ws.read_file("pipe")
    os.mkdir(os.path.join(ws.root, "dir"))
    with pytest.raises(ToolError, match="not a regular file"):
        ws.read_file("dir")


def test_symlink_inside_the_workspace_is_fine(ws):
    ws.write_file("real.txt", "inside")
    os.symlink("real.txt", os.path.join(ws.root, "alias.txt"))
    assert ws.read_file("alias.txt").output == "inside"


@pytest.fixture
def sandboxed(workspace_root):
    made = []

    def make(name="ws", **options):
        workspace = Workspace(os.path.join(workspace_root, name), output_limit=options.pop("output_limit", 1000),
                              command_timeout=5, sandbox=Sandbox.from_env(os.environ))
        made.append(workspace)
        return workspace

    yield make
    for workspace in made:
        asyncio.run(workspace.close())


def run(workspace, command, **options):
    return asyncio.run(workspace.run_command(command, **options))


@requires_sandbox
def test_run_command_reports_exit_code_and_streams(sandboxed):
    outcome = run(sandboxed(), "echo out; echo err >&2; exit 3")
    assert not outcome.ok
    assert outcome.extra["exit_code"] == 3
    assert "exit code 3" in outcome.output and "out" in outcome.output and "err" in outcome.output


@requires_sandbox
def test_run_command_runs_in_the_workspace_under_its_own_uid(sandboxed):
    ws = sandboxed()
    outcome = run(ws, "pwd; echo hi > made.txt; id -u; echo $HOME")
    assert outcome.ok and ws.root in outcome.output
    assert ws.read_file("made.txt").output == "hi\n"
    uid = int(outcome.output.split("stdout:\n")[1].splitlines()[1])
    assert uid not in (0, os.getuid())


@requires_sandbox
def test_run_command_times_out_and_kills_every_process_it_started(sandboxed):
    ws = sandboxed()
    started = time.monotonic()
    outcome = run(ws, "setsid sh -c 'sleep 300' & (sleep 301 &) ; sleep 302", timeout_seconds=0.5)
    assert not outcome.ok and outcome.extra["timed_out"]
    assert "timed out" in outcome.output
    assert time.monotonic() - started < 5
    assert not [p for p in _processes() if "sleep 30" in p]


@requires_sandbox
def test_a_background_process_does_not_hold_the_command(sandboxed):
    ws = sandboxed()
    outcome = run(ws, "(sleep 300 &); echo bg", timeout_seconds=30)
    assert outcome.ok and not outcome.extra["timed_out"]
    assert outcome.extra["duration_ms"] < 10_000
    assert "bg" in outcome.output
    assert [p for p in _processes() if "sleep 300" in p], "it runs on until the execution ends"
    asyncio.run(ws.close())
    assert not [p for p in _processes() if "sleep 300" in p]


@requires_sandbox
def test_run_command_output_is_capped_while_it_streams(sandboxed):
    outcome = run(sandboxed(), "head -c 50000000 /dev/zero | tr '\\0' x; echo END")
    assert len(outcome.output) < 1100
    stdout = outcome.output.split("stdout:\n")[1].split("\nstderr:")[0]
    assert "bytes omitted" in stdout and stdout.rstrip().endswith("END")


@requires_sandbox
def test_executions_cannot_reach_each_other(sandboxed):
    first, second = sandboxed("one"), sandboxed("two")
    assert run(first, "echo mine > x.txt").ok
    assert first.read_file("x.txt").output == "mine\n"
    for command in ("cat ../one/x.txt", "echo evil > ../one/x.txt", "ls ../one", "ls .."):
        outcome = run(second, command)
        assert not outcome.ok, command
    assert first.read_file("x.txt").output == "mine\n"


@requires_sandbox
def test_release_hands_the_files_back(sandboxed):
    ws = sandboxed()
    assert run(ws, "mkdir -p d/e && echo x > d/e/f && chmod 0 d/e/f && chmod 0 d/e && (sleep 200 &)").ok
    asyncio.run(ws.close())
    for directory, dirs, files in os.walk(ws.root):
        for name in [directory] + [os.path.join(directory, n) for n in dirs + files]:
            st = os.lstat(name)
            assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid()), name
            assert st.st_mode & 0o600 == 0o600, name


def test_without_the_launcher_run_command_refuses_with_the_fix(tmp_path):
    ws = Workspace(str(tmp_path / "ws"), sandbox=Sandbox.from_env({}))
    with pytest.raises(ToolError, match="run_command is unavailable.*--cap-add SETUID"):
        asyncio.run(ws.run_command("true"))


def _processes():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                found.append(handle.read().replace(b"\0", b" ").decode())
        except OSError:
            pass
    return found


def test_cap_keeps_head_and_tail():
    text = "a" * 50 + "b" * 50
    folded = cap(text, 20)
    assert folded.startswith("a") and folded.endswith("b") and "80 characters omitted" in folded
