"""stigmer's LLM forward answers 502 `stigmer_forward` when nothing listens on the host's loopback port:
that is a refused connection, failed at once with the forward's message, never retried."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, List

import pytest

from test_api import AGENT, wait_for

from stigmer_agent_runner.llm import FORWARD_REFUSAL, OpenAiClient, RetryPolicy

MESSAGE = "cannot reach the LLM at 127.0.0.1:11434 on the host (ECONNREFUSED through stigmer's forward): is the LLM server running?"


@pytest.fixture
def forward_refusing() -> Iterator[Any]:
    requests: List[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("content-length") or 0))
            requests.append(self.path)
            body = json.dumps({"error": {"message": MESSAGE, "type": FORWARD_REFUSAL}}).encode()
            self.send_response(502)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.requests = requests  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_address[1]}/v1"  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


def test_the_forwards_refusal_fails_at_once_with_its_message(client_for, forward_refusing):
    policy = RetryPolicy(max_retries=4, base_delay=0.01, max_delay=0.05)
    client = client_for(llm=OpenAiClient(forward_refusing.url, None, 10, policy))
    execution_id = client.post("/v1/executions", json={"agent": AGENT, "input": "x"}).json()["id"]
    final = wait_for(client, execution_id)
    assert final["status"] == "failed"
    assert "cannot reach the LLM at 127.0.0.1:11434 on the host" in final["error"]
    assert "answered 502" not in final["error"]
    assert len(forward_refusing.requests) == 1


def test_a_forward_that_is_down_names_the_forward_and_the_command_that_fixes_it(client_for, monkeypatch):
    # nothing listens at the forward's address: its owner (stigmer's supervisor) is not running
    import socket

    from stigmer_agent_runner import config as config_module

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv(config_module.LLM_VIA_FORWARD, "1")
    policy = RetryPolicy(max_retries=0, base_delay=0.01, max_delay=0.05)
    client = client_for(llm=OpenAiClient(f"http://127.0.0.1:{closed}/v1", None, 10, policy))
    execution_id = client.post("/v1/executions", json={"agent": AGENT, "input": "x"}).json()["id"]
    final = wait_for(client, execution_id)
    assert final["status"] == "failed"
    assert f"stigmer's LLM forward at http://127.0.0.1:{closed}/v1/chat/completions is down" in final["error"]
    assert "`stigmer server start`" in final["error"]
    assert "set llm.baseUrl" not in final["error"]
