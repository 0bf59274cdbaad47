"""The pure parts of the budgets (budgets.py): how an execution's files and processes are measured."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from stigmer_agent_runner import budgets
from stigmer_agent_runner.config import ConfigError

# The watcher forks its measurement (the launcher is single-threaded; pytest, after other tests, is not).
pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


def write(path: Any, size: int) -> None:
    with open(path, "wb") as handle:
        handle.write(os.urandom(size))  # random: no file system compresses or dedupes it away
        handle.flush()
        os.fsync(handle.fileno())  # allocated now, not when the page cache is flushed


def blocks(path: Any) -> int:
    return os.lstat(path).st_blocks * 512


def test_tree_usage_is_the_allocated_bytes_of_everything_below(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    write(tmp_path / "one", 100_000)
    write(tmp_path / "a" / "b" / "two", 300_000)
    expected = sum(blocks(p) for p in (tmp_path, tmp_path / "a", tmp_path / "a" / "b", tmp_path / "one",
                                        tmp_path / "a" / "b" / "two"))
    assert budgets.tree_usage(str(tmp_path)) == expected
    assert expected >= 400_000


def test_a_hard_linked_file_counts_once(tmp_path):
    write(tmp_path / "big", 1 << 20)
    for n in range(5):
        os.link(tmp_path / "big", tmp_path / f"link{n}")
    assert budgets.tree_usage(str(tmp_path)) == blocks(tmp_path) + blocks(tmp_path / "big")


def test_hard_links_count_once_across_the_workspace_and_the_scratch_directories(tmp_path):
    workspace, scratch = tmp_path / "ws", tmp_path / "scratch"
    workspace.mkdir()
    scratch.mkdir()
    write(workspace / "big", 1 << 20)
    os.link(workspace / "big", scratch / "same")
    alone = budgets.tree_usage(str(workspace))
    assert budgets.execution_usage(os.geteuid(), str(workspace), [str(scratch)]) == alone + blocks(scratch / "same") - blocks(workspace / "big")


def test_symlinks_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    write(outside / "big", 1 << 20)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    os.symlink(outside, workspace / "dir-link")
    os.symlink(outside / "big", workspace / "file-link")
    os.symlink("/", workspace / "root")
    assert budgets.tree_usage(str(workspace)) == sum(blocks(p) for p in (workspace, workspace / "dir-link",
                                                                           workspace / "file-link", workspace / "root"))
    assert budgets.tree_usage(str(workspace)) < 1 << 20


def test_a_symlink_as_the_top_is_itself(tmp_path):
    os.symlink("/usr", tmp_path / "top")
    assert budgets.tree_usage(str(tmp_path / "top")) == blocks(tmp_path / "top")


def test_a_deep_tree_is_walked_without_recursion(tmp_path):
    path, expected = tmp_path, blocks(tmp_path)
    for _ in range(1200):  # deeper than Python's recursion limit
        path = path / "d"
        path.mkdir()
        expected += blocks(path)  # 0 on tmpfs
    write(path / "deep", 50_000)
    try:
        assert budgets.tree_usage(str(tmp_path)) == expected + blocks(path / "deep") >= 50_000
    finally:  # deepest first: shutil.rmtree (pytest's clean-up of old temporary directories) would recurse
        os.unlink(path / "deep")
        while path != tmp_path:
            os.rmdir(path)
            path = path.parent


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any directory: nothing is hidden from it")
def test_a_directory_its_owner_hid_is_opened_up_by_the_owners_walk(tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    write(hidden / "big", 1 << 20)
    os.chmod(hidden, 0o300)  # writable and searchable, not listable: its files would not be seen
    try:
        assert budgets.tree_usage(str(tmp_path)) < 1 << 20  # as anyone else sees it
        assert budgets.tree_usage(str(tmp_path), open_up=True) >= 1 << 20
        assert os.stat(hidden).st_mode & 0o700 == 0o700
    finally:
        os.chmod(hidden, 0o700)


def test_scratch_usage_counts_only_the_uids_entries(tmp_path):
    write(tmp_path / "mine", 200_000)
    (tmp_path / "dir").mkdir()
    write(tmp_path / "dir" / "inner", 100_000)
    mine = blocks(tmp_path / "mine") + budgets.tree_usage(str(tmp_path / "dir"))
    assert budgets.scratch_usage(os.geteuid(), [str(tmp_path)], set()) == mine
    assert budgets.scratch_usage(os.geteuid() + 12345, [str(tmp_path)], set()) == 0


def test_the_memory_of_a_uids_processes_is_their_anonymous_resident_memory():
    child = subprocess.Popen([sys.executable, "-c", "import sys; x = bytearray(64 << 20); sys.stdout.write('ok\\n');"
                              " sys.stdout.flush(); sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ok\n"
        count, resident = budgets.processes_by_uid({os.geteuid()})[os.geteuid()]
        assert count >= 2  # pytest and the child
        assert resident >= 64 << 20
    finally:
        child.kill()
        child.wait()


def test_budgets_are_read_from_the_environment():
    settings = budgets.BudgetSettings.from_env({"STIGMER_SANDBOX_DISK_BUDGET_BYTES": str(64 << 20),
                                                "STIGMER_SANDBOX_MEMORY_BUDGET_BYTES": str(256 << 20)})
    assert (settings.disk, settings.memory) == (64 << 20, 256 << 20)
    assert budgets.BudgetSettings.from_env({}).disk == 1 << 30
    with pytest.raises(ConfigError, match="STIGMER_SANDBOX_DISK_BUDGET_BYTES"):
        budgets.BudgetSettings.from_env({"STIGMER_SANDBOX_DISK_BUDGET_BYTES": "1g"})


def test_breach_messages_name_the_budget_and_the_fix():
    assert budgets.format_bytes(1 << 30) == "1 GiB" and budgets.format_bytes(96 << 20) == "96 MiB"
    assert budgets.format_bytes(3 << 29) == "1.5 GiB" and budgets.format_bytes(10) == "10 bytes"
    disk = budgets.breach_message("disk", (1 << 30) + (5 << 20), 1 << 30)
    assert disk.startswith("workspace budget of 1 GiB exceeded: the execution's files take 1.0 GiB")
    assert "agentRunner.sandbox.diskBudget" in disk
    memory = budgets.breach_message("memory", 600 << 20, 512 << 20)
    assert memory.startswith("memory budget of 512 MiB exceeded: the execution's processes used 600 MiB")
    assert "agentRunner.sandbox.memoryBudget" in memory


def watcher(tmp_path: Any, disk: int, memory: int) -> "tuple[budgets.Watcher, str]":
    workspace = tmp_path / "ws"
    workspace.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    return budgets.Watcher(budgets.BudgetSettings(disk=disk, memory=memory), str(workspace), [str(scratch)]), str(workspace)


def tick_until(w: budgets.Watcher, seconds: float = 10.0) -> "list[budgets.Breach]":
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        breaches = w.tick(now_too=True)
        if breaches:
            return breaches
        time.sleep(0.01)
    return []


def test_the_watcher_has_no_timer_until_a_command_runs_and_none_after(tmp_path):
    w, workspace = watcher(tmp_path, 64 << 20, 1 << 44)
    assert w.timeout_ms() is None
    assert w.before_command(0, os.geteuid(), workspace) == (64 << 20) - budgets.tree_usage(workspace)
    assert w.timeout_ms() is None  # measured, not yet running
    w.command_started(0)
    assert w.timeout_ms() is not None
    w.command_exited(0)
    w.forget(0)  # (the launcher's kill; the tick would too once no process of the uid is left)
    assert w.timeout_ms() is None


def test_the_watcher_finds_files_past_the_disk_budget(tmp_path):
    w, workspace = watcher(tmp_path, 8 << 20, 1 << 44)  # (this uid's other processes: pytest's own memory)
    w.before_command(0, os.geteuid(), workspace)
    w.command_started(0)
    assert w.tick(now_too=True) == []
    for n in range(3):
        write(os.path.join(workspace, f"f{n}"), 4 << 20)
    [breach] = tick_until(w)
    assert (breach.slot, breach.kind, breach.budget) == (0, "disk", 8 << 20)
    assert breach.used == budgets.tree_usage(workspace) > 8 << 20
    assert w.timeout_ms() is None, "a slot past its budget is no longer watched (its processes are being killed)"


@pytest.mark.skipif(os.geteuid() == 0, reason="root's processes are the whole machine's: their memory moves on its own")
def test_the_watcher_finds_processes_past_the_memory_budget(tmp_path):
    already = budgets.processes_by_uid({os.geteuid()})[os.geteuid()][1]  # pytest's own, and the rest of this uid's
    w, workspace = watcher(tmp_path, 1 << 30, already + (48 << 20))
    w.before_command(0, os.geteuid(), workspace)
    w.command_started(0)
    children = [subprocess.Popen([sys.executable, "-c", "import sys; x = bytearray(32 << 20); sys.stdout.write('ok\\n');"
                                  " sys.stdout.flush(); sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                for _ in range(2)]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline() == b"ok\n"
        [breach] = tick_until(w)
        assert (breach.kind, breach.budget) == ("memory", already + (48 << 20))
        assert breach.used >= already + (64 << 20) - (8 << 20)  # (what the rest of the uid freed meanwhile)
    finally:
        for child in children:
            child.kill()
            child.wait()


def test_a_slot_a_trifle_under_its_budget_is_measured_again_when_it_grows_past_it(tmp_path):
    w, workspace = watcher(tmp_path, 4 << 20, 1 << 44)
    write(os.path.join(workspace, "almost"), (4 << 20) - (64 << 10))  # 64 KiB left, less the directory
    w.before_command(0, os.geteuid(), workspace)
    w.command_started(0)
    assert w.tick(now_too=True) == []
    write(os.path.join(workspace, "past"), 128 << 10)  # far less than MIN_WALK_GROWTH, but past the budget
    [breach] = tick_until(w)
    assert breach.kind == "disk" and breach.used > 4 << 20


def test_a_command_that_exits_is_measured_even_when_the_disk_freed_as_much_meanwhile(tmp_path):
    # statvfs is the whole file system's: another process deleting as much as the slot wrote hides the growth
    w, workspace = watcher(tmp_path, 8 << 20, 1 << 44)
    elsewhere = tmp_path / "elsewhere"
    write(str(elsewhere), 12 << 20)
    w.before_command(0, os.geteuid(), workspace)
    w.command_started(0)
    assert w.tick(now_too=True) == []
    write(os.path.join(workspace, "big"), 12 << 20)
    os.unlink(elsewhere)
    w.command_exited(0)
    assert w.tick(now_too=True) == [], "the disk's used space did not grow: a tick alone does not walk"
    w.command_started(0)
    w.command_exited(0)
    [breach] = w.tick(now_too=True, exact=0)
    assert (breach.slot, breach.kind) == (0, "disk") and breach.used > 8 << 20
