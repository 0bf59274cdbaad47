"""HTTP API of product.md on Starlette: health, readiness, executions, SSE events, cancel."""
from __future__ import annotations

import asyncio
import hmac
import json
import os
import secrets
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from . import log
from .engine import Engine
from .store import TERMINAL, Store
from .tools import TOOL_NAMES

SSE_KEEPALIVE_SECONDS = 15.0
MAX_STEPS_LIMIT = 1000


class RequestError(Exception):
    def __init__(self, status: int, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field

    def response(self) -> JSONResponse:
        body: Dict[str, Any] = {"error": self.message}
        if self.field:
            body["field"] = self.field
        return JSONResponse(body, status_code=self.status)


def new_execution_id() -> str:
    # Sortable by creation time, unguessable enough to name a directory.
    return f"ex-{int(time.time() * 1000):x}-{secrets.token_hex(5)}"


def validate_execution(payload: Any) -> Tuple[Dict[str, Any], str]:
    """Returns (agent, input) or raises a 422 naming the offending field."""
    if not isinstance(payload, dict):
        raise RequestError(422, "the execution must be a JSON object", "execution")
    agent = payload.get("agent")
    if agent is None:
        raise RequestError(422, "agent is required", "agent")
    if not isinstance(agent, dict):
        raise RequestError(422, "agent must be an object", "agent")
    name = agent.get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        raise RequestError(422, "agent.name is required", "agent.name")
    if not isinstance(name, str):
        raise RequestError(422, "agent.name must be a string", "agent.name")
    instructions = agent.get("instructions", "")
    if not isinstance(instructions, str):
        raise RequestError(422, "agent.instructions must be a string", "agent.instructions")
    model = agent.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise RequestError(422, "agent.model must be a non-empty string", "agent.model")
    tools = agent.get("tools")
    if tools is not None:
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            raise RequestError(422, "agent.tools must be a list of tool names", "agent.tools")
        unknown = [t for t in tools if t not in TOOL_NAMES]
        if unknown:
            raise RequestError(422, f"agent.tools: unknown tool {unknown[0]!r} (known: {', '.join(TOOL_NAMES)})", "agent.tools")
    max_steps = agent.get("max_steps")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or not 1 <= max_steps <= MAX_STEPS_LIMIT):
        raise RequestError(422, f"agent.max_steps must be an integer from 1 to {MAX_STEPS_LIMIT}", "agent.max_steps")
    input_text = payload.get("input")
    if input_text is None:
        raise RequestError(422, "input is required", "input")
    if not isinstance(input_text, str):
        raise RequestError(422, "input must be a string", "input")
    clean: Dict[str, Any] = {"name": name, "instructions": instructions}
    if model is not None:
        clean["model"] = model
    if tools is not None:
        clean["tools"] = tools
    if max_steps is not None:
        clean["max_steps"] = max_steps
    return clean, input_text


def safe_filename(raw: Optional[str]) -> str:
    """The last component of an uploaded file's name; never a path that leaves the workspace."""
    name = (raw or "").replace("\\", "/").split("/")[-1].strip().replace("\x00", "")
    if name in ("", ".", ".."):
        raise RequestError(422, f"files: invalid file name {raw!r}", "files")
    return name[:255]


def parse_json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise RequestError(400, f"{what} is not valid JSON: {error}", what) from None


class Api:
    def __init__(self, engine: Engine, store: Store, token: str, workspace_root: str, max_upload_bytes: int,
                 shutdown_grace_seconds: float = 8.0) -> None:
        self.engine = engine
        self.store = store
        self.token = token
        self.workspace_root = workspace_root
        self.max_upload_bytes = max_upload_bytes
        self.shutdown_grace_seconds = shutdown_grace_seconds

    def authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self.token.encode())

    # -- routes ----------------------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        reasons: List[str] = []
        try:
            self.store.ping()
        except Exception as error:
            reasons.append(f"data store: {error}")
        if not os.path.isdir(self.workspace_root) or not os.access(self.workspace_root, os.W_OK | os.X_OK):
            reasons.append(f"workspace {self.workspace_root} is not a writable directory")
        if not self.engine.accepting:
            reasons.append("not accepting work (starting or stopping)")
        if reasons:
            return JSONResponse({"ready": False, "reasons": reasons}, status_code=503)
        return JSONResponse({"ready": True})

    async def create(self, request: Request) -> Response:
        if not self.engine.accepting:
            raise RequestError(503, "the agent-runner is stopping; try again after it restarts")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_upload_bytes:
            raise RequestError(413, f"request body over the limit of {self.max_upload_bytes} bytes")
        chunks: List[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_upload_bytes:
                raise RequestError(413, f"request body over the limit of {self.max_upload_bytes} bytes")
            chunks.append(chunk)
        request._body = b"".join(chunks)  # Starlette re-reads the cached body for form()

        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        uploads: List[Tuple[str, UploadFile]] = []
        if content_type == "multipart/form-data":
            try:
                form = await request.form(max_files=10000, max_fields=100)
            except Exception as error:
                raise RequestError(400, f"malformed multipart body: {error}", "execution") from None
            part = form.get("execution")
            if part is None:
                raise RequestError(422, "execution part is required", "execution")
            raw = await part.read() if isinstance(part, UploadFile) else part.encode("utf-8")
            payload = parse_json(raw, "execution")
            names: set = set()
            for upload in form.getlist("files"):
                if not isinstance(upload, UploadFile):
                    raise RequestError(422, "files parts must be files", "files")
                name = safe_filename(upload.filename)
                if name in names:
                    raise RequestError(422, f"files: {name!r} uploaded twice", "files")
                names.add(name)
                uploads.append((name, upload))
        elif content_type in ("application/json", ""):
            payload = parse_json(request._body, "body")
        else:
            raise RequestError(415, f"unsupported content type {content_type!r}; use application/json or multipart/form-data")

        agent, input_text = validate_execution(payload)
        execution_id = new_execution_id()
        directory = self.engine.workspace_dir(execution_id)
        os.makedirs(directory, exist_ok=False)
        for name, upload in uploads:
            with open(os.path.join(directory, name), "xb") as handle:
                await upload.seek(0)
                while True:
                    block = await upload.read(1 << 20)
                    if not block:
                        break
                    handle.write(block)
        self.store.create(execution_id, agent, input_text, [name for name, _ in uploads])
        log.info(f"accepted agent {agent['name']!r} with {len(uploads)} file(s)", execution_id)
        self.engine.submit(execution_id)
        return JSONResponse({"id": execution_id, "status": "queued"}, status_code=202)

    async def list(self, request: Request) -> Response:
        limit_raw = request.query_params.get("limit", "100")
        if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= 1000:
            raise RequestError(422, "limit must be an integer from 1 to 1000", "limit")
        return JSONResponse({"executions": [e.to_json() for e in self.store.list(int(limit_raw))]})

    def _find(self, request: Request) -> str:
        execution_id = request.path_params["id"]
        if self.store.get(execution_id) is None:
            raise RequestError(404, f"no execution {execution_id}")
        return execution_id

    async def get(self, request: Request) -> Response:
        execution = self.store.get(request.path_params["id"])
        if execution is None:
            raise RequestError(404, f"no execution {request.path_params['id']}")
        return JSONResponse(execution.to_json())

    async def cancel(self, request: Request) -> Response:
        execution_id = self._find(request)
        if not self.engine.cancel(execution_id):
            execution = self.store.get(execution_id)
            assert execution is not None
            raise RequestError(409, f"execution {execution_id} already ended: {execution.status}")
        return JSONResponse({"id": execution_id, "status": "cancelling"}, status_code=202)

    async def events(self, request: Request) -> Response:
        execution_id = self._find(request)
        last = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
        if not last.strip().isdigit():
            raise RequestError(422, "Last-Event-ID must be an event id (integer)", "Last-Event-ID")
        return StreamingResponse(
            self._stream(execution_id, int(last)),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _stream(self, execution_id: str, after: int) -> AsyncIterator[bytes]:
        wake = self.engine.listen(execution_id)
        try:
            yield b"retry: 2000\n\n"
            while True:
                wake.clear()
                events = self.store.events_after(execution_id, after)
                for event in events:
                    after = event.seq
                    data = json.dumps(event.data, separators=(",", ":"))
                    yield f"id: {event.seq}\nevent: {event.type}\ndata: {data}\n\n".encode("utf-8")
                    if event.type == "status" and event.data.get("status") in TERMINAL:
                        return
                if events:
                    continue
                execution = self.store.get(execution_id)
                if execution is None or execution.status in TERMINAL or self.engine.stopped.is_set():
                    return  # terminal event already delivered before `after`, or the service is stopping
                try:
                    await asyncio.wait_for(wake.wait(), SSE_KEEPALIVE_SECONDS)
                except asyncio.TimeoutError:
                    yield b": keep-alive\n\n"
        finally:
            self.engine.unlisten(execution_id, wake)


async def _request_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestError)
    return error.response()


async def _not_found(request: Request, error: Exception) -> Response:
    return JSONResponse({"error": f"no route {request.method} {request.url.path}"}, status_code=404)


async def _method_not_allowed(request: Request, error: Exception) -> Response:
    return JSONResponse({"error": f"method {request.method} not allowed on {request.url.path}"}, status_code=405)


def process_age() -> str:
    """' N ms after the process started' (Linux /proc), to see start-up cost in the log."""
    try:
        with open("/proc/self/stat") as handle:
            started_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
        return f" {max(0.0, uptime - started_ticks / os.sysconf('SC_CLK_TCK')) * 1000:.0f} ms after the process started"
    except (OSError, ValueError, IndexError):
        return ""


def build_app(api: Api, start_engine: bool = True) -> Starlette:
    def guarded(handler):  # type: ignore[no-untyped-def]
        async def endpoint(request: Request) -> Response:
            if not api.authorized(request):
                return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
            return await handler(request)
        return endpoint

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if start_engine:
            api.engine.start()
        log.info(f"ready{process_age()}")
        try:
            yield
        finally:
            if not api.engine.stopped.is_set():
                await api.engine.shutdown(api.shutdown_grace_seconds)

    routes = [
        Route("/healthz", api.healthz, methods=["GET"]),
        Route("/readyz", api.readyz, methods=["GET"]),
        Route("/v1/executions", guarded(api.create), methods=["POST"]),
        Route("/v1/executions", guarded(api.list), methods=["GET"]),
        Route("/v1/executions/{id}", guarded(api.get), methods=["GET"]),
        Route("/v1/executions/{id}/events", guarded(api.events), methods=["GET"]),
        Route("/v1/executions/{id}/cancel", guarded(api.cancel), methods=["POST"]),
    ]
    feed = getattr(api, "feed", None)  # feed.py: all executions' changes (app.create wires it)
    if feed is not None:
        routes.append(Route("/v1/events", guarded(feed.endpoint), methods=["GET"]))
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={RequestError: _request_error, 404: _not_found, 405: _method_not_allowed},
    )
