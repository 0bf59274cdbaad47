"""Execution engine: a bounded pool of workers running the agent loop, with cancel and graceful stop."""
from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Set

from . import log
from .llm import LlmClient, LlmError, Retry
from .sandbox import BudgetExceeded, Sandbox
from .store import CANCELLED, FAILED, INTERRUPTED, QUEUED, RUNNING, SUCCEEDED, Store
from .tools import TOOL_NAMES, ToolError, Workspace, cap, schemas_for

DEFAULT_MAX_STEPS = 20
EVENT_OUTPUT_LIMIT = 4000


@dataclass(frozen=True)
class EngineSettings:
    workspace_root: str
    default_model: str
    max_concurrency: int = 4
    tool_output_limit: int = 16 * 1024
    command_timeout_seconds: float = 60.0
    disk_budget: Optional[int] = None


class Engine:
    def __init__(self, store: Store, llm: LlmClient, settings: EngineSettings, sandbox: Optional[Sandbox] = None) -> None:
        self.store = store
        self.llm = llm
        self.settings = settings
        self.sandbox = sandbox
        self.accepting = False
        self._queue: "asyncio.Queue[str]" = asyncio.Queue()
        self._workers: List["asyncio.Task[None]"] = []
        self._running: Dict[str, "asyncio.Task[None]"] = {}
        self._stop_reason: Dict[str, str] = {}
        self._breach: Dict[str, BudgetExceeded] = {}  # a budget passed while no command of it ran
        self._listeners: Dict[str, Set[asyncio.Event]] = {}
        # called with the execution's id after each of its changes (feed.py's all-executions stream)
        self.on_change: List[Callable[[str], None]] = []
        self.stopped = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Marks executions left `running` by a previous process as interrupted and queues the queued ones."""
        for execution_id in self.store.ids_with_status(RUNNING):
            self.store.transition(execution_id, INTERRUPTED, expect=(RUNNING,),
                                  error="the agent-runner stopped while this execution was running")
            log.warning("was running when the service stopped; marked interrupted", execution_id)
        for execution_id in self.store.ids_with_status(QUEUED):
            self._queue.put_nowait(execution_id)
            log.info("queued before restart; will run", execution_id)
        self.accepting = True
        if self.sandbox is not None:
            self._workers.append(asyncio.create_task(self.sandbox.reclaim(self.settings.workspace_root)))
        self._workers += [asyncio.create_task(self._worker(n)) for n in range(self.settings.max_concurrency)]

    async def shutdown(self, grace_seconds: float) -> None:
        """Takes no new work, lets running executions finish within the grace period, interrupts the rest.

        Queued executions stay queued in the store and run after the next start.
        """
        self.accepting = False
        running = list(self._running.values())
        if running:
            log.info(f"stopping: waiting up to {grace_seconds:g} s for {len(running)} running execution(s)")
            await asyncio.wait(running, timeout=grace_seconds)
        for execution_id, task in list(self._running.items()):
            self._stop_reason[execution_id] = INTERRUPTED
            task.cancel()
        leftovers = list(self._running.values())
        if leftovers:
            await asyncio.wait(leftovers, timeout=5)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        try:
            await self.llm.aclose()
        except Exception:
            pass
        self.stopped.set()
        self._wake_all()

    # -- API-facing ------------------------------------------------------------------------------

    def submit(self, execution_id: str) -> None:
        self._queue.put_nowait(execution_id)
        self._notify(execution_id)

    def cancel(self, execution_id: str) -> bool:
        """Cancels a queued or running execution; False when it already ended."""
        task = self._running.get(execution_id)
        if task is not None:
            self._stop_reason[execution_id] = CANCELLED
            task.cancel()
            return True
        moved = self.store.transition(execution_id, CANCELLED, expect=(QUEUED,), error="cancelled before it started")
        if moved:
            log.info("cancelled while queued", execution_id)
            self._notify(execution_id)
        return moved

    def listen(self, execution_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self._listeners.setdefault(execution_id, set()).add(event)
        return event

    def unlisten(self, execution_id: str, event: asyncio.Event) -> None:
        listeners = self._listeners.get(execution_id)
        if listeners is not None:
            listeners.discard(event)
            if not listeners:
                del self._listeners[execution_id]

    def workspace_dir(self, execution_id: str) -> str:
        return os.path.join(self.settings.workspace_root, execution_id)

    # -- internals -------------------------------------------------------------------------------

    def _notify(self, execution_id: str) -> None:
        for event in self._listeners.get(execution_id, ()):
            event.set()
        for hook in self.on_change:
            hook(execution_id)

    def _wake_all(self) -> None:
        for listeners in self._listeners.values():
            for event in listeners:
                event.set()
        for hook in self.on_change:
            hook("")

    def _emit(self, execution_id: str, type_: str, data: Dict[str, Any]) -> None:
        self.store.append_event(execution_id, type_, data)
        self._notify(execution_id)

    def _finish(self, execution_id: str, status: str, *, result: Optional[str] = None, error: Optional[str] = None) -> None:
        self.store.transition(execution_id, status, expect=(RUNNING,), result=result, error=error)
        self._notify(execution_id)
        log.info(f"{status}" + (f": {error}" if error else ""), execution_id)

    def _retry_reporter(self, execution_id: str, step: int) -> Callable[[Retry], None]:
        """Each retry of an LLM call becomes an `llm_retry` event (and a log line)."""
        def report(retry: Retry) -> None:
            log.info(f"LLM call failed ({retry.reason}); retry {retry.attempt - 1} of {retry.max_attempts - 1} "
                     f"in {retry.delay_seconds:.1f} s", execution_id)
            self._emit(execution_id, "llm_retry", {"step": step, **retry.as_event()})
        return report

    async def _worker(self, number: int) -> None:
        while True:
            execution_id = await self._queue.get()
            if not self.accepting:
                return
            if not self.store.transition(execution_id, RUNNING, expect=(QUEUED,)):
                continue  # cancelled while queued, or already handled
            self._notify(execution_id)
            log.info("running", execution_id)
            task = asyncio.create_task(self._run(execution_id))
            self._running[execution_id] = task
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                # The worker itself is being cancelled (shutdown); the task's fate is decided there.
                if not task.done():
                    await asyncio.wait([task], timeout=5)
                raise
            except Exception:
                pass
            finally:
                self._running.pop(execution_id, None)
                self._stop_reason.pop(execution_id, None)
                self._breach.pop(execution_id, None)

    async def _run(self, execution_id: str) -> None:
        try:
            await self._agent_loop(execution_id)
        except BudgetExceeded as breach:
            self._fail_on_budget(execution_id, breach)
        except asyncio.CancelledError:
            breach = self._breach.get(execution_id)
            if breach is not None and self._stop_reason.get(execution_id) == FAILED:
                self._fail_on_budget(execution_id, breach)
                return
            reason = self._stop_reason.get(execution_id, INTERRUPTED)
            message = "cancelled" if reason == CANCELLED else "the agent-runner stopped before this execution finished"
            self._finish(execution_id, reason, error=message)
        except LlmError as error:
            self._finish(execution_id, FAILED, error=str(error))
        except Exception as error:  # a bug must not leave the execution running
            log.error(f"unexpected error: {error!r}", execution_id, exc_info=True)
            self._finish(execution_id, FAILED, error=f"internal error: {error}")

    def _fail_on_budget(self, execution_id: str, breach: BudgetExceeded) -> None:
        self._emit(execution_id, "budget_exceeded", breach.event())
        self._finish(execution_id, FAILED, error=str(breach))

    def _on_breach(self, execution_id: str, workspace: Workspace, breach: BudgetExceeded) -> None:
        """The launcher killed the execution's commands for passing a budget. A command of it that is running
        raises the breach when its exit arrives; otherwise (a background process passed it while the model
        thinks) the execution is stopped here."""
        task = self._running.get(execution_id)
        if workspace.commands_running or task is None or execution_id in self._stop_reason:
            return
        self._breach[execution_id] = breach
        self._stop_reason[execution_id] = FAILED
        task.cancel()

    async def _agent_loop(self, execution_id: str) -> None:
        workspace = Workspace(self.workspace_dir(execution_id), self.settings.tool_output_limit,
                              self.settings.command_timeout_seconds, self.sandbox, self.settings.disk_budget)
        workspace.on_breach = lambda breach: self._on_breach(execution_id, workspace, breach)
        workspace.on_network = lambda destination, reason: self._emit(
            execution_id, "network_refused", {"destination": destination, "reason": reason})
        try:
            await self._steps(execution_id, workspace)
        finally:
            # Background processes the commands left end with the execution; its files go back to the service
            # (on an error or cancel here, before _run records the terminal status).
            await workspace.close()

    async def _steps(self, execution_id: str, workspace: Workspace) -> None:
        execution = self.store.get(execution_id)
        assert execution is not None
        agent = execution.agent
        workspace.network = agent.get("network")  # narrower than the runner's (validation.py), or None
        tools_allowed: List[str] = list(agent.get("tools") or TOOL_NAMES)
        max_steps = int(agent.get("max_steps") or DEFAULT_MAX_STEPS)
        model = agent.get("model") or self.settings.default_model
        system = (agent.get("instructions") or "").strip()
        system += (
            "\n\nYou work in a workspace directory; every path you give a tool is relative to it."
            " Use the tools to inspect and change files and to run commands."
        )
        if execution.files:
            system += "\nFiles uploaded to the workspace: " + ", ".join(execution.files)
        messages: List[Dict[str, Any]] = [
            {"role": "system", "content": system.strip()},
            {"role": "user", "content": execution.input},
        ]
        tool_schemas = schemas_for(tools_allowed)
        for step in range(1, max_steps + 1):
            turn = await self.llm.complete(model, messages, tool_schemas,
                                           on_retry=self._retry_reporter(execution_id, step))
            messages.append(turn.as_message())
            if turn.text:
                self._emit(execution_id, "model_turn", {"step": step, "text": turn.text})
            if not turn.tool_calls:
                self._emit(execution_id, "final", {"answer": turn.text})
                await workspace.close()  # before the terminal status: whoever waits for it finds the files handed back
                self._finish(execution_id, SUCCEEDED, result=turn.text)
                return
            for call in turn.tool_calls:
                self._emit(execution_id, "tool_call", {"step": step, "id": call.id, "name": call.name,
                                                       "arguments": call.arguments})
                extra: Dict[str, Any] = {}
                try:
                    if call.argument_error:
                        raise ToolError(call.argument_error)
                    if call.name not in tools_allowed:
                        raise ToolError(f"tool {call.name!r} is not available; available: {', '.join(tools_allowed)}")
                    outcome = await workspace.call(call.name, call.arguments)
                    ok, output, extra = outcome.ok, outcome.output, outcome.extra
                except BudgetExceeded as breach:
                    self._emit(execution_id, "tool_result", {"step": step, "id": call.id, "name": call.name, "ok": False,
                                                             "output": f"error: {breach}"})
                    raise
                except ToolError as error:
                    ok, output = False, f"error: {error}"
                except OSError as error:
                    ok, output = False, f"error: {error.strerror or error}"
                log.info(f"tool {call.name} {'ok' if ok else 'failed'}", execution_id)
                self._emit(execution_id, "tool_result", {"step": step, "id": call.id, "name": call.name, "ok": ok,
                                                         "output": cap(output, EVENT_OUTPUT_LIMIT), **extra})
                messages.append({"role": "tool", "tool_call_id": call.id, "content": output})
        await workspace.close()
        self._finish(execution_id, FAILED, error=f"max_steps ({max_steps}) reached without a final answer")
