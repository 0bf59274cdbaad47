"""Malformed and oversized requests: each gets a 4xx with a reason, and leaves no directory, file or row."""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from conftest import TOKEN

AGENT = {"name": "tester", "instructions": "Do what the user asks."}
EXECUTION = json.dumps({"agent": AGENT, "input": "x"})


def assert_no_orphans(client: Any) -> None:
    """Every directory of the workspace belongs to a row, every row has its directory, nothing is staged."""
    root = client.api.workspace_root
    directories = set(os.listdir(root))
    rows = {e.id for e in client.api.store.list(1000)}
    assert directories == rows, f"directories without rows: {directories - rows}; rows without directories: {rows - directories}"


def multipart(parts: List[Tuple[str, Dict[str, str], bytes]], boundary: str = "b0undary", close: bool = True) -> bytes:
    out = b""
    for name, params, data in parts:
        disposition = f'form-data; name="{name}"' + "".join(f'; {k}="{v}"' for k, v in params.items())
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode("utf-8") + data + b"\r\n"
    if close:
        out += f"--{boundary}--\r\n".encode()
    return out


def post_multipart(client: Any, body: bytes, boundary: str = "b0undary") -> Any:
    return client.post("/v1/executions", content=body,
                       headers={"content-type": f"multipart/form-data; boundary={boundary}"})


def test_json_nested_200000_deep_is_400(client_for):
    client = client_for()
    deep = b"[" * 200_000 + b"]" * 200_000
    response = client.post("/v1/executions", content=deep, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "nested too deeply" in response.json()["error"]
    response = post_multipart(client, multipart([("execution", {}, deep), ("files", {"filename": "a.txt"}, b"a")]))
    assert response.status_code == 400 and response.json()["field"] == "execution"
    assert_no_orphans(client)


def test_file_names_are_cut_by_bytes_not_characters(client_for):
    client = client_for()
    too_long = "é" * 200  # 200 characters, 400 bytes: over NAME_MAX (255 bytes)
    response = post_multipart(client, multipart([("execution", {}, EXECUTION.encode()),
                                                 ("files", {"filename": too_long}, b"x")]))
    assert response.status_code == 422, response.text
    assert "longer than 255 bytes" in response.json()["error"]
    assert_no_orphans(client)

    longest = "é" * 127 + "x"  # exactly 255 bytes
    response = post_multipart(client, multipart([("execution", {}, EXECUTION.encode()),
                                                 ("files", {"filename": longest}, b"x")]))
    assert response.status_code == 202, response.text
    execution_id = response.json()["id"]
    assert os.listdir(os.path.join(client.api.workspace_root, execution_id)) == [longest]
    assert_no_orphans(client)


@pytest.mark.parametrize("filename", ["bad\x1b]0;pwned\x07.txt", "..", "dir/", "line\nbreak"])
def test_file_names_a_terminal_or_the_file_system_would_act_on_are_refused(client_for, filename):
    client = client_for()
    body = multipart([("execution", {}, EXECUTION.encode()), ("files", {"filename": filename}, b"x")])
    response = post_multipart(client, body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "files"
    assert_no_orphans(client)


def test_file_name_that_is_not_utf8_is_422(client_for):
    client = client_for()
    body = (b'--b0undary\r\nContent-Disposition: form-data; name="files"; filename="\xff\xfe.txt"\r\n\r\nx\r\n'
            + multipart([("execution", {}, EXECUTION.encode())]))
    response = post_multipart(client, body)
    assert response.status_code == 422 and "UTF-8" in response.json()["error"]
    assert_no_orphans(client)


@pytest.mark.parametrize("field,document", [
    ("input", '{"agent": {"name": "t"}, "input": "a\\ud800b"}'),
    ("agent.name", '{"agent": {"name": "\\udc00"}, "input": "x"}'),
    ("agent.instructions", '{"agent": {"name": "t", "instructions": "\\ud83d"}, "input": "x"}'),
])
def test_lone_surrogates_are_422(client_for, field, document):
    client = client_for()
    response = client.post("/v1/executions", content=document.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field and "lone surrogate" in response.json()["error"]
    response = post_multipart(client, multipart([("execution", {}, document.encode()), ("files", {"filename": "f"}, b"1")]))
    assert response.status_code == 422
    assert_no_orphans(client)


@pytest.mark.parametrize("value", ["²", "٣", "0", "1001", "-1", "1e2", "", "0x10", "99999999999999999999999"])
def test_limit_takes_ascii_digits_in_range_only(client_for, value):
    client = client_for()
    response = client.get("/v1/executions", params={"limit": value})
    assert response.status_code == 422, response.text
    assert response.json() == {"error": "limit must be an integer from 1 to 1000", "field": "limit"}


def test_limit_in_range_is_taken(client_for):
    client = client_for()
    assert client.get("/v1/executions", params={"limit": "1000"}).status_code == 200
    assert client.get("/v1/executions", params={"limit": "1"}).status_code == 200


def test_event_ids_out_of_range_are_422_before_the_stream_starts(client_for):
    client = client_for()
    client.api.store.create("ex-done", AGENT, "x", [])
    client.api.store.transition("ex-done", "cancelled")
    huge = "99999999999999999999999"
    response = client.get("/v1/executions/ex-done/events", params={"after": huge})
    assert response.status_code == 422 and response.json()["field"] == "after"
    response = client.get("/v1/executions/ex-done/events", headers={"Last-Event-ID": huge})
    assert response.status_code == 422 and response.json()["field"] == "Last-Event-ID"
    response = client.get("/v1/executions/ex-done/events", headers={"Last-Event-ID": "³".encode("latin-1")})
    assert response.status_code == 422
    # The largest id SQLite can compare is taken: nothing after it, the execution has ended.
    response = client.get("/v1/executions/ex-done/events", params={"after": str((1 << 63) - 1)})
    assert response.status_code == 200 and "event:" not in response.text


def test_multipart_without_closing_boundary_is_400_and_stores_nothing(client_for):
    client = client_for()
    body = multipart([("execution", {}, EXECUTION.encode()), ("files", {"filename": "a.txt"}, b"alpha" * 1000)],
                     close=False)
    response = post_multipart(client, body)
    assert response.status_code == 400, response.text
    assert "closing boundary" in response.json()["error"]
    assert client.api.store.list() == []
    assert_no_orphans(client)
    # Cut in the middle of a file part as well.
    body = multipart([("execution", {}, EXECUTION.encode()), ("files", {"filename": "a.txt"}, b"alpha" * 1000)])
    assert post_multipart(client, body[:200]).status_code == 400
    assert_no_orphans(client)


@pytest.mark.parametrize("headers,body", [
    ({"content-type": "multipart/form-data"}, b"--x--\r\n"),  # no boundary
    ({"content-type": "multipart/form-data; boundary=b0undary"}, b"garbage without any boundary"),
    ({"content-type": "multipart/form-data; boundary=b0undary"},
     b"--b0undary\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b0undary--\r\n"),  # part without a name
    ({"content-type": "multipart/form-data; boundary=b0undary"},
     b"--b0undary\r\nX-Big: " + b"h" * 20000 + b"\r\n\r\nx\r\n--b0undary--\r\n"),  # oversized part headers
    ({"content-type": "text/plain"}, b"hello"),
    ({"content-type": "application/json"}, b"\xff\xfe\x00"),
    ({"content-type": "application/json"}, b'{"agent": {"name": "t", "max_steps": 1e999}, "input": "x"}'),
    ({"content-type": "application/json"}, b'{"agent": {"name": "t", "max_steps": ' + b"9" * 5000 + b'}, "input": "x"}'),
])
def test_other_malformed_bodies_are_4xx(client_for, headers, body):
    client = client_for()
    response = client.post("/v1/executions", content=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]
    assert_no_orphans(client)


def test_execution_part_missing_or_twice_and_files_not_files(client_for):
    client = client_for()
    response = post_multipart(client, multipart([("files", {"filename": "a.txt"}, b"a")]))
    assert response.status_code == 422 and response.json()["field"] == "execution"
    response = post_multipart(client, multipart([("execution", {}, EXECUTION.encode())] * 2))
    assert response.status_code == 422
    response = post_multipart(client, multipart([("execution", {}, EXECUTION.encode()), ("files", {}, b"plain field")]))
    assert response.status_code == 422 and response.json()["error"] == "files parts must be files"
    response = post_multipart(client, multipart([("execution", {}, EXECUTION.encode()),
                                                 ("files", {"filename": "a"}, b"1"), ("files", {"filename": "a"}, b"2")]))
    assert response.status_code == 422 and "twice" in response.json()["error"]
    assert_no_orphans(client)


def test_a_failed_create_leaves_no_directory(client_for):
    client = client_for()

    def broken_create(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    client.api.store.create = broken_create
    with pytest.raises(OSError):
        client.post("/v1/executions", json={"agent": AGENT, "input": "x"})
    with pytest.raises(OSError):
        post_multipart(client, multipart([("execution", {}, EXECUTION.encode()), ("files", {"filename": "a"}, b"1")]))
    assert os.listdir(client.api.workspace_root) == []


def test_a_full_disk_is_507_and_keeps_nothing(client_for, monkeypatch):
    import builtins
    import errno

    from stigmer_agent_runner import uploads

    class FullDisk:
        def __init__(self, path: str, mode: str) -> None:
            self.handle = builtins.open(path, mode)

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            self.handle.close()

    monkeypatch.setattr(uploads, "open", FullDisk, raising=False)
    client = client_for()
    response = post_multipart(client, multipart([("execution", {}, EXECUTION.encode()), ("files", {"filename": "a"}, b"1")]))
    assert response.status_code == 507 and "No space left" in response.json()["error"]
    assert_no_orphans(client)


def test_invalid_execution_after_its_files_removes_them(client_for):
    client = client_for()
    bad = json.dumps({"agent": {"instructions": "no name"}, "input": "x"}).encode()
    response = post_multipart(client, multipart([("files", {"filename": "big.bin"}, b"z" * 100_000), ("execution", {}, bad)]))
    assert response.status_code == 422 and response.json()["field"] == "agent.name"
    assert_no_orphans(client)


def test_oversized_bodies_are_413(client_for):
    client = client_for(max_upload_bytes=10_000)
    body = multipart([("execution", {}, EXECUTION.encode()), ("files", {"filename": "big.bin"}, b"x" * 20_000)])
    response = post_multipart(client, body)  # Content-Length declared: refused before reading
    assert response.status_code == 413
    response = client.post("/v1/executions", content=iter([body[:5000], body[5000:]]),
                           headers={"content-type": "multipart/form-data; boundary=b0undary"})  # chunked
    assert response.status_code == 413
    assert_no_orphans(client)

    big_json = json.dumps({"agent": AGENT, "input": "x" * (5 * 1024 * 1024)}).encode()
    client = client_for(max_upload_bytes=50 * 1024 * 1024)
    response = client.post("/v1/executions", content=big_json, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "JSON document" in response.json()["error"]
    response = post_multipart(client, multipart([("execution", {}, big_json)]))
    assert response.status_code == 413 and "execution part" in response.json()["error"]
    assert_no_orphans(client)


def test_uploads_over_the_inflight_budget_are_503_with_retry_after(client_for):
    client = client_for(max_upload_bytes=100_000, max_uploads_inflight_bytes=10_000)
    body = multipart([("execution", {}, EXECUTION.encode()), ("files", {"filename": "a.bin"}, b"x" * 20_000)])
    response = post_multipart(client, body)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert client.api.uploads.used == {"total": 0, "memory": 0}
    assert_no_orphans(client)


def test_files_stream_to_the_workspace_not_to_tmp(client_for, tmp_path):
    client = client_for()
    payload = os.urandom(3 * 1024 * 1024)
    response = post_multipart(client, multipart([("files", {"filename": "blob.bin"}, payload),
                                                 ("execution", {}, EXECUTION.encode())]))
    assert response.status_code == 202, response.text
    stored = os.path.join(client.api.workspace_root, response.json()["id"], "blob.bin")
    with open(stored, "rb") as handle:
        assert handle.read() == payload
    assert client.api.uploads.used == {"total": 0, "memory": 0}
    assert_no_orphans(client)


def test_unfinished_uploads_of_a_previous_run_are_removed_at_start(client_for, make_config):
    config = make_config()
    os.makedirs(os.path.join(config.workspace, ".upload-ex-123", "sub"))
    client = client_for()
    assert os.listdir(client.api.workspace_root) == []


# -- on a real socket: concurrent uploads share the budget ------------------------------------------------

@pytest.fixture
def live_server(make_config: Any) -> Iterator[Any]:
    import uvicorn

    from stigmer_agent_runner import app as app_module

    servers: List[Tuple[Any, threading.Thread, Any]] = []

    def start(**overrides: Any) -> Any:
        application, api = app_module.create(make_config(**overrides))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(application, log_config=None, lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        servers.append((server, thread, api))
        return sock.getsockname()[1], api

    yield start
    for server, thread, api in servers:
        server.should_exit = True
        thread.join(10)
        api.store.close()


def _send_head(port: int, length: int) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port))
    conn.sendall((f"POST /v1/executions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                  f"Content-Type: multipart/form-data; boundary=b0undary\r\nContent-Length: {length}\r\n\r\n").encode())
    return conn


def _read_status(conn: socket.socket) -> Tuple[int, str]:
    conn.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head = data.split(b"\r\n\r\n")[0].decode()
    return int(head.split()[1]), head


def test_a_second_upload_over_the_shared_budget_is_503_until_the_first_ends(live_server):
    port, api = live_server(max_upload_bytes=1_000_000, max_uploads_inflight_bytes=1_500_000)
    body = multipart([("execution", {}, EXECUTION.encode()), ("files", {"filename": "a.bin"}, b"x" * 900_000)])
    first = _send_head(port, len(body))
    first.sendall(body[:1000])  # the first upload is in flight, holding its declared size
    deadline = time.monotonic() + 10
    while api.uploads.used["total"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    second = _send_head(port, len(body))
    status, head = _read_status(second)
    assert status == 503 and "retry-after: 2" in head.lower()
    second.close()
    first.sendall(body[1000:])
    assert _read_status(first)[0] == 202
    first.close()
    third = _send_head(port, len(body))
    third.sendall(body)
    assert _read_status(third)[0] == 202
    third.close()
    assert api.uploads.used == {"total": 0, "memory": 0}


def test_a_stalled_upload_is_408_and_releases_its_share(live_server, monkeypatch):
    from stigmer_agent_runner import uploads

    monkeypatch.setattr(uploads, "BODY_IDLE_SECONDS", 0.5)
    port, api = live_server(max_upload_bytes=1_000_000, max_uploads_inflight_bytes=1_500_000)
    body = multipart([("execution", {}, EXECUTION.encode()), ("files", {"filename": "a.bin"}, b"x" * 900_000)])
    stalled = _send_head(port, len(body))
    stalled.sendall(body[:1000])  # then nothing more
    status, _ = _read_status(stalled)
    assert status == 408
    stalled.close()
    assert api.uploads.used == {"total": 0, "memory": 0}
    assert os.listdir(api.workspace_root) == []


def test_an_upload_is_never_held_whole_in_memory(live_server, monkeypatch):
    import tracemalloc

    import starlette.formparsers

    def no_spooling(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an upload was spooled through Starlette's SpooledTemporaryFile (/tmp is a tmpfs)")

    monkeypatch.setattr(starlette.formparsers, "SpooledTemporaryFile", no_spooling)
    port, api = live_server(max_upload_bytes=64 * 1024 * 1024)
    payload = os.urandom(32 * 1024 * 1024)
    body = multipart([("execution", {}, EXECUTION.encode()), ("files", {"filename": "big.bin"}, payload)])
    view = memoryview(body)
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        conn = _send_head(port, len(body))
        for offset in range(0, len(body), 1 << 20):
            conn.sendall(view[offset:offset + (1 << 20)])
        status, _ = _read_status(conn)
        conn.close()
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    print(f"figure: Python allocations peaked {peak / 1048576:.2f} MiB above baseline for a 32 MiB upload")
    assert status == 202
    # Held whole (as chunks joined, then parsed), 32 MiB would cost at least twice that; streamed, a few chunks.
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1048576:.1f} MiB of Python allocations for a 32 MiB upload"
    (execution_id,) = os.listdir(api.workspace_root)
    assert os.path.getsize(os.path.join(api.workspace_root, execution_id, "big.bin")) == len(payload)
