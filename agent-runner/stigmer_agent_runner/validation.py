"""What a request may carry: the execution document, uploaded file names and numeric parameters.

Every refusal is a RequestError (4xx) naming the field, so that no malformed request reaches the
store or the file system (where it would fail as a 500 and leave something behind).
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, Optional, Tuple

from . import netrules
from .errors import RequestError
from .tools import TOOL_NAMES

MAX_STEPS_LIMIT = 1000
# The longest file name Linux file systems take (NAME_MAX), in bytes of its UTF-8 encoding.
MAX_FILE_NAME_BYTES = 255
# SQLite's INTEGER range: larger numbers cannot even be compared with a stored value.
MAX_SQL_INTEGER = (1 << 63) - 1
_ASCII_DIGITS = re.compile(r"[0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def ascii_int(raw: Optional[str], field: str, low: int, high: int, default: int) -> int:
    """A parameter made of ASCII digits only (`²` and `٣` are digits to str.isdigit, not to us), in range."""
    if raw is None:
        return default
    text = raw.strip(" \t")
    if len(text) > len(str(high)) or not _ASCII_DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise RequestError(422, f"{field} must be an integer from {low} to {high}", field)
    return int(text)


def require_unicode(value: str, field: str) -> str:
    """Refuses text that cannot be stored or sent on as UTF-8 (a lone surrogate such as \\ud800 in JSON)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise RequestError(422, f"{field} is not valid Unicode (lone surrogate at character {error.start})", field) from None
    return value


def parse_json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise RequestError(400, f"{what} is nested too deeply", what) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise RequestError(400, f"{what} is not valid JSON: {error}", what) from None


def validate_execution(payload: Any, runner_network: str = "none", may_widen: bool = False) -> Tuple[Dict[str, Any], str]:
    """The agent and input of a new execution; runner_network: the policy an agent.network may only narrow
    (unless may_widen: agentRunner.sandbox.agentsMayWiden)."""
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
    require_unicode(name, "agent.name")
    instructions = agent.get("instructions", "")
    if not isinstance(instructions, str):
        raise RequestError(422, "agent.instructions must be a string", "agent.instructions")
    require_unicode(instructions, "agent.instructions")
    model = agent.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise RequestError(422, "agent.model must be a non-empty string", "agent.model")
    if model is not None:
        require_unicode(model, "agent.model")
    tools = agent.get("tools")
    if tools is not None:
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            raise RequestError(422, "agent.tools must be a list of tool names", "agent.tools")
        unknown = [t for t in tools if t not in TOOL_NAMES]
        if unknown:
            shown = unknown[0].encode("utf-8", "backslashreplace").decode("utf-8")
            raise RequestError(422, f"agent.tools: unknown tool {shown!r} (known: {', '.join(TOOL_NAMES)})", "agent.tools")
    max_steps = agent.get("max_steps")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or not 1 <= max_steps <= MAX_STEPS_LIMIT):
        raise RequestError(422, f"agent.max_steps must be an integer from 1 to {MAX_STEPS_LIMIT}", "agent.max_steps")
    network = agent.get("network")
    if network is not None:
        if not isinstance(network, str):
            raise RequestError(422, "agent.network must be a string: none, internet or allow:ENTRY,ENTRY", "agent.network")
        try:
            network = netrules.canonical(network)
        except netrules.RuleError as error:
            raise RequestError(422, f"agent.network: {error}", "agent.network") from None
        problem = None if may_widen else netrules.narrowing_problem(network, runner_network)
        if problem:
            raise RequestError(422, f"agent.network: {problem}", "agent.network")
    input_text = payload.get("input")
    if input_text is None:
        raise RequestError(422, "input is required", "input")
    if not isinstance(input_text, str):
        raise RequestError(422, "input must be a string", "input")
    require_unicode(input_text, "input")
    clean: Dict[str, Any] = {"name": name, "instructions": instructions}
    if model is not None:
        clean["model"] = model
    if tools is not None:
        clean["tools"] = tools
    if max_steps is not None:
        clean["max_steps"] = max_steps
    if network is not None:
        clean["network"] = network
    return clean, input_text


def safe_filename(raw: bytes) -> str:
    """The last component of an uploaded file's name (raw header bytes, UTF-8); never a path that leaves
    the workspace, never a name the file system refuses (over 255 bytes) or a terminal would act on."""
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(422, "files: a file name is not valid UTF-8", "files") from None
    name = decoded.replace("\\", "/").split("/")[-1].strip()
    shown = ascii(decoded[:80])
    if name in ("", ".", ".."):
        raise RequestError(422, f"files: invalid file name {shown}", "files")
    if _CONTROL.search(name):
        raise RequestError(422, f"files: file name {shown} contains control characters", "files")
    if len(name.encode("utf-8")) > MAX_FILE_NAME_BYTES:
        raise RequestError(422, f"files: file name {shown}... is longer than {MAX_FILE_NAME_BYTES} bytes", "files")
    return name
