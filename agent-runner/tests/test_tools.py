from __future__ import annotations

import asyncio
import os

import pytest

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


def test_symlink_inside_the_workspace_is_fine(ws):
    ws.write_file("real.txt", "inside")
    os.symlink("real.txt", os.path.join(ws.root, "alias.txt"))
    assert ws.read_file("alias.txt").output == "inside"


def test_run_command_reports_exit_code_and_streams(ws):
    outcome = asyncio.run(ws.run_command("echo out; echo err >&2; exit 3"))
    assert not outcome.ok
    assert outcome.extra["exit_code"] == 3
    assert "exit code 3" in outcome.output and "out" in outcome.output and "err" in outcome.output


def test_run_command_runs_in_the_workspace(ws):
    outcome = asyncio.run(ws.run_command("pwd; echo hi > made.txt"))
    assert outcome.ok and ws.root in outcome.output
    assert ws.read_file("made.txt").output == "hi\n"


def test_run_command_times_out_and_kills_the_group(ws):
    outcome = asyncio.run(ws.run_command("sleep 30 & sleep 30", timeout_seconds=0.5))
    assert not outcome.ok and outcome.extra["timed_out"]
    assert "timed out" in outcome.output


def test_run_command_output_is_capped(ws):
    outcome = asyncio.run(ws.run_command("head -c 100000 /dev/zero | tr '\\0' x"))
    assert len(outcome.output) < 1000
    assert "characters omitted" in outcome.output


def test_cap_keeps_head_and_tail():
    text = "a" * 50 + "b" * 50
    folded = cap(text, 20)
    assert folded.startswith("a") and folded.endswith("b") and "80 characters omitted" in folded
