"""`GET /v1/events`: the state changes of all executions as one Server-Sent Events stream.

Each message is the current summary of one execution (id, agent, status, steps so far, the tool being
called, error, timings) with the store's change sequence number as its SSE `id:` (see
Store.last_change). A reconnect with `Last-Event-ID: N` gets, in order, the executions that changed
after N, so nothing is lost or repeated. A client without one (or with one past the store's end: a
new data volume) first gets `reset`, the newest `limit` executions (oldest first) and `synced` with
the id to resume from.

Cost, by design:
- idle: each connection is a coroutine waiting on its own asyncio.Event, woken only when an execution
  changes; a comment line every SSE_KEEPALIVE_SECONDS lets both ends notice a dead peer;
- a slow client: nothing is queued per client. Each one has a cursor in the store and reads the
  changes after it when it can send again; the changes of one execution read in one go are sent as
  one summary, so a client that falls behind catches up with fewer messages, and one that stops
  reading holds one batch and its socket's buffers (uvicorn waits for the socket to drain), never
  the others.
"""
from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from typing import Any, AsyncIterator, Dict, List, Optional, Set, Tuple

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive

from .store import Store

SSE_KEEPALIVE_SECONDS = 15.0
SNAPSHOT_LIMIT_DEFAULT = 100
SNAPSHOT_LIMIT_MAX = 1000
BATCH = 500


@dataclass
class FeedClient:
    """One open stream (for tests and the log): where it is and what it was sent."""
    number: int
    cursor: int = 0
    sent_bytes: int = 0
    messages: int = 0


def sse(event: str, data: Dict[str, Any], event_id: Optional[int] = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode("utf-8")


class ExecutionFeed:
    def __init__(self, store: Store, stopped: asyncio.Event, keepalive_seconds: float = SSE_KEEPALIVE_SECONDS) -> None:
        self.store = store
        self.stopped = stopped
        self.keepalive_seconds = keepalive_seconds
        self.clients: Dict[int, FeedClient] = {}
        self._wakes: Set[asyncio.Event] = set()
        self._numbers = itertools.count(1)

    def notify(self, _execution_id: str = "") -> None:
        """An execution changed (or the service is stopping): wake every stream."""
        for wake in self._wakes:
            wake.set()

    def summary(self, execution_id: str) -> Optional[Dict[str, Any]]:
        execution = self.store.get(execution_id)
        if execution is None:
            return None
        steps, tool = self.store.progress(execution_id)
        return {
            "id": execution.id,
            "agent": execution.agent.get("name"),
            "status": execution.status,
            "steps": steps,
            "tool": tool,
            "error": execution.error,
            "created_at": execution.created_at,
            "started_at": execution.started_at,
            "finished_at": execution.finished_at,
        }

    def changed_after(self, after: int) -> Tuple[List[Tuple[int, Dict[str, Any]]], int]:
        """The executions changed after `after`, one summary each with the sequence number of its
        latest change, in that order; and the last sequence number read."""
        last: Dict[str, int] = {}
        scanned = after
        for seq, execution_id in self.store.changes_after(after, BATCH):
            last[execution_id] = seq
            scanned = seq
        out = []
        for execution_id, seq in sorted(last.items(), key=lambda item: item[1]):
            summary = self.summary(execution_id)
            if summary is not None:
                out.append((seq, summary))
        return out, scanned

    async def endpoint(self, request: Request) -> Response:
        raw = request.headers.get("last-event-id") or request.query_params.get("after")
        after: Optional[int] = None
        if raw is not None and raw.strip() != "":
            if not raw.strip().isdigit():
                return JSONResponse({"error": "Last-Event-ID must be an event id (integer)", "field": "Last-Event-ID"}, status_code=422)
            after = int(raw)
        limit_raw = request.query_params.get("limit", str(SNAPSHOT_LIMIT_DEFAULT))
        if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= SNAPSHOT_LIMIT_MAX:
            return JSONResponse({"error": f"limit must be an integer from 1 to {SNAPSHOT_LIMIT_MAX}", "field": "limit"}, status_code=422)
        return StreamingResponse(
            self.stream(after, int(limit_raw), request.receive),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def stream(self, after: Optional[int], limit: int, receive: Optional[Receive] = None) -> AsyncIterator[bytes]:
        client = FeedClient(next(self._numbers))
        wake = asyncio.Event()
        self._wakes.add(wake)
        self.clients[client.number] = client
        gone = asyncio.Event()
        # A client that closes its connection is noticed at once, not at the next keep-alive: its
        # request's receive() answers http.disconnect (no polling: one waiting task per stream).
        watcher = asyncio.ensure_future(self._watch_disconnect(receive, gone, wake)) if receive else None

        def out(chunk: bytes) -> bytes:
            client.sent_bytes += len(chunk)
            client.messages += 1
            return chunk

        try:
            yield out(b"retry: 2000\n\n")
            head = self.store.last_change()
            if after is None or after > head:
                yield out(sse("reset", {"seq": head}))
                for execution in reversed(self.store.list(limit)):
                    summary = self.summary(execution.id)
                    if summary is not None:
                        yield out(sse("execution", summary))
                yield out(sse("synced", {"seq": head}, head))
                after = head
            client.cursor = after
            while True:
                wake.clear()
                changes, scanned = self.changed_after(client.cursor)
                for seq, summary in changes:
                    yield out(sse("execution", summary, seq))
                if scanned > client.cursor:
                    client.cursor = scanned
                    continue
                if self.stopped.is_set() or gone.is_set():
                    return  # the service is stopping (the client reconnects to the next one), or the client left
                try:
                    await asyncio.wait_for(wake.wait(), self.keepalive_seconds)
                except asyncio.TimeoutError:
                    yield out(b": keep-alive\n\n")
        finally:
            if watcher is not None:
                watcher.cancel()
            self._wakes.discard(wake)
            self.clients.pop(client.number, None)

    @staticmethod
    async def _watch_disconnect(receive: Receive, gone: asyncio.Event, wake: asyncio.Event) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
                wake.set()
                return
