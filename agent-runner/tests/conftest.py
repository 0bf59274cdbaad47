from __future__ import annotations

import os
import sys
from typing import Any, Callable, Dict, Iterator, List

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from fake_llm import FakeAnthropic, FakeLlm  # noqa: E402

from stigmer_agent_runner import app as app_module  # noqa: E402
from stigmer_agent_runner.config import Config  # noqa: E402

TOKEN = "test-token"


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
def make_config(tmp_path: Any) -> Callable[..., Config]:
    def make(**overrides: Any) -> Config:
        values: Dict[str, Any] = dict(
            workspace=str(tmp_path / "workspace"), data=str(tmp_path / "data"), api_token=TOKEN,
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
