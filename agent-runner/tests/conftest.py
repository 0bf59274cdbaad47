from __future__ import annotations

import os
import sys
import tempfile
from typing import Any, Callable, Dict, Iterator, List

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from fake_llm import FakeAnthropic, FakeLlm  # noqa: E402

from stigmer_agent_runner import app as app_module  # noqa: E402
from stigmer_agent_runner.config import Config  # noqa: E402

TOKEN = "test-token"
# The image's test stage runs pytest under the sandbox launcher (docker/Dockerfile); elsewhere the tests
# that run commands are skipped, since commands run only in the sandbox.
SANDBOX_ROOT = os.environ.get("STIGMER_WORKSPACE") if os.environ.get("STIGMER_SANDBOX_FD") else None
requires_sandbox = pytest.mark.skipif(SANDBOX_ROOT is None, reason="needs the sandbox launcher (the image's test stage)")


@pytest.fixture
def workspace_root(tmp_path: Any) -> str:
    """A workspace root the sandbox accepts (below the launcher's) and its uids can cross."""
    if SANDBOX_ROOT is None:
        return str(tmp_path / "workspace")
    root = tempfile.mkdtemp(dir=SANDBOX_ROOT)
    os.chmod(root, 0o711)
    return root


@pytest.fixture
def fake_llm() -> Iterator[Callable[[List[Dict[str, Any]]], FakeLlm]]:
    made: List[FakeLlm] = []

    def make(script: List[Dict[str, Any]]) -> FakeLlm:
        fake = FakeLlm(script)
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.close()


@pytest.fixture
def fake_anthropic() -> Iterator[Callable[..., FakeAnthropic]]:
    made: List[FakeAnthropic] = []

    def make(script: List[Dict[str, Any]], **options: Any) -> FakeAnthropic:
        fake = FakeAnthropic(script, **options)
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.close()


@pytest.fixture
def make_config(tmp_path: Any, workspace_root: str) -> Callable[..., Config]:
    def make(**overrides: Any) -> Config:
        values: Dict[str, Any] = dict(
            workspace=workspace_root, data=str(tmp_path / "data"), api_token=TOKEN,
            llm_base_url="http://127.0.0.1:9/v1", shutdown_grace_seconds=1.0,
        )
        values.update(overrides)
        return Config(**values)
    return make


@pytest.fixture
def client_for(make_config: Callable[..., Config]) -> Iterator[Callable[..., Any]]:
    from starlette.testclient import TestClient

    clients: List[Any] = []

    def make(llm: Any = None, **overrides: Any) -> Any:
        application, api = app_module.create(make_config(**overrides), llm=llm)
        client = TestClient(application, headers={"Authorization": f"Bearer {TOKEN}"})
        client.__enter__()
        client.api = api
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
        client.api.store.close()
