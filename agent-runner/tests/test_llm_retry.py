"""LLM calls retried on 429, 5xx and timeouts, against fake OpenAI-compatible and Anthropic servers on sockets."""
from __future__ import annotations

import time
from typing import Any, Dict, List

import pytest

from fake_llm import answer, failure, tool_call
from test_api import AGENT, sse, wait_for

from stigmer_agent_runner.llm import AnthropicClient, OpenAiClient, RetryPolicy, retry_after_seconds

FAST = RetryPolicy(max_retries=4, base_delay=0.01, max_delay=0.05, max_retry_after=0.05)


def events_of(client: Any, execution_id: str, kind: str) -> List[Dict[str, Any]]:
    return [e["data"] for e in sse(client.get(f"/v1/executions/{execution_id}/events").text) if e["event"] == kind]


def test_429_and_5xx_are_retried_and_each_retry_is_an_event(client_for, fake_llm):
    llm = fake_llm([failure(429, retry_after="0"), failure(503), failure(502), answer("made it")])
    client = client_for(llm=OpenAiClient(llm.url, None, 10, FAST))
    execution_id = client.post("/v1/executions", json={"agent": AGENT, "input": "x"}).json()["id"]
    final = wait_for(client, execution_id)
    assert final["status"] == "succeeded" and final["result"] == "made it"
    assert len(llm.requests) == 4
    retries = events_of(client, execution_id, "llm_retry")
    assert [(r["step"], r["attempt"], r["max_attempts"]) for r in retries] == [(1, 2, 5), (1, 3, 5), (1, 4, 5)]
    assert [r["reason"] for r in retries] == ["429 Too Many Requests", "503 Service Unavailable", "502 Bad Gateway"]
    assert retries[0]["delay_seconds"] == 0  # the server's Retry-After
    assert all(0 < r["delay_seconds"] <= FAST.max_delay for r in retries[1:])


def test_retries_are_bounded(client_for, fake_llm):
    llm = fake_llm([failure(500)] * 5)
    policy = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.01)
    client = client_for(llm=OpenAiClient(llm.url, None, 10, policy))
    execution_id = client.post("/v1/executions", json={"agent": AGENT, "input": "x"}).json()["id"]
    final = wait_for(client, execution_id)
    assert final["status"] == "failed" and "answered 500" in final["error"]
    assert len(llm.requests) == 3
    assert [r["attempt"] for r in events_of(client, execution_id, "llm_retry")] == [2, 3]


def test_other_4xx_are_not_retried(client_for, fake_llm):
    llm = fake_llm([failure(400), answer("never")])
    client = client_for(llm=OpenAiClient(llm.url, None, 10, FAST))
    execution_id = client.post("/v1/executions", json={"agent": AGENT, "input": "x"}).json()["id"]
    final = wait_for(client, execution_id)
    assert final["status"] == "failed" and "answered 400" in final["error"]
    assert len(llm.requests) == 1 and events_of(client, execution_id, "llm_retry") == []


def test_a_timeout_is_retried(client_for, fake_llm):
    llm = fake_llm([{"content": "too late", "delay": 3}, answer("in time")])
    client = client_for(llm=OpenAiClient(llm.url, None, 0.3, FAST))
    execution_id = client.post("/v1/executions", json={"agent": AGENT, "input": "x"}).json()["id"]
    final = wait_for(client, execution_id)
    assert final["status"] == "succeeded" and final["result"] == "in time"
    assert [r["reason"] for r in events_of(client, execution_id, "llm_retry")] == ["timeout"]


def test_a_long_retry_after_is_capped(client_for, fake_llm):
    llm = fake_llm([failure(429, retry_after="3600"), answer("ok")])
    client = client_for(llm=OpenAiClient(llm.url, None, 10, FAST))
    execution_id = client.post("/v1/executions", json={"agent": AGENT, "input": "x"}).json()["id"]
    assert wait_for(client, execution_id)["status"] == "succeeded"
    assert [r["delay_seconds"] for r in events_of(client, execution_id, "llm_retry")] == [FAST.max_retry_after]


def test_cancel_interrupts_the_wait(client_for, fake_llm):
    llm = fake_llm([failure(429, retry_after="3600"), answer("never")])
    client = client_for(llm=OpenAiClient(llm.url, None, 10, RetryPolicy(max_retry_after=3600)))
    execution_id = client.post("/v1/executions", json={"agent": AGENT, "input": "x"}).json()["id"]
    deadline = time.monotonic() + 10
    while not any(e.type == "llm_retry" for e in client.api.store.events_after(execution_id)):
        assert time.monotonic() < deadline, "no llm_retry event"
        time.sleep(0.02)
    assert client.post(f"/v1/executions/{execution_id}/cancel").status_code == 202
    final = wait_for(client, execution_id, timeout=10)
    assert final["status"] == "cancelled"
    assert len(llm.requests) == 1
    assert events_of(client, execution_id, "llm_retry")[0]["delay_seconds"] == 3600


def test_anthropic_messages_on_a_socket_with_retries(client_for, fake_anthropic):
    llm = fake_anthropic([
        tool_call("write_file", {"path": "a.txt", "content": "A"}),
        failure(529, retry_after="0"),
        failure(429, retry_after_ms="10"),
        answer("wrote a.txt"),
    ])
    client = client_for(llm=AnthropicClient(llm.url, "sk-ant-test", 10, FAST))
    execution_id = client.post("/v1/executions", json={"agent": {**AGENT, "model": "claude-x"}, "input": "write"}).json()["id"]
    final = wait_for(client, execution_id)
    assert final["status"] == "succeeded" and final["result"] == "wrote a.txt", final
    retries = events_of(client, execution_id, "llm_retry")
    assert [(r["step"], r["reason"], r["delay_seconds"]) for r in retries] == [
        (2, "529 overloaded_error", 0), (2, "429 Too Many Requests", 0.01)]
    assert len(llm.requests) == 4
    first, last = llm.requests[0], llm.requests[-1]
    assert first["headers"]["x-api-key"] == "sk-ant-test" and first["headers"]["anthropic-version"] == "2023-06-01"
    assert first["body"]["model"] == "claude-x" and first["body"]["system"].startswith("Do what the user asks.")
    assert {t["name"] for t in first["body"]["tools"]} == {"list_files", "read_file", "write_file", "run_command"}
    assert all("input_schema" in t for t in first["body"]["tools"])
    tool_use = last["body"]["messages"][1]["content"][0]
    assert tool_use["type"] == "tool_use" and tool_use["input"] == {"path": "a.txt", "content": "A"}
    result = last["body"]["messages"][2]["content"][0]
    assert result["type"] == "tool_result" and result["tool_use_id"] == tool_use["id"]


def test_anthropic_refusal_is_not_retried(client_for, fake_anthropic):
    llm = fake_anthropic([answer("never")], api_key="the-right-key")
    client = client_for(llm=AnthropicClient(llm.url, "a-wrong-key", 10, FAST))
    execution_id = client.post("/v1/executions", json={"agent": AGENT, "input": "x"}).json()["id"]
    final = wait_for(client, execution_id)
    assert final["status"] == "failed" and "answered 401" in final["error"] and "authentication_error" in final["error"]
    assert len(llm.requests) == 1


@pytest.mark.parametrize("headers,expected", [
    ({"retry-after": "2"}, 2.0),
    ({"retry-after": "1.5"}, 1.5),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:30 GMT"}, 30.0),  # an HTTP date, 30 s after `now`
    ({"retry-after": "Wed, 21 Oct 2015 07:27:00 GMT"}, 0.0),  # in the past
    ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
    ({"retry-after": "soon"}, None),
    ({"retry-after": "²"}, None),
    ({}, None),
])
def test_retry_after_values(headers, expected):
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert retry_after_seconds(headers, now) == expected


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0, max_retry_after=60.0)
    for retry, high in ((1, 1.0), (2, 2.0), (3, 4.0), (6, 30.0), (10, 30.0)):
        delay = policy.delay(retry, None)
        assert high / 2 <= delay <= high
    assert policy.delay(1, 3600.0) == 60.0
    assert policy.delay(1, 5.0) == 5.0
