"""Build-time check: every dependency imports, both names of python-multipart (`python_multipart` and
the legacy `multipart` shim) are the same module, and Starlette parses a multipart form.

Run by docker/Dockerfile, so an import error (the `multipart` / `python_multipart` trap that broke the
frozen binary) fails the image build instead of reaching a user.
"""
from __future__ import annotations

import importlib
import sys

MODULES = (
    "sqlite3", "json", "asyncio",
    "starlette", "starlette.applications", "starlette.formparsers", "starlette.testclient",
    "uvicorn", "uvicorn.protocols.http.h11_impl", "uvicorn.lifespan.on",
    "httpx", "python_multipart", "h11", "anyio",
    "multipart", "multipart.multipart", "multipart.decoders", "multipart.exceptions",
    "stigmer_agent_runner.config", "stigmer_agent_runner.log", "stigmer_agent_runner.store",
    "stigmer_agent_runner.tools", "stigmer_agent_runner.llm", "stigmer_agent_runner.engine",
    "stigmer_agent_runner.errors", "stigmer_agent_runner.validation", "stigmer_agent_runner.uploads",
    "stigmer_agent_runner.api", "stigmer_agent_runner.app", "stigmer_agent_runner.__main__",
    "stigmer_agent_runner.sandbox", "stigmer_agent_runner.sandbox_launcher", "stigmer_agent_runner.netpolicy",
    "stigmer_agent_runner.netrules", "stigmer_agent_runner.netsupervisor", "stigmer_agent_runner.netsupervised",
    "stigmer_agent_runner.slots", "stigmer_agent_runner.command_output",
)


def check_multipart_names() -> "str | None":
    """The legacy name is the image's shim and hands out python_multipart's very modules."""
    import multipart
    import multipart.multipart
    import python_multipart
    import python_multipart.multipart

    if not getattr(multipart, "STIGMER_SHIM", False):
        return f"`import multipart` is not the shim: {getattr(multipart, '__file__', '?')}"
    if multipart.multipart is not python_multipart.multipart or multipart.MultipartParser is not python_multipart.MultipartParser:
        return "`multipart` does not re-export python_multipart's modules"
    if multipart.__version__ != python_multipart.__version__:
        return f"multipart {multipart.__version__} != python_multipart {python_multipart.__version__}"
    return None


def main() -> int:
    for name in MODULES:
        importlib.import_module(name)
    problem = check_multipart_names()
    if problem:
        print(f"selfcheck: {problem}", file=sys.stderr)
        return 1

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    async def echo(request: Request) -> JSONResponse:
        form = await request.form()
        files = form.getlist("files")
        return JSONResponse({
            "execution": form["execution"],
            "files": {f.filename: (await f.read()).decode() for f in files},
        })

    app = Starlette(routes=[Route("/", echo, methods=["POST"])])
    with TestClient(app) as client:
        response = client.post("/", data={"execution": '{"x":1}'},
                               files=[("files", ("a.txt", b"alpha")), ("files", ("b.txt", b"beta"))])
    expected = {"execution": '{"x":1}', "files": {"a.txt": "alpha", "b.txt": "beta"}}
    if response.status_code != 200 or response.json() != expected:
        print(f"selfcheck: multipart parse failed: {response.status_code} {response.text}", file=sys.stderr)
        return 1
    print(f"selfcheck: {len(MODULES)} modules import (multipart and python_multipart are one); "
          "Starlette parsed a multipart form")
    return 0


if __name__ == "__main__":
    sys.exit(main())
