"""Wires configuration, store, LLM client, engine and API together."""
from __future__ import annotations

import os

from starlette.applications import Starlette

from . import log
from .api import Api, build_app
from .config import Config
from .engine import Engine, EngineSettings
from .feed import ExecutionFeed
from .llm import LlmClient, RetryPolicy, make_client
from .sandbox import Sandbox, close_to_others
from .store import Store
from .uploads import clean_staging


def create(config: Config, llm: "LlmClient | None" = None) -> "tuple[Starlette, Api]":
    os.makedirs(config.workspace, exist_ok=True)
    clean_staging(config.workspace)
    sandbox = Sandbox.from_env(os.environ)
    sandbox.network = config.sandbox_network
    sandbox.agents_may_widen = config.agents_may_widen
    if sandbox.available:
        close_to_others(config.workspace, config.data)
    else:
        log.warning(sandbox.unavailable)
    store = Store(config.data)
    client = llm or make_client(config.llm_provider, config.llm_base_url, config.llm_api_key, config.llm_timeout_seconds,
                                RetryPolicy(max_retries=config.llm_max_retries))
    engine = Engine(store, client, EngineSettings(
        workspace_root=config.workspace,
        default_model=config.llm_model,
        max_concurrency=config.max_concurrency,
        tool_output_limit=config.tool_output_limit,
        command_timeout_seconds=config.command_timeout_seconds,
        disk_budget=config.disk_budget,
    ), sandbox)
    api = Api(engine, store, config.api_token, config.workspace, config.max_upload_bytes, config.shutdown_grace_seconds,
              config.max_uploads_inflight_bytes)
    api.feed = ExecutionFeed(store, engine.stopped)
    engine.on_change.append(api.feed.notify)
    return build_app(api), api
