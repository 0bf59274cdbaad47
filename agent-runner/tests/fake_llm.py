"""Fake LLM servers on real sockets, replaying a script: OpenAI-compatible chat completions and
Anthropic Messages. Each speaks its protocol's request and response shapes (and error bodies)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple


def tool_call(name: str, arguments: Dict[str, Any], call_id: str = "") -> Dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments, "id": call_id}]}


def answer(text: str) -> Dict[str, Any]:
    return {"content": text}


def failure(status: int, retry_after: Optional[str] = None, **extra: Any) -> Dict[str, Any]:
    step: Dict[str, Any] = {"status": status, **extra}
    if retry_after is not None:
        step["retry_after"] = retry_after
    return step


class _ScriptedServer:
    """Each POST to `path` consumes the next script step:
    {"content": str} or {"tool_calls": [{"name", "arguments", "id"?}]}, optionally with {"delay": s}
    (the answer comes that late), or {"status": code, "retry_after"?: str, "retry_after_ms"?: str}.
    """

    path = ""

    def __init__(self, script: List[Dict[str, Any]]) -> None:
        self.script = list(script)
        self.requests: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path != fake.path:
                    self._send(404, {"error": f"no route {self.path}"})
                    return
                with fake._lock:
                    fake.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": body})
                    step = fake.script.pop(0) if fake.script else {"content": "done"}
                    n = len(fake.requests)
                if step.get("delay"):
                    time.sleep(step["delay"])
                problem = fake.check(self.headers, body)
                if problem:
                    self._send(*problem)
                    return
                if step.get("status"):
                    headers = {}
                    if "retry_after" in step:
                        headers["retry-after"] = step["retry_after"]
                    if "retry_after_ms" in step:
                        headers["retry-after-ms"] = step["retry_after_ms"]
                    self._send(step["status"], fake.error_body(step["status"]), headers)
                    return
                self._send(200, fake.answer_body(step, body, n))

            def _send(self, status: int, payload: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout under test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def check(self, headers: Any, body: Dict[str, Any]) -> Optional[Tuple[int, Dict[str, Any]]]:
        return None

    def error_body(self, status: int) -> Dict[str, Any]:
        raise NotImplementedError

    def answer_body(self, step: Dict[str, Any], body: Dict[str, Any], n: int) -> Dict[str, Any]:
        raise NotImplementedError

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeLlm(_ScriptedServer):
    """OpenAI-compatible: POST /v1/chat/completions."""

    path = "/v1/chat/completions"

    def error_body(self, status: int) -> Dict[str, Any]:
        return {"error": {"message": "scripted failure", "type": "rate_limit_exceeded" if status == 429 else "server_error"}}

    def answer_body(self, step: Dict[str, Any], body: Dict[str, Any], n: int) -> Dict[str, Any]:
        message: Dict[str, Any] = {"role": "assistant", "content": step.get("content")}
        finish = "stop"
        if step.get("tool_calls"):
            finish = "tool_calls"
            message["tool_calls"] = [
                {"id": c.get("id") or f"call_{n}_{i}", "type": "function",
                 "function": {"name": c["name"], "arguments": c["arguments"] if isinstance(c["arguments"], str) else json.dumps(c["arguments"])}}
                for i, c in enumerate(step["tool_calls"])
            ]
        return {"id": f"chatcmpl-{n}", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model"), "choices": [{"index": 0, "message": message, "finish_reason": finish}]}


ANTHROPIC_ERRORS = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error",
                    500: "api_error", 529: "overloaded_error"}


class FakeAnthropic(_ScriptedServer):
    """Anthropic Messages: POST /v1/messages, with the API's checks on headers and message order."""

    path = "/v1/messages"

    def __init__(self, script: List[Dict[str, Any]], api_key: str = "sk-ant-test") -> None:
        self.api_key = api_key
        super().__init__(script)

    def check(self, headers: Any, body: Dict[str, Any]) -> Optional[Tuple[int, Dict[str, Any]]]:
        if headers.get("x-api-key") != self.api_key:
            return 401, self._error(401, "invalid x-api-key")
        if not headers.get("anthropic-version"):
            return 400, self._error(400, "anthropic-version: header is required")
        if not isinstance(body.get("max_tokens"), int) or not body.get("model"):
            return 400, self._error(400, "model and max_tokens are required")
        messages = body.get("messages") or []
        roles = [m.get("role") for m in messages]
        if not roles or roles[0] != "user" or any(a == b for a, b in zip(roles, roles[1:])):
            return 400, self._error(400, f"messages: roles must alternate starting with user, got {roles}")
        for message in messages:
            if any(block.get("type") == "system" for block in message.get("content", [])):
                return 400, self._error(400, "system belongs in the top-level system field")
        return None

    @staticmethod
    def _error(status: int, message: str) -> Dict[str, Any]:
        return {"type": "error", "error": {"type": ANTHROPIC_ERRORS.get(status, "api_error"), "message": message}}

    def error_body(self, status: int) -> Dict[str, Any]:
        return self._error(status, "scripted failure")

    def answer_body(self, step: Dict[str, Any], body: Dict[str, Any], n: int) -> Dict[str, Any]:
        content: List[Dict[str, Any]] = []
        if step.get("content"):
            content.append({"type": "text", "text": step["content"]})
        for i, call in enumerate(step.get("tool_calls") or []):
            content.append({"type": "tool_use", "id": call.get("id") or f"toolu_{n}_{i}", "name": call["name"],
                            "input": call["arguments"]})
        return {"id": f"msg_{n}", "type": "message", "role": "assistant", "model": body.get("model"),
                "content": content, "stop_reason": "tool_use" if step.get("tool_calls") else "end_turn",
                "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 5}}
