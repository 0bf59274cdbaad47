"""Request bodies read as they arrive, and multipart uploads streamed straight to disk.

Nothing of an upload is held whole in memory or spooled to /tmp (a tmpfs that counts against the
container's memory): file parts are written, chunk by chunk, into a staging directory on the workspace
volume, which becomes the execution's directory by a rename once the request is valid. Limits:

- one request: `max_request_bytes` (STIGMER_MAX_UPLOAD_BYTES) -> 413;
- all requests being received at once: `inflight_bytes` (STIGMER_MAX_UPLOADS_INFLIGHT_BYTES) -> 503
  with Retry-After;
- JSON documents (a JSON body or the multipart `execution` part) are parsed in memory: each at most
  MAX_JSON_BYTES (413), all of them at once at most MAX_JSON_INFLIGHT_BYTES (503);
- a body that stops arriving for BODY_IDLE_SECONDS -> 408 (its reservation is released).
"""
from __future__ import annotations

import asyncio
import errno
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from typing import IO, AsyncIterator, Dict, List, Optional

from starlette.requests import ClientDisconnect, Request

from . import log
from .errors import RequestError
from .validation import safe_filename

MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_JSON_INFLIGHT_BYTES = 32 * 1024 * 1024
MAX_FILES = 10000
MAX_OTHER_FIELDS = 100
MAX_PART_HEADER_BYTES = 16 * 1024
RETRY_AFTER_SECONDS = 2
BODY_IDLE_SECONDS = 60.0
STAGING_PREFIX = ".upload-"
_CONTENT_LENGTH = re.compile(r"[0-9]{1,20}")


class UploadBudget:
    """Bytes being received across all requests; `memory` counts those held in memory (JSON)."""

    def __init__(self, inflight_bytes: int, json_inflight_bytes: int = MAX_JSON_INFLIGHT_BYTES) -> None:
        self.limits = {"total": inflight_bytes, "memory": json_inflight_bytes}
        self.used = {"total": 0, "memory": 0}
        self._lock = threading.Lock()  # multipart callbacks run in a worker thread

    def reserve(self, account: str, size: int) -> bool:
        with self._lock:
            if self.used[account] + size > self.limits[account]:
                return False
            self.used[account] += size
            return True

    def release(self, account: str, size: int) -> None:
        with self._lock:
            self.used[account] -= size


def _busy(what: str) -> RequestError:
    return RequestError(503, f"{what}; retry in {RETRY_AFTER_SECONDS} s", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _too_large(what: str, limit: int) -> RequestError:
    return RequestError(413, f"{what} over the limit of {limit} bytes")


class RequestBody:
    """One request's body, counted against its own limit and the shared budget as it arrives.

    Use as `async with RequestBody(...) as body`; leaving the block releases what it reserved.
    """

    def __init__(self, request: Request, max_bytes: int, budget: UploadBudget) -> None:
        self.request = request
        self.max_bytes = max_bytes
        self.budget = budget
        self.received = 0
        self.reserved: Dict[str, int] = {"total": 0, "memory": 0}

    async def __aenter__(self) -> "RequestBody":
        declared = self.request.headers.get("content-length")
        if declared is not None and _CONTENT_LENGTH.fullmatch(declared.strip()):
            size = int(declared)
            if size > self.max_bytes:
                raise _too_large("request body", self.max_bytes)
            self.reserve("total", size)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for account, size in self.reserved.items():
            if size:
                self.budget.release(account, size)
        self.reserved = {"total": 0, "memory": 0}

    def reserve(self, account: str, size: int) -> None:
        if not self.budget.reserve(account, size):
            what = "too many uploads in progress" if account == "total" else "too many JSON documents in progress"
            raise _busy(what)
        self.reserved[account] += size

    async def chunks(self) -> AsyncIterator[bytes]:
        stream = self.request.stream().__aiter__()
        try:
            while True:
                try:
                    # A client that stops sending must not hold its share of the budget for ever.
                    chunk = await asyncio.wait_for(stream.__anext__(), BODY_IDLE_SECONDS)
                except StopAsyncIteration:
                    return
                except asyncio.TimeoutError:
                    raise RequestError(408, f"no request body data for {BODY_IDLE_SECONDS:g} s") from None
                if not chunk:
                    continue
                self.received += len(chunk)
                if self.received > self.max_bytes:
                    raise _too_large("request body", self.max_bytes)
                if self.received > self.reserved["total"]:
                    self.reserve("total", self.received - self.reserved["total"])
                yield chunk
        except ClientDisconnect:
            raise RequestError(400, "the client disconnected before the request body ended") from None

    async def read_json(self) -> bytes:
        """The whole body, for a JSON document (at most MAX_JSON_BYTES, counted as memory)."""
        limit = min(self.max_bytes, MAX_JSON_BYTES)
        parts: List[bytes] = []
        size = 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                raise _too_large("JSON document", limit)
            self.reserve("memory", len(chunk))
            parts.append(chunk)
        return b"".join(parts)


@dataclass
class _Part:
    name: str = ""
    filename: Optional[str] = None
    handle: Optional[IO[bytes]] = None
    data: Optional[bytearray] = None  # the `execution` part


@dataclass
class ReceivedForm:
    execution: bytes
    files: List[str] = field(default_factory=list)


class MultipartReceiver:
    """Feeds python_multipart's streaming parser; file parts go straight into `directory`."""

    def __init__(self, body: RequestBody, boundary: bytes, directory: str) -> None:
        import python_multipart

        self.body = body
        self.directory = directory
        self.json_limit = min(body.max_bytes, MAX_JSON_BYTES)
        self.execution: Optional[bytearray] = None
        self.files: List[str] = []
        self.other_fields = 0
        self.ended = False
        self._part = _Part()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: Dict[bytes, bytes] = {}
        self._header_bytes = 0
        self._parser = python_multipart.MultipartParser(boundary, {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        })

    async def receive(self) -> ReceivedForm:
        from python_multipart.exceptions import MultipartParseError

        try:
            async for chunk in self.body.chunks():
                if self.ended:
                    continue  # the epilogue after the closing boundary carries nothing
                # Parsing and the file writes it triggers run off the event loop (disk may block).
                await asyncio.to_thread(self._parser.write, chunk)
        except MultipartParseError as error:
            raise RequestError(400, f"malformed multipart body: {error}", "execution") from None
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise RequestError(507, f"cannot store the upload: {error.strerror}", "files") from None
            raise
        finally:
            self._close_file()
        if not self.ended:
            raise RequestError(400, "malformed multipart body: it ends before its closing boundary", "execution")
        if self.execution is None:
            raise RequestError(422, "execution part is required", "execution")
        return ReceivedForm(execution=bytes(self.execution), files=self.files)

    # -- parser callbacks (in a worker thread) -----------------------------------------------------

    def _on_part_begin(self) -> None:
        self._part = _Part()
        self._headers = {}
        self._header_bytes = 0

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_PART_HEADER_BYTES:
            raise RequestError(400, f"malformed multipart body: part headers over {MAX_PART_HEADER_BYTES} bytes", "files")

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field = bytearray()
        self._header_value = bytearray()

    def _on_headers_finished(self) -> None:
        from python_multipart.multipart import parse_options_header

        try:
            _, options = parse_options_header(self._headers.get(b"content-disposition"))
            name = options[b"name"].decode("utf-8")
        except KeyError:
            raise RequestError(400, "malformed multipart body: a part has no Content-Disposition name", "files") from None
        except (ValueError, UnicodeError) as error:
            raise RequestError(400, f"malformed multipart body: bad Content-Disposition ({error})", "files") from None
        self._part.name = name
        if name == "execution":
            if self.execution is not None:
                raise RequestError(422, "execution part given twice", "execution")
            self.execution = self._part.data = bytearray()
        elif name == "files":
            if b"filename" not in options:
                raise RequestError(422, "files parts must be files", "files")
            filename = safe_filename(options[b"filename"])
            if filename in self.files:
                raise RequestError(422, f"files: {ascii(filename)} uploaded twice", "files")
            if len(self.files) >= MAX_FILES:
                raise RequestError(422, f"files: more than {MAX_FILES} files", "files")
            self.files.append(filename)
            self._part.filename = filename
            self._part.handle = open(os.path.join(self.directory, filename), "xb")
        else:
            self.other_fields += 1
            if self.other_fields > MAX_OTHER_FIELDS:
                raise RequestError(422, f"more than {MAX_OTHER_FIELDS} unknown parts", "execution")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part.handle is not None:
            self._part.handle.write(data[start:end])
        elif self._part.data is not None:
            if len(self._part.data) + end - start > self.json_limit:
                raise _too_large("execution part", self.json_limit)
            self.body.reserve("memory", end - start)
            self._part.data += data[start:end]
        # other parts: ignored, never held

    def _on_part_end(self) -> None:
        self._close_file()

    def _on_end(self) -> None:
        self.ended = True

    def _close_file(self) -> None:
        if self._part.handle is not None:
            self._part.handle.close()
            self._part.handle = None


def multipart_boundary(content_type: str) -> bytes:
    from python_multipart.multipart import parse_options_header

    try:
        _, params = parse_options_header(content_type)
    except (ValueError, UnicodeError):
        params = {}
    boundary = params.get(b"boundary", b"")
    if not boundary or len(boundary) > 200:
        raise RequestError(400, "multipart/form-data without a valid boundary parameter", "execution")
    return boundary


def staging_dir(workspace_root: str, execution_id: str) -> str:
    return os.path.join(workspace_root, STAGING_PREFIX + execution_id)


def remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def clean_staging(workspace_root: str) -> None:
    """Removes uploads a previous process was receiving when it stopped."""
    try:
        names = os.listdir(workspace_root)
    except OSError:
        return
    for name in names:
        if name.startswith(STAGING_PREFIX):
            remove_tree(os.path.join(workspace_root, name))
            log.warning(f"removed an unfinished upload ({name}) left by a previous run")
