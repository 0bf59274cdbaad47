"""LLM clients behind one interface: OpenAI chat completions (any compatible server) and Anthropic messages.

Conversations are kept in the OpenAI message shape; the Anthropic client translates them.
"""
from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Protocol

from . import config as config_module

if TYPE_CHECKING:
    import httpx

# httpx (with the rich console its CLI pulls in) is imported on the first LLM call, not at start:
# that keeps ~90 ms off the container's start to /readyz. The image build imports it (selfcheck).


class LlmError(Exception):
    """The LLM could not produce a turn; the message is the execution's error."""


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: Dict[str, Any]
    raw_arguments: str = ""
    argument_error: Optional[str] = None


@dataclass
class AssistantTurn:
    text: str
    tool_calls: List[ToolCall] = field(default_factory=list)
    finish_reason: Optional[str] = None

    def as_message(self) -> Dict[str, Any]:
        message: Dict[str, Any] = {"role": "assistant", "content": self.text or None}
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": call.id, "type": "function",
                 "function": {"name": call.name, "arguments": call.raw_arguments or json.dumps(call.arguments)}}
                for call in self.tool_calls
            ]
        return message


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of one LLM call on 429, 5xx and timeouts: exponential backoff with jitter, or the
    server's Retry-After, each wait capped."""
    max_retries: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 60.0

    def delay(self, retry: int, retry_after: Optional[float]) -> float:
        """Seconds to wait before retry number `retry` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        backoff = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return backoff * random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class Retry:
    """One retry about to happen; the engine records it as an `llm_retry` execution event."""
    attempt: int  # the attempt about to be made: 2 for the first retry
    max_attempts: int
    reason: str
    delay_seconds: float

    def as_event(self) -> Dict[str, Any]:
        return {"attempt": self.attempt, "max_attempts": self.max_attempts, "reason": self.reason,
                "delay_seconds": round(self.delay_seconds, 3)}


OnRetry = Callable[[Retry], None]


def retry_after_seconds(headers: Mapping[str, str], now: Optional[float] = None) -> Optional[float]:
    """`retry-after-ms` (OpenAI) or `Retry-After`: seconds or an HTTP date; None when absent or unreadable."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            value = float(milliseconds)
            if 0 <= value < float("inf"):
                return value / 1000
        except ValueError:
            pass
    raw = (headers.get("retry-after") or "").strip()
    if not raw:
        return None
    if raw.isascii() and raw.replace(".", "", 1).isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _Retryable(Exception):
    def __init__(self, reason: str, error: LlmError, retry_after: Optional[float] = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error
        self.retry_after = retry_after


def _error_type(response: "httpx.Response") -> str:
    """The error's type in the body (Anthropic's 529 has no reason phrase: `overloaded_error`)."""
    try:
        error = response.json().get("error")
        return str(error.get("type") or "") if isinstance(error, dict) else ""
    except (ValueError, AttributeError):
        return ""


def _retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


class LlmClient(Protocol):
    async def complete(self, model: str, messages: List[Dict[str, Any]], tools: List[Dict[str, Any]],
                       on_retry: Optional[OnRetry] = None) -> AssistantTurn: ...

    async def aclose(self) -> None: ...


# stigmer's forward to an LLM on the host's loopback (the CLI's supervisor/LlmForward.ts) answers 502 with
# this error type when nothing listens there: a refused connection, not retried, as a direct one would be.
FORWARD_REFUSAL = "stigmer_forward"


def _forward_refusal(response: "httpx.Response") -> LlmError:
    try:
        message = str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = "cannot reach the LLM on the host through stigmer's forward"
    return LlmError(f"{message} — set llm.baseUrl in config.yaml")


def _unreachable(url: str, error: Exception) -> LlmError:
    reason = str(error) or type(error).__name__
    if os.environ.get(config_module.LLM_VIA_FORWARD) == "1":
        # nothing listens at the forward's address: its owner, stigmer's supervisor on the host, is gone
        return LlmError(
            f"cannot reach the LLM: stigmer's LLM forward at {url} is down ({reason}); it runs in stigmer's "
            "supervisor on the host, which is not running — run `stigmer server start`"
        )
    return LlmError(
        f"cannot reach the LLM at {url} ({reason}) — set llm.baseUrl in config.yaml / "
        f"{config_module.LLM_BASE_URL}"
    )


def _parse_arguments(raw: Any) -> "tuple[Dict[str, Any], str, Optional[str]]":
    if isinstance(raw, dict):
        return raw, json.dumps(raw), None
    text = raw if isinstance(raw, str) else ""
    if text.strip() == "":
        return {}, "{}", None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return {}, text, f"arguments are not valid JSON: {error}"
    if not isinstance(value, dict):
        return {}, text, "arguments must be a JSON object"
    return value, text, None


class _HttpClient:
    def __init__(self, base_url: str, timeout: float, retry: Optional[RetryPolicy] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._http: "Optional[httpx.AsyncClient]" = None

    async def _post(self, path: str, body: Dict[str, Any], headers: Dict[str, str],
                    on_retry: Optional[OnRetry] = None) -> Dict[str, Any]:
        """One call, retried per the policy; a cancel (the execution's task) interrupts the wait."""
        retries = 0
        while True:
            try:
                return await self._post_once(path, body, headers)
            except _Retryable as failure:
                if retries >= self.retry.max_retries:
                    raise failure.error from None
                retries += 1
                delay = self.retry.delay(retries, failure.retry_after)
                if on_retry is not None:
                    on_retry(Retry(attempt=retries + 1, max_attempts=self.retry.max_retries + 1,
                                   reason=failure.reason, delay_seconds=delay))
                await asyncio.sleep(delay)

    async def _post_once(self, path: str, body: Dict[str, Any], headers: Dict[str, str]) -> Dict[str, Any]:
        import httpx

        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout, connect=10.0))
        url = f"{self.base_url}{path}"
        try:
            response = await self._http.post(url, json=body, headers=headers)
        except httpx.ConnectTimeout as error:
            raise _Retryable("connect timeout", _unreachable(url, error)) from None
        except httpx.ConnectError as error:
            raise _unreachable(url, error) from None
        except httpx.TimeoutException:
            raise _Retryable("timeout", LlmError(f"the LLM at {url} did not answer in time")) from None
        except httpx.HTTPError as error:
            raise LlmError(f"the LLM at {url} failed: {error}") from None
        if response.status_code >= 400:
            if response.status_code == 502 and _error_type(response) == FORWARD_REFUSAL:
                raise _forward_refusal(response) from None
            error = LlmError(f"the LLM at {url} answered {response.status_code}: {response.text[:500]}")
            if _retryable_status(response.status_code):
                phrase = "".join(c for c in (response.reason_phrase or _error_type(response))[:80] if " " <= c <= "~")
                reason = f"{response.status_code} {phrase}".strip()  # printable ASCII: it reaches terminals
                raise _Retryable(reason, error, retry_after_seconds(response.headers))
            raise error
        try:
            payload = response.json()
        except ValueError:
            raise LlmError(f"the LLM at {url} answered something that is not JSON: {response.text[:200]}") from None
        if not isinstance(payload, dict):
            raise LlmError(f"the LLM at {url} answered an unexpected JSON value")
        return payload

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


class OpenAiClient(_HttpClient):
    def __init__(self, base_url: str, api_key: Optional[str], timeout: float, retry: Optional[RetryPolicy] = None) -> None:
        super().__init__(base_url, timeout, retry)
        self.api_key = api_key

    async def complete(self, model: str, messages: List[Dict[str, Any]], tools: List[Dict[str, Any]],
                       on_retry: Optional[OnRetry] = None) -> AssistantTurn:
        body: Dict[str, Any] = {"model": model, "messages": messages, "stream": False}
        if tools:
            body["tools"] = tools
            body["tool_choice"] = "auto"
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        payload = await self._post("/chat/completions", body, headers, on_retry)
        try:
            choice = payload["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise LlmError(f"the LLM's answer has no choices[0].message: {json.dumps(payload)[:300]}") from None
        calls: List[ToolCall] = []
        for index, raw in enumerate(message.get("tool_calls") or []):
            function = raw.get("function") or {}
            arguments, raw_text, problem = _parse_arguments(function.get("arguments"))
            calls.append(ToolCall(id=raw.get("id") or f"call_{index}", name=str(function.get("name", "")),
                                  arguments=arguments, raw_arguments=raw_text, argument_error=problem))
        content = message.get("content")
        return AssistantTurn(text=content if isinstance(content, str) else "", tool_calls=calls,
                             finish_reason=choice.get("finish_reason"))


class AnthropicClient(_HttpClient):
    def __init__(self, base_url: str, api_key: Optional[str], timeout: float, retry: Optional[RetryPolicy] = None,
                 max_tokens: int = 4096) -> None:
        super().__init__(base_url, timeout, retry)
        self.api_key = api_key
        self.max_tokens = max_tokens

    @staticmethod
    def translate(messages: List[Dict[str, Any]]) -> "tuple[str, List[Dict[str, Any]]]":
        system: List[str] = []
        out: List[Dict[str, Any]] = []
        for message in messages:
            role = message["role"]
            if role == "system":
                system.append(message.get("content") or "")
            elif role == "user":
                out.append({"role": "user", "content": [{"type": "text", "text": message.get("content") or ""}]})
            elif role == "assistant":
                blocks: List[Dict[str, Any]] = []
                if message.get("content"):
                    blocks.append({"type": "text", "text": message["content"]})
                for call in message.get("tool_calls") or []:
                    arguments, _, _ = _parse_arguments(call["function"].get("arguments"))
                    blocks.append({"type": "tool_use", "id": call["id"], "name": call["function"]["name"], "input": arguments})
                out.append({"role": "assistant", "content": blocks or [{"type": "text", "text": ""}]})
            elif role == "tool":
                block = {"type": "tool_result", "tool_use_id": message["tool_call_id"], "content": message.get("content") or ""}
                if out and out[-1]["role"] == "user" and all(b.get("type") == "tool_result" for b in out[-1]["content"]):
                    out[-1]["content"].append(block)
                else:
                    out.append({"role": "user", "content": [block]})
        return "\n\n".join(system), out

    async def complete(self, model: str, messages: List[Dict[str, Any]], tools: List[Dict[str, Any]],
                       on_retry: Optional[OnRetry] = None) -> AssistantTurn:
        system, converted = self.translate(messages)
        body: Dict[str, Any] = {"model": model, "max_tokens": self.max_tokens, "messages": converted}
        if system:
            body["system"] = system
        if tools:
            body["tools"] = [
                {"name": t["function"]["name"], "description": t["function"].get("description", ""),
                 "input_schema": t["function"]["parameters"]}
                for t in tools
            ]
        headers = {"anthropic-version": "2023-06-01"}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        payload = await self._post("/messages", body, headers, on_retry)
        texts: List[str] = []
        calls: List[ToolCall] = []
        for block in payload.get("content") or []:
            if block.get("type") == "text":
                texts.append(block.get("text", ""))
            elif block.get("type") == "tool_use":
                arguments = block.get("input") if isinstance(block.get("input"), dict) else {}
                calls.append(ToolCall(id=block.get("id", f"toolu_{len(calls)}"), name=block.get("name", ""),
                                      arguments=arguments, raw_arguments=json.dumps(arguments)))
        return AssistantTurn(text="".join(texts), tool_calls=calls, finish_reason=payload.get("stop_reason"))


def make_client(provider: str, base_url: str, api_key: Optional[str], timeout: float,
                retry: Optional[RetryPolicy] = None) -> LlmClient:
    if provider == "anthropic":
        return AnthropicClient(base_url, api_key, timeout, retry)
    return OpenAiClient(base_url, api_key, timeout, retry)
