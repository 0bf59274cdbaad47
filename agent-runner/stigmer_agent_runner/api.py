"""HTTP API of docs/contract.md on Starlette: health, readiness, executions, SSE events, cancel."""
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
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from . import log
from .engine import Engine
from .errors import RequestError
from .store import TERMINAL, Store
from .uploads import (MultipartReceiver, RequestBody, UploadBudget, multipart_boundary, remove_tree,
                      staging_dir)
from .validation import MAX_SQL_INTEGER, ascii_int, parse_json, validate_execution

SSE_KEEPALIVE_SECONDS = 15.0
MAX_LIST_LIMIT = 1000


def new_execution_id() -> str:
    # Sortable by creation time, unguessable enough to name a directory.
    return f"ex-{int(time.time() * 1000):x}-{secrets.token_hex(5)}"


class Api:
    def __init__(self, engine: Engine, store: Store, token: str, workspace_root: str, max_upload_bytes: int,
                 shutdown_grace_seconds: float = 8.0, max_uploads_inflight_bytes: int = 512 * 1024 * 1024) -> None:
        self.engine = engine
        self.store = store
        self.token = token
        self.workspace_root = workspace_root
        self.max_upload_bytes = max_upload_bytes
        self.shutdown_grace_seconds = shutdown_grace_seconds
        self.uploads = UploadBudget(max_uploads_inflight_bytes)

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
        content_type = request.headers.get("content-type", "")
        media_type = content_type.split(";")[0].strip().lower()
        if media_type not in ("multipart/form-data", "application/json", ""):
            raise RequestError(415, f"unsupported content type {ascii(media_type)}; use application/json or multipart/form-data")
        execution_id = new_execution_id()
        async with RequestBody(request, self.max_upload_bytes, self.uploads) as body:
            if media_type == "multipart/form-data":
                agent, input_text, files = await self._receive_multipart(body, content_type, execution_id)
            else:
                agent, input_text = validate_execution(parse_json(await body.read_json(), "body"), *self._network_bounds())
                files = []
                os.mkdir(self.engine.workspace_dir(execution_id))
            self._persist(execution_id, agent, input_text, files)
        log.info(f"accepted agent {agent['name']!r} with {len(files)} file(s)", execution_id)
        self.engine.submit(execution_id)
        return JSONResponse({"id": execution_id, "status": "queued"}, status_code=202)

    def _network_bounds(self) -> Tuple[str, bool]:
        """The runner's network policy, which an agent.network may narrow, and whether it may widen it."""
        sandbox = self.engine.sandbox
        return getattr(sandbox, "network", "none"), getattr(sandbox, "agents_may_widen", False)

    async def _receive_multipart(self, body: RequestBody, content_type: str,
                                 execution_id: str) -> Tuple[Dict[str, Any], str, List[str]]:
        """Streams the files into a staging directory that becomes the execution's on success."""
        boundary = multipart_boundary(content_type)
        staging = staging_dir(self.workspace_root, execution_id)
        os.mkdir(staging)
        try:
            form = await MultipartReceiver(body, boundary, staging).receive()
            agent, input_text = validate_execution(parse_json(form.execution, "execution"), *self._network_bounds())
            os.rename(staging, self.engine.workspace_dir(execution_id))
        except BaseException:
            remove_tree(staging)
            raise
        return agent, input_text, form.files

    def _persist(self, execution_id: str, agent: Dict[str, Any], input_text: str, files: List[str]) -> None:
        """Writes the row; without it the execution's directory must not stay (no orphans)."""
        try:
            self.store.create(execution_id, agent, input_text, files)
        except BaseException:
            remove_tree(self.engine.workspace_dir(execution_id))
            raise

    async def list(self, request: Request) -> Response:
        limit = ascii_int(request.query_params.get("limit"), "limit", 1, MAX_LIST_LIMIT, default=100)
        return JSONResponse({"executions": [e.to_json() for e in self.store.list(limit)]})

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
        header = request.headers.get("last-event-id")
        field, raw = ("Last-Event-ID", header) if header else ("after", request.query_params.get("after"))
        after = ascii_int(raw, field, 0, MAX_SQL_INTEGER, default=0)
        return StreamingResponse(
            self._stream(execution_id, after),
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
