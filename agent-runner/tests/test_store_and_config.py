from __future__ import annotations

import pytest

from stigmer_agent_runner import config
from stigmer_agent_runner.store import INTERRUPTED, QUEUED, RUNNING, SUCCEEDED, Store, StoreUnavailable


def test_executions_and_events_persist_in_order(tmp_path):
    store = Store(str(tmp_path))
    store.create("a", {"name": "x"}, "hi", ["f.txt"])
    store.create("b", {"name": "y"}, "ho", [])
    assert [e.id for e in store.list()] == ["b", "a"]
    assert store.transition("a", RUNNING, expect=(QUEUED,))
    assert not store.transition("a", RUNNING, expect=(QUEUED,))
    seq = store.append_event("a", "model_turn", {"text": "t"})
    assert store.transition("a", SUCCEEDED, expect=(RUNNING,), result="r")
    store.close()

    reopened = Store(str(tmp_path))
    execution = reopened.get("a")
    assert execution is not None and execution.status == SUCCEEDED and execution.result == "r"
    assert execution.started_at and execution.finished_at and execution.files == ["f.txt"]
    events = reopened.events_after("a")
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert [e.type for e in events] == ["status", "status", "model_turn", "status"]
    assert events[2].seq == seq
    assert [e.seq for e in reopened.events_after("a", 2)] == [3, 4]
    assert reopened.ids_with_status(QUEUED) == ["b"]


def test_interrupted_keeps_error(tmp_path):
    store = Store(str(tmp_path))
    store.create("a", {"name": "x"}, "hi", [])
    store.transition("a", RUNNING)
    store.transition("a", INTERRUPTED, expect=(RUNNING,), error="stopped")
    assert store.get("a").error == "stopped"


def test_config_defaults(tmp_path):
    token = tmp_path / "token"
    token.write_text("secret\n")
    loaded = config.load({config.API_TOKEN_FILE: str(token)})
    assert loaded.api_token == "secret"
    assert (loaded.http_host, loaded.http_port, loaded.workspace, loaded.data) == ("0.0.0.0", 7480, "/workspace", "/data")
    assert loaded.llm_base_url == "http://host.docker.internal:11434/v1"
    assert loaded.max_concurrency == 4 and loaded.llm_api_key is None


@pytest.mark.parametrize("name,value", [
    (config.HTTP_PORT, "abc"), (config.HTTP_PORT, "70000"), (config.MAX_CONCURRENCY, "0"),
    (config.LLM_PROVIDER, "gemini"), (config.LLM_BASE_URL, "ftp://x"), (config.HTTP_HOST, "not a host"),
    (config.WORKSPACE, "relative/dir"), (config.SHUTDOWN_GRACE_SECONDS, "-1"),
    (config.MAX_UPLOADS_INFLIGHT_BYTES, "0"), (config.MAX_UPLOADS_INFLIGHT_BYTES, "²"), (config.LLM_MAX_RETRIES, "21"),
])
def test_invalid_values_name_the_variable(tmp_path, name, value):
    token = tmp_path / "token"
    token.write_text("secret")
    with pytest.raises(config.ConfigError, match=name):
        config.load({config.API_TOKEN_FILE: str(token), name: value})


def test_missing_or_empty_secret_files_name_the_variable(tmp_path):
    with pytest.raises(config.ConfigError, match=f"{config.API_TOKEN_FILE}.*does not exist"):
        config.load({config.API_TOKEN_FILE: str(tmp_path / "nope")})
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    with pytest.raises(config.ConfigError, match=f"{config.API_TOKEN_FILE}.*empty"):
        config.load({config.API_TOKEN_FILE: str(empty)})
    token = tmp_path / "token"
    token.write_text("t")
    with pytest.raises(config.ConfigError, match=config.LLM_API_KEY_FILE):
        config.load({config.API_TOKEN_FILE: str(token), config.LLM_API_KEY_FILE: str(empty)})
    key = tmp_path / "key"
    key.write_text("sk-1")
    assert config.load({config.API_TOKEN_FILE: str(token), config.LLM_API_KEY_FILE: str(key)}).llm_api_key == "sk-1"


def test_a_full_disk_at_store_init_is_one_sentence_naming_the_file_system(tmp_path, monkeypatch):
    import sqlite3

    def full(*_args, **_kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(sqlite3, "connect", full)
    with pytest.raises(StoreUnavailable) as raised:
        Store(str(tmp_path))
    message = str(raised.value)
    assert f"no space left on the file system of {tmp_path}" in message
    assert " free of " in message and "Traceback" not in message
