"""GET /v1/events, the all-executions stream, on a real uvicorn server (a socket per client, so a
client that stops reading really stops reading): ordering, resume with Last-Event-ID, many clients,
a stalled client."""
from __future__ import annotations

import asyncio
import json
import queue
import socket
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import httpx
import pytest
import uvicorn

from conftest import TOKEN
from fake_llm import answer, tool_call

AGENT = {"name": "feeder", "instructions": "Do what the user asks."}
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TERMINAL = {"succeeded", "failed", "cancelled", "interrupted"}
ORDER = {"queued": 0, "running": 1, "succeeded": 2, "failed": 2, "cancelled": 2, "interrupted": 2}


class LiveServer:
    def __init__(self, application: Any, api: Any) -> None:
        self.api = api
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(application, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)

    def _run(self) -> None:
        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            await self.server.serve(sockets=[self.sock])
        asyncio.run(serve())

    def call(self, fn: Callable[[], Any]) -> None:
        """Runs fn on the server's event loop (the feed's notify is not thread-safe)."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(fn)

    def stop(self) -> None:
        # as RunnerServer does on SIGTERM: the engine first (streams end), then uvicorn
        if self.loop is not None:
            asyncio.run_coroutine_threadsafe(self.api.engine.shutdown(0.5), self.loop).result(timeout=15)
        self.server.should_exit = True
        self.thread.join(timeout=15)


class SseReader:
    """Reads one stream on a plain socket in a thread (close() interrupts it at once); the test takes
    parsed messages from a queue with deadlines."""

    def __init__(self, url: str, headers: Optional[Dict[str, str]] = None) -> None:
        self.messages: "queue.Queue[Dict[str, Any]]" = queue.Queue()
        self.status: Optional[int] = None
        parsed = httpx.URL(url)
        self._sock = socket.create_connection((parsed.host, parsed.port), timeout=5)
        self._sock.settimeout(None)
        lines = [f"GET {parsed.raw_path.decode()} HTTP/1.1", f"Host: {parsed.host}"]
        lines += [f"{k}: {v}" for k, v in {**AUTH, **(headers or {})}.items()]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _body(self) -> Iterator[bytes]:
        """The response body, de-chunked."""
        stream = self._sock.makefile("rb")
        status_line = stream.readline()
        self.status = int(status_line.split()[1])
        chunked = False
        while True:
            header = stream.readline()
            if header in (b"\r\n", b""):
                break
            if header.lower().startswith(b"transfer-encoding:") and b"chunked" in header.lower():
                chunked = True
        if not chunked:
            yield stream.read()
            return
        while True:
            size = int(stream.readline().split(b";")[0], 16)
            if size == 0:
                return
            yield stream.read(size)
            stream.readline()

    def _read(self) -> None:
        try:
            buffer = b""
            fields: Dict[str, str] = {}
            for chunk in self._body():
                buffer += chunk
                while b"\n" in buffer:
                    raw, buffer = buffer.split(b"\n", 1)
                    line = raw.decode()
                    if line == "":
                        if "event" in fields:
                            self.messages.put({"id": int(fields["id"]) if "id" in fields else None,
                                               "event": fields["event"], "data": json.loads(fields.get("data", "null"))})
                        fields = {}
                    elif not line.startswith(":"):
                        key, _, value = line.partition(":")
                        fields[key] = value[1:] if value.startswith(" ") else value
        except (OSError, ValueError):
            pass
        finally:
            self.messages.put({"event": "closed", "id": None, "data": None})

    def take(self, until: Callable[[Dict[str, Any]], bool], timeout: float = 10.0) -> List[Dict[str, Any]]:
        deadline = time.monotonic() + timeout
        got: List[Dict[str, Any]] = []
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"timed out; got {got}"
            try:
                message = self.messages.get(timeout=remaining)
            except queue.Empty:
                raise AssertionError(f"timed out; got {got}") from None
            got.append(message)
            if until(message):
                return got
            assert message["event"] != "closed", f"the stream closed; got {got}"

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self._thread.join(timeout=5)


@pytest.fixture
def live(make_config: Callable[..., Any]) -> Iterator[Callable[..., LiveServer]]:
    from stigmer_agent_runner import app as app_module

    servers: List[LiveServer] = []

    def start(**overrides: Any) -> LiveServer:
        application, api = app_module.create(make_config(**overrides))
        server = LiveServer(application, api)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        server.api.store.close()


def submit(server: LiveServer, text: str) -> str:
    response = httpx.post(f"{server.url}/v1/executions", json={"agent": AGENT, "input": text}, headers=AUTH)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def finished(ids: List[str]) -> Callable[[Dict[str, Any]], bool]:
    done: set = set()

    def check(message: Dict[str, Any]) -> bool:
        if message["event"] == "execution" and message["data"]["status"] in TERMINAL:
            done.add(message["data"]["id"])
        return done >= set(ids)
    return check


def test_a_new_client_gets_reset_snapshot_synced_then_changes_in_order(live, fake_llm):
    llm = fake_llm([tool_call("list_files", {}), answer("one"), tool_call("list_files", {}), answer("two"),
                    tool_call("list_files", {}), answer("three")])
    server = live(llm_base_url=llm.url, max_concurrency=2)
    earlier = submit(server, "before the client")
    reader0 = SseReader(f"{server.url}/v1/events")
    reader0.take(finished([earlier]))
    reader0.close()

    reader = SseReader(f"{server.url}/v1/events")
    head = reader.take(lambda m: m["event"] == "synced")
    assert reader.status == 200
    assert head[0]["event"] == "reset" and head[0]["id"] is None
    snapshot = [m["data"] for m in head if m["event"] == "execution"]
    assert [s["id"] for s in snapshot] == [earlier]
    assert snapshot[0] == {**snapshot[0], "agent": "feeder", "status": "succeeded", "steps": 2, "tool": None}
    synced = head[-1]
    assert synced["id"] == synced["data"]["seq"] == server.api.store.last_change()

    ids = [submit(server, f"run {n}") for n in range(2)]
    live_messages = [m for m in reader.take(finished(ids)) if m["event"] == "execution"]
    seqs = [m["id"] for m in live_messages]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and seqs[0] > synced["id"], seqs
    steps = 0
    for execution_id in ids:
        states = [m["data"] for m in live_messages if m["data"]["id"] == execution_id]
        ranks = [ORDER[s["status"]] for s in states]
        assert ranks == sorted(ranks), f"{execution_id} went backwards: {[s['status'] for s in states]}"
        assert states[-1]["status"] == "succeeded" and states[-1]["tool"] is None
        assert states[-1]["finished_at"] and states[-1]["started_at"] and states[-1]["error"] is None
        steps += states[-1]["steps"]
    # The two runs share the fake model's script and run at once, so which run gets which of the four
    # replies depends on timing; each reply is one step of one run.
    assert steps == 4
    reader.close()


def test_resume_with_last_event_id_is_exact(live, fake_llm):
    llm = fake_llm([tool_call("list_files", {}), answer("a"), answer("b")])
    server = live(llm_base_url=llm.url, max_concurrency=1)
    reader = SseReader(f"{server.url}/v1/events")
    synced = reader.take(lambda m: m["event"] == "synced")[-1]["id"]
    first, second = submit(server, "a"), submit(server, "b")
    messages = [m for m in reader.take(finished([first, second])) if m["event"] == "execution"]
    reader.close()
    store = server.api.store

    # after every id the first stream delivered, a resumed stream sends exactly the executions that
    # changed after it, each once, in the order of their latest change
    for message in messages[:-1]:
        changed = store.changes_after(message["id"], 10_000)
        latest: Dict[str, int] = {}
        for seq, execution_id in changed:
            latest[execution_id] = seq
        expected = sorted(latest.items(), key=lambda item: item[1])
        resumed = SseReader(f"{server.url}/v1/events", {"Last-Event-ID": str(message["id"])})
        got = resumed.take(lambda m, n=len(expected): m["event"] == "execution" and m["id"] == expected[-1][1])
        assert [(m["data"]["id"], m["id"]) for m in got if m["event"] == "execution"] == expected
        assert not any(m["event"] in ("reset", "synced") for m in got)
        resumed.close()

    # at the head: nothing until the next change, then only that one
    resumed = SseReader(f"{server.url}/v1/events", {"Last-Event-ID": str(store.last_change())})
    third = submit(server, "c")
    got = [m for m in resumed.take(finished([third])) if m["event"] == "execution"]
    assert {m["data"]["id"] for m in got} == {third}
    resumed.close()

    # an id past the end (another data volume): start over with a snapshot
    beyond = SseReader(f"{server.url}/v1/events", {"Last-Event-ID": str(store.last_change() + 1000)})
    head = beyond.take(lambda m: m["event"] == "synced")
    assert head[0]["event"] == "reset"
    assert {m["data"]["id"] for m in head if m["event"] == "execution"} == {first, second, third}
    beyond.close()
    assert synced == 0


def test_bad_last_event_id_and_limit_are_422(live):
    server = live()
    assert httpx.get(f"{server.url}/v1/events", headers={**AUTH, "Last-Event-ID": "x"}).status_code == 422
    assert httpx.get(f"{server.url}/v1/events?limit=0", headers=AUTH).status_code == 422
    assert httpx.get(f"{server.url}/v1/events").status_code == 401


def test_many_clients_each_see_every_change(live, fake_llm):
    llm = fake_llm([tool_call("list_files", {}), answer("done")])
    server = live(llm_base_url=llm.url)
    readers = [SseReader(f"{server.url}/v1/events") for _ in range(30)]
    for reader in readers:
        reader.take(lambda m: m["event"] == "synced")
    assert len(server.api.feed.clients) == 30
    execution_id = submit(server, "x")
    finals = []
    for reader in readers:
        got = reader.take(finished([execution_id]))
        finals.append(got[-1])
    assert all(f["id"] == finals[0]["id"] and f["data"] == finals[0]["data"] for f in finals)
    for reader in readers:
        reader.close()
    deadline = time.monotonic() + 5
    while server.api.feed.clients:
        assert time.monotonic() < deadline, "closed streams are forgotten"
        time.sleep(0.02)


def test_a_client_that_stops_reading_holds_nothing_and_blocks_no_one(live):
    server = live()
    store, feed = server.api.store, server.api.feed
    # a client that sends its request and then never reads, with a small receive window
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", server.port))
    stalled.sendall(f"GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
    healthy = SseReader(f"{server.url}/v1/events")
    healthy.take(lambda m: m["event"] == "synced")
    deadline = time.monotonic() + 5
    while len(feed.clients) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    stalled_client = min(feed.clients.values(), key=lambda c: c.number)

    ids = [f"ex-stall-{n:04d}" for n in range(50)]
    for execution_id in ids:
        store.create(execution_id, AGENT, "x", [])

    def round_of_changes(n: int) -> int:
        for execution_id in ids:
            store.append_event(execution_id, "tool_call", {"step": n, "id": f"c{n}", "name": f"tool_{n}_" + "x" * 16000, "arguments": {}})
        server.call(feed.notify)
        last = store.last_change()
        healthy.take(lambda m: m["event"] == "execution" and m["id"] == last, timeout=30)
        return last

    # each round is ~800 kB of summaries (long tool names); the kernel takes a few MB for a socket
    sent: List[int] = []
    for n in range(1, 61):
        round_of_changes(n)
        sent.append(stalled_client.sent_bytes)
        if len(sent) >= 10 and sent[-1] == sent[-10]:
            break
    # the healthy client got every round at once; the stalled one stopped being sent anything as soon
    # as its socket filled up, and what it was sent stays where it was (nothing queues up for it)
    assert len(sent) >= 10 and sent[-1] == sent[-10], sent
    assert sent[-1] < 16 * 1024 * 1024, sent
    assert stalled_client.cursor < store.last_change()
    healthy.close()
    stalled.close()
