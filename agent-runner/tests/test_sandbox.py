from __future__ import annotations

from conftest import requires_sandbox

from stigmer_agent_runner.sandbox import OutputCap
from stigmer_agent_runner.sandbox_launcher import Settings


def test_output_cap_keeps_head_and_tail_and_counts_the_rest():
    cap = OutputCap(30)
    for _ in range(1000):
        cap.feed(b"0123456789")
    cap.feed(b"END")
    assert len(cap.head) == 20 and len(cap.tail) == 10
    assert cap.dropped == 10003 - 30
    text = cap.text()
    assert text.startswith("01234567890123456789\n… [9973 bytes omitted] …\n") and text.endswith("END")


def test_output_cap_under_the_limit_is_the_whole_output():
    cap = OutputCap(100)
    cap.feed(b"hello ")
    cap.feed(b"world")
    assert cap.text() == "hello world" and cap.dropped == 0


def test_slot_pool_is_twice_the_concurrency_above_the_uid_base():
    settings = Settings({"STIGMER_MAX_CONCURRENCY": "3", "STIGMER_SANDBOX_UID_BASE": "50000"})
    assert settings.slots == 6
    assert [settings.slot_id(s) for s in (0, 5)] == [50000, 50005]
    assert settings.slot_of(50005) == 5 and settings.slot_of(50006) is None and settings.slot_of(10001) is None


def test_the_service_uid_may_not_be_a_sandbox_uid():
    import pytest

    from stigmer_agent_runner.config import ConfigError

    with pytest.raises(ConfigError, match="inside the sandbox uid range"):
        Settings({"STIGMER_SERVICE_UID": "61001"})


@requires_sandbox
def test_the_launcher_refuses_what_is_not_an_execution_of_ours(workspace_root):
    import asyncio
    import os

    from stigmer_agent_runner.sandbox import Sandbox, SandboxError

    sandbox = Sandbox.from_env(os.environ)
    outside = os.path.join(workspace_root, "..", "..")
    link = os.path.join(workspace_root, "link")
    os.symlink("/etc", link)

    async def attempts():
        refused = []
        for message in ({"op": "acquire", "directory": "/etc"}, {"op": "acquire", "directory": outside},
                        {"op": "acquire", "directory": link}, {"op": "run", "slot": 0, "command": "id"},
                        {"op": "kill", "slot": 99}, {"op": "reclaim", "directory": workspace_root}, {"op": "chmod"}):
            try:
                await sandbox._request(message)
            except SandboxError as error:
                refused.append(str(error))
        return refused

    refused = asyncio.run(attempts())
    assert len(refused) == 7, refused
    assert "not an execution directory" in refused[0] and "not in use" in refused[3] and "unknown operation" in refused[6]
