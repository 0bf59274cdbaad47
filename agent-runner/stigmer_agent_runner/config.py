"""The container environment of docs/contract.md, read in one place.

Every variable the service reads is named here once; an invalid value stops the service at start
with a message naming the variable (ConfigError).
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Mapping, Optional


class ConfigError(Exception):
    """A variable of the container environment has an invalid value."""


# Names shared with source/contract.ts (containerEnv) and docker/compose.yaml.
HTTP_HOST = "STIGMER_HTTP_HOST"
HTTP_PORT = "STIGMER_HTTP_PORT"
WORKSPACE = "STIGMER_WORKSPACE"
DATA = "STIGMER_DATA"
API_TOKEN_FILE = "STIGMER_API_TOKEN_FILE"
LLM_PROVIDER = "STIGMER_LLM_PROVIDER"
LLM_BASE_URL = "STIGMER_LLM_BASE_URL"
LLM_MODEL = "STIGMER_LLM_MODEL"
LLM_API_KEY_FILE = "STIGMER_LLM_API_KEY_FILE"
# "1" when LLM_BASE_URL is stigmer's forward to an LLM on the host's loopback (run by stigmer's supervisor)
LLM_VIA_FORWARD = "STIGMER_LLM_VIA_FORWARD"
MAX_CONCURRENCY = "STIGMER_MAX_CONCURRENCY"
# Service tuning (not part of the contract's table; defaults suit the container settings).
SHUTDOWN_GRACE_SECONDS = "STIGMER_SHUTDOWN_GRACE_SECONDS"
MAX_UPLOAD_BYTES = "STIGMER_MAX_UPLOAD_BYTES"
COMMAND_TIMEOUT_SECONDS = "STIGMER_COMMAND_TIMEOUT_SECONDS"
TOOL_OUTPUT_LIMIT = "STIGMER_TOOL_OUTPUT_LIMIT"
LLM_TIMEOUT_SECONDS = "STIGMER_LLM_TIMEOUT_SECONDS"
MAX_UPLOADS_INFLIGHT_BYTES = "STIGMER_MAX_UPLOADS_INFLIGHT_BYTES"
LLM_MAX_RETRIES = "STIGMER_LLM_MAX_RETRIES"
# The command sandbox (sandbox_launcher.py). stigmer sets the service's uid:gid; the limits are tuning.
SERVICE_UID = "STIGMER_SERVICE_UID"
SERVICE_GID = "STIGMER_SERVICE_GID"
SANDBOX_MAX_PROCESSES = "STIGMER_SANDBOX_MAX_PROCESSES"
SANDBOX_MAX_MEMORY_BYTES = "STIGMER_SANDBOX_MAX_MEMORY_BYTES"
SANDBOX_MAX_FILE_BYTES = "STIGMER_SANDBOX_MAX_FILE_BYTES"
SANDBOX_UID_BASE = "STIGMER_SANDBOX_UID_BASE"
# What the commands may reach (netpolicy.py): set by stigmer from agentRunner.sandbox.network.
SANDBOX_NETWORK = "STIGMER_SANDBOX_NETWORK"
# This machine's addresses, refused under policy internet (netrules.py); set by stigmer for a local engine.
SANDBOX_HOST_ADDRESSES = "STIGMER_SANDBOX_HOST_ADDRESSES"
# "1": an agent's network policy may be wider than SANDBOX_NETWORK (agentRunner.sandbox.agentsMayWiden).
SANDBOX_AGENTS_MAY_WIDEN = "STIGMER_SANDBOX_AGENTS_MAY_WIDEN"
# Budgets per execution (budgets.py); stigmer sets them from agentRunner.sandbox.
SANDBOX_DISK_BUDGET_BYTES = "STIGMER_SANDBOX_DISK_BUDGET_BYTES"
SANDBOX_MEMORY_BUDGET_BYTES = "STIGMER_SANDBOX_MEMORY_BUDGET_BYTES"
# Set by the launcher for the service only: the inherited socket, or why there is none.
SANDBOX_FD = "STIGMER_SANDBOX_FD"
SANDBOX_UNAVAILABLE = "STIGMER_SANDBOX_UNAVAILABLE"

PROVIDERS = ("openai", "anthropic")


@dataclass(frozen=True)
class Config:
    http_host: str = "0.0.0.0"
    http_port: int = 7480
    workspace: str = "/workspace"
    data: str = "/data"
    api_token_file: str = "/run/secrets/api-token"
    api_token: str = ""
    llm_provider: str = "openai"
    llm_base_url: str = "http://host.docker.internal:11434/v1"
    llm_model: str = "qwen2.5-coder:7b"
    llm_api_key_file: Optional[str] = None
    llm_api_key: Optional[str] = None
    max_concurrency: int = 4
    shutdown_grace_seconds: float = 8.0
    max_upload_bytes: int = 50 * 1024 * 1024
    command_timeout_seconds: float = 60.0
    tool_output_limit: int = 16 * 1024
    llm_timeout_seconds: float = 300.0
    max_uploads_inflight_bytes: int = 512 * 1024 * 1024
    llm_max_retries: int = 4
    sandbox_network: str = "none"
    agents_may_widen: bool = False
    disk_budget: int = 1 << 30  # docs/security.md: the default of agentRunner.sandbox.diskBudget


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range ({low}..{high})")
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range ({low}..{high})")
    return value


def disk_budget(env: Mapping[str, str]) -> int:
    """The disk budget of each execution (read by the launcher's watcher and by write_file)."""
    return _int(env, SANDBOX_DISK_BUDGET_BYTES, Config.disk_budget, 1 << 20, 1 << 50)


def _secret(name: str, path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read().strip()
    except FileNotFoundError:
        raise ConfigError(f"{name}: file {path} does not exist") from None
    except OSError as error:
        raise ConfigError(f"{name}: cannot read {path}: {error.strerror}") from None
    if not value:
        raise ConfigError(f"{name}: file {path} is empty")
    return value


def sandbox_network(env: Mapping[str, str]) -> str:
    """The commands' network policy (netrules.py spells it): `none` unless set; a bad one is named."""
    from .netrules import RuleError, canonical  # not netpolicy: the launcher reads this before it imports ctypes

    raw = env.get(SANDBOX_NETWORK, "").strip() or Config.sandbox_network
    try:
        return canonical(raw)
    except RuleError as error:
        raise ConfigError(f"{SANDBOX_NETWORK}: {error}") from None


def load(env: Mapping[str, str] = os.environ, read_secrets: bool = True) -> Config:
    from urllib.parse import urlparse  # here, not at the top: the sandbox launcher reads this module

    defaults = Config()
    host = env.get(HTTP_HOST, "").strip() or defaults.http_host
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ConfigError(f"{HTTP_HOST}={host!r} is not an IP address") from None

    provider = env.get(LLM_PROVIDER, "").strip() or defaults.llm_provider
    if provider not in PROVIDERS:
        raise ConfigError(f"{LLM_PROVIDER}={provider!r} must be one of {', '.join(PROVIDERS)}")

    base_url = (env.get(LLM_BASE_URL, "").strip() or defaults.llm_base_url).rstrip("/")
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{LLM_BASE_URL}={base_url!r} is not an http(s) URL")

    workspace = env.get(WORKSPACE, "").strip() or defaults.workspace
    data = env.get(DATA, "").strip() or defaults.data
    for name, value in ((WORKSPACE, workspace), (DATA, data)):
        if not os.path.isabs(value):
            raise ConfigError(f"{name}={value!r} must be an absolute path")

    token_file = env.get(API_TOKEN_FILE, "").strip() or defaults.api_token_file
    key_file = env.get(LLM_API_KEY_FILE, "").strip() or None

    return Config(
        http_host=host,
        http_port=_int(env, HTTP_PORT, defaults.http_port, 1, 65535),
        workspace=workspace,
        data=data,
        api_token_file=token_file,
        api_token=_secret(API_TOKEN_FILE, token_file) if read_secrets else "",
        llm_provider=provider,
        llm_base_url=base_url,
        llm_model=env.get(LLM_MODEL, "").strip() or defaults.llm_model,
        llm_api_key_file=key_file,
        llm_api_key=_secret(LLM_API_KEY_FILE, key_file) if (key_file and read_secrets) else None,
        max_concurrency=_int(env, MAX_CONCURRENCY, defaults.max_concurrency, 1, 256),
        shutdown_grace_seconds=_float(env, SHUTDOWN_GRACE_SECONDS, defaults.shutdown_grace_seconds, 0, 3600),
        max_upload_bytes=_int(env, MAX_UPLOAD_BYTES, defaults.max_upload_bytes, 1, 1 << 40),
        command_timeout_seconds=_float(env, COMMAND_TIMEOUT_SECONDS, defaults.command_timeout_seconds, 1, 86400),
        tool_output_limit=_int(env, TOOL_OUTPUT_LIMIT, defaults.tool_output_limit, 256, 1 << 24),
        llm_timeout_seconds=_float(env, LLM_TIMEOUT_SECONDS, defaults.llm_timeout_seconds, 1, 86400),
        max_uploads_inflight_bytes=_int(env, MAX_UPLOADS_INFLIGHT_BYTES, defaults.max_uploads_inflight_bytes, 1, 1 << 40),
        llm_max_retries=_int(env, LLM_MAX_RETRIES, defaults.llm_max_retries, 0, 20),
        sandbox_network=sandbox_network(env),
        agents_may_widen=env.get(SANDBOX_AGENTS_MAY_WIDEN, "").strip() == "1",
        disk_budget=disk_budget(env),
    )
