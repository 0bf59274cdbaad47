from __future__ import annotations

import json
import os
import time
from typing import Any, Dict, List

from conftest import TOKEN
from fake_llm import answer, tool_call

AGENT = {"name": "tester", "instructions": "Do what the user asks."}


def wait_for(client: Any, execution_id: str, statuses=("succeeded", "failed", "cancelled", "interrupted"), timeout=10.0) -> Dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/v1/executions/{execution_id}").json()
        if body["status"] in statuses:
            return body
        time.sleep(0.05)
    raise AssertionError(f"{execution_id} did not reach {statuses}: {body}")


def sse(text: str) -> List[Dict[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields: Dict[str, str] = {}
        for line in block.split("\n"):
            if line.startswith(":") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        if "event" in fields:
            events.append({"id": int(fields["id"]), "event": fields["event"], "data": json.loads(fields["data"])})
    return events


def test_health_and_readiness_need_no_token(client_for):
    client = client_for()
    assert client.get("/healthz", headers={"Authorization": ""}).status_code == 200
    assert client.get("/readyz", headers={"Authorization": ""}).json() == {"ready": True}


def test_v1_needs_the_token(client_for):
    client = client_for()
    assert client.get("/v1/executions", headers={"Authorization": ""}).status_code == 401
    assert client.get("/v1/executions", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/v1/executions").status_code == 200


def test_validation_names_the_field(client_for):
    client = client_for()
    response = client.post("/v1/executions", json={"agent": {"instructions": "x"}, "input": "hi"})
    assert response.status_code == 422
    assert response.json() == {"error": "agent.name is required", "field": "agent.name"}
    assert client.post("/v1/executions", json={"agent": AGENT}).json()["field"] == "input"
    assert client.post("/v1/executions", json={"input": "x"}).json()["field"] == "agent"
    bad_tools = client.post("/v1/executions", json={"agent": {**AGENT, "tools": ["rm_rf"]}, "input": "x"})
    assert bad_tools.status_code == 422 and bad_tools.json()["field"] == "agent.tools"
    bad_steps = client.post("/v1/executions", json={"agent": {**AGENT, "max_steps": 0}, "input": "x"})
    assert bad_steps.json()["field"] == "agent.max_steps"
    malformed = client.post("/v1/executions", content=b"{nope", headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert client.get("/v1/executions/nope").status_code == 404


def test_upload_over_the_limit_is_413(client_for):
    client = client_for(max_upload_bytes=1000)
    response = client.post("/v1/executions", data={"execution": json.dumps({"agent": AGENT, "input": "x"})},
                           files=[("files", ("big.bin", b"x" * 5000))])
    assert response.status_code == 413


def test_multipart_execution_reads_writes_runs_and_streams(client_for, fake_llm):
    llm = fake_llm([
        tool_call("read_file", {"path": "notes.txt"}),
        tool_call("write_file", {"path": "out/summary.txt", "content": "summary of notes"}),
        tool_call("run_command", {"command": "ls; cat out/summary.txt"}),
        tool_call("read_file", {"path": "../etc/passwd"}),
        answer("All done."),
    ])
    client = client_for(llm_base_url=llm.url, llm_model="fake-model")
    execution = {"agent": {**AGENT, "max_steps": 10}, "input": "summarize notes.txt"}
    response = client.post(
        "/v1/executions",
        data={"execution": json.dumps(execution)},
        files=[("files", ("notes.txt", b"the notes")), ("files", ("data.csv", b"a,b")),
               ("files", ("../escape.txt", b"should stay inside"))],
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    execution_id = body["id"]

    final = wait_for(client, execution_id)
    assert final["status"] == "succeeded", final
    assert final["result"] == "All done."
    assert final["created_at"] and final["started_at"] and final["finished_at"]
    assert sorted(final["files"]) == ["data.csv", "escape.txt", "notes.txt"]

    directory = os.path.join(client.api.workspace_root, execution_id)
    assert open(os.path.join(directory, "out/summary.txt")).read() == "summary of notes"
    assert open(os.path.join(directory, "escape.txt")).read() == "should stay inside"
    assert not os.path.exists(os.path.join(client.api.workspace_root, "escape.txt"))

    events = sse(client.get(f"/v1/executions/{execution_id}/events").text)
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "status" and events[0]["data"]["status"] == "queued"
    assert events[-1]["event"] == "status" and events[-1]["data"]["status"] == "succeeded"
    assert "final" in kinds and "model_turn" in kinds
    results = [e["data"] for e in events if e["event"] == "tool_result"]
    assert [r["name"] for r in results] == ["read_file", "write_file", "run_command", "read_file"]
    assert results[0]["ok"] and results[0]["output"] == "the notes"
    assert results[2]["ok"] and results[2]["exit_code"] == 0 and "summary of notes" in results[2]["output"]
    assert not results[3]["ok"] and "absolute" not in results[3]["output"] and "leaves the workspace" in results[3]["output"]
    calls = [e["data"] for e in events if e["event"] == "tool_call"]
    assert calls[1]["arguments"] == {"path": "out/summary.txt", "content": "summary of notes"}

    # Resume after the third event.
    resumed = sse(client.get(f"/v1/executions/{execution_id}/events", headers={"Last-Event-ID": "3"}).text)
    assert [e["id"] for e in resumed] == list(range(4, len(events) + 1))

    # The model got the OpenAI tool-calling protocol: tools, then tool results keyed by call id.
    first = llm.requests[0]["body"]
    assert first["model"] == "fake-model" and first["stream"] is False
    assert {t["function"]["name"] for t in first["tools"]} == {"list_files", "read_file", "write_file", "run_command"}
    assert "notes.txt" in first["messages"][0]["content"]
    second = llm.requests[1]["body"]["messages"]
    assert second[-2]["tool_calls"][0]["function"]["name"] == "read_file"
    assert second[-1] == {"role": "tool", "tool_call_id": second[-2]["tool_calls"][0]["id"], "content": "the notes"}

    listed = client.get("/v1/executions").json()["executions"]
    assert listed[0]["id"] == execution_id


def test_list_is_newest_first(client_for, fake_llm):
    llm = fake_llm([answer("a"), answer("b")])
    client = client_for(llm_base_url=llm.url)
    first = client.post("/v1/executions", json={"agent": AGENT, "input": "1"}).json()["id"]
    second = client.post("/v1/executions", json={"agent": AGENT, "input": "2"}).json()["id"]
    ids = [e["id"] for e in client.get("/v1/executions").json()["executions"]]
    assert ids[:2] == [second, first]


def test_unreachable_llm_fails_with_a_clear_error(client_for):
    client = client_for(llm_base_url="http://127.0.0.1:9/v1")
    execution_id = client.post("/v1/executions", json={"agent": AGENT, "input": "hi"}).json()["id"]
    final = wait_for(client, execution_id)
    assert final["status"] == "failed"
    assert final["error"].startswith("cannot reach the LLM at http://127.0.0.1:9/v1/chat/completions")
    assert "STIGMER_LLM_BASE_URL" in final["error"] and "llm.baseUrl" in final["error"]


def test_max_steps_ends_the_loop(client_for, fake_llm):
    llm = fake_llm([tool_call("list_files", {})] * 5)
    client = client_for(llm_base_url=llm.url)
    execution_id = client.post("/v1/executions", json={"agent": {**AGENT, "max_steps": 2}, "input": "x"}).json()["id"]
    final = wait_for(client, execution_id)
    assert final["status"] == "failed" and "max_steps (2)" in final["error"]
    assert len(llm.requests) == 2


def test_tools_outside_the_agents_subset_are_refused(client_for, fake_llm):
    llm = fake_llm([tool_call("run_command", {"command": "touch x"}), tool_call("list_files", {"path": "nope"}), answer("ok")])
    client = client_for(llm_base_url=llm.url)
    execution_id = client.post("/v1/executions", json={"agent": {**AGENT, "tools": ["list_files"]}, "input": "x"}).json()["id"]
    assert wait_for(client, execution_id)["status"] == "succeeded"
    results = [e["data"] for e in sse(client.get(f"/v1/executions/{execution_id}/events").text) if e["event"] == "tool_result"]
    assert not results[0]["ok"] and "not available" in results[0]["output"]
    assert not results[1]["ok"]
    assert [t["function"]["name"] for t in llm.requests[0]["body"]["tools"]] == ["list_files"]


def test_cancel_a_running_execution(client_for, fake_llm):
    llm = fake_llm([tool_call("run_command", {"command": "sleep 30"}), answer("never")])
    client = client_for(llm_base_url=llm.url)
    execution_id = client.post("/v1/executions", json={"agent": AGENT, "input": "x"}).json()["id"]
    wait_for(client, execution_id, statuses=("running",))
    deadline = time.monotonic() + 5
    while not any(e.type == "tool_call" for e in client.api.store.events_after(execution_id)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert client.post(f"/v1/executions/{execution_id}/cancel").status_code == 202
    final = wait_for(client, execution_id, timeout=5)
    assert final["status"] == "cancelled"
    assert client.post(f"/v1/executions/{execution_id}/cancel").status_code == 409


def test_pool_is_bounded_and_queued_can_be_cancelled(client_for, fake_llm):
    llm = fake_llm([{"content": "slow", "delay": 1.0}, {"content": "second"}])
    client = client_for(llm_base_url=llm.url, max_concurrency=1)
    first = client.post("/v1/executions", json={"agent": AGENT, "input": "1"}).json()["id"]
    second = client.post("/v1/executions", json={"agent": AGENT, "input": "2"}).json()["id"]
    wait_for(client, first, statuses=("running",))
    assert client.get(f"/v1/executions/{second}").json()["status"] == "queued"
    assert client.post(f"/v1/executions/{second}/cancel").status_code == 202
    assert wait_for(client, first)["status"] == "succeeded"
    assert client.get(f"/v1/executions/{second}").json()["status"] == "cancelled"
    assert len(llm.requests) == 1


def test_restart_interrupts_running_and_runs_queued(make_config, fake_llm):
    from starlette.testclient import TestClient

    from stigmer_agent_runner import app as app_module
    from stigmer_agent_runner.store import RUNNING, Store

    llm = fake_llm([answer("resumed")])
    config = make_config(llm_base_url=llm.url)
    # A previous process died with one execution running and one queued.
    store = Store(config.data)
    store.create("ex-old-running", AGENT, "x", [])
    store.transition("ex-old-running", RUNNING)
    store.create("ex-old-queued", AGENT, "y", [])
    store.close()
    os.makedirs(os.path.join(config.workspace, "ex-old-queued"), exist_ok=True)

    application, api = app_module.create(config)
    with TestClient(application, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        interrupted = client.get("/v1/executions/ex-old-running").json()
        assert interrupted["status"] == "interrupted" and "stopped" in interrupted["error"]
        assert wait_for(client, "ex-old-queued")["status"] == "succeeded"
        events = sse(client.get("/v1/executions/ex-old-running/events").text)
        assert events[-1]["data"]["status"] == "interrupted"
    api.store.close()


def test_shutdown_interrupts_what_outlives_the_grace_period(make_config, fake_llm):
    from starlette.testclient import TestClient

    from stigmer_agent_runner import app as app_module

    llm = fake_llm([tool_call("run_command", {"command": "sleep 30"})])
    application, api = app_module.create(make_config(llm_base_url=llm.url, shutdown_grace_seconds=0.3))
    with TestClient(application, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        execution_id = client.post("/v1/executions", json={"agent": AGENT, "input": "x"}).json()["id"]
        wait_for(client, execution_id, statuses=("running",))
        time.sleep(0.3)
    final = api.store.get(execution_id)
    assert final.status == "interrupted"
    api.store.close()


def test_anthropic_translation():
    from stigmer_agent_runner.llm import AnthropicClient

    system, messages = AnthropicClient.translate([
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "looking", "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "read_file", "arguments": "{\"path\": \"a\"}"}},
            {"id": "t2", "type": "function", "function": {"name": "list_files", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "A"},
        {"role": "tool", "tool_call_id": "t2", "content": "B"},
    ])
    assert system == "be brief"
    assert messages[1]["content"][1] == {"type": "tool_use", "id": "t1", "name": "read_file", "input": {"path": "a"}}
    assert messages[2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1", "content": "A"},
        {"type": "tool_result", "tool_use_id": "t2", "content": "B"}]}
