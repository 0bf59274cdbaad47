"""A fake OpenAI-compatible chat-completions server on a real socket, replaying a script."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List


def tool_call(name: str, arguments: Dict[str, Any], call_id: str = "") -> Dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments, "id": call_id}]}


def answer(text: str) -> Dict[str, Any]:
    return {"content": text}


class FakeLlm:
    """Each POST /v1/chat/completions consumes the next script step:
    {"content": str} or {"tool_calls": [{"name", "arguments", "id"?}]}, optionally {"delay": s} or {"status": code}.
    """

    def __init__(self, script: List[Dict[str, Any]]) -> None:
        self.script = list(script)
        self.requests: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    step = fake.script.pop(0) if fake.script else {"content": "done"}
                    n = len(fake.requests)
                if step.get("delay"):
                    time.sleep(step["delay"])
                if step.get("status"):
                    self._send(step["status"], {"error": {"message": "scripted failure"}})
                    return
                message: Dict[str, Any] = {"role": "assistant", "content": step.get("content")}
                finish = "stop"
                if step.get("tool_calls"):
                    finish = "tool_calls"
                    message["tool_calls"] = [
                        {"id": c.get("id") or f"call_{n}_{i}", "type": "function",
                         "function": {"name": c["name"], "arguments": c["arguments"] if isinstance(c["arguments"], str) else json.dumps(c["arguments"])}}
                        for i, c in enumerate(step["tool_calls"])
                    ]
                self._send(200, {"id": f"chatcmpl-{n}", "object": "chat.completion", "created": int(time.time()),
                                 "model": body.get("model"),
                                 "choices": [{"index": 0, "message": message, "finish_reason": finish}]})

            def _send(self, status: int, payload: Dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
