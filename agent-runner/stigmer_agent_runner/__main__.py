"""Entry point: `python3 -m stigmer_agent_runner`."""
from __future__ import annotations

import asyncio
import gc
import sys
from typing import Any, Callable, List, Optional

import uvicorn

from . import app as app_module
from . import config as config_module
from . import log, startup
from .api import Api
from .store import StoreUnavailable

startup.mark("service imported")


class RunnerServer(uvicorn.Server):
    """uvicorn, with SIGTERM handled in the order the API promises.

    First signal: stop accepting connections and new executions, give running executions the grace
    period (their SSE streams still deliver the final events), mark the rest interrupted, then exit.
    A second signal exits at once.
    """

    def __init__(self, config: uvicorn.Config, api: Api) -> None:
        self._wake: Optional[Callable[[], None]] = None
        super().__init__(config)
        self.api = api
        self._draining = False

    # uvicorn's main loop wakes every 0.1 s to look at `should_exit` and to refresh the Date header: ten
    # wakeups a second cost the idle runner ~0.17 % of a core (its cgroup, 50 ms per 30 s). Here the loop
    # sleeps until `should_exit` is set (by a signal, the drain or uvicorn itself), and no Date header is
    # sent (date_header=False), so nothing needs refreshing.
    @property
    def should_exit(self) -> bool:
        return self._should_exit

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._should_exit = value
        if value and self._wake is not None:
            self._wake()

    async def main_loop(self) -> None:
        loop = asyncio.get_running_loop()
        exiting = asyncio.Event()
        # a signal handler runs between the loop's steps: call_soon_threadsafe wakes the loop's selector
        self._wake = lambda: loop.call_soon_threadsafe(exiting.set)
        while not await self.on_tick(0):
            await exiting.wait()
            exiting.clear()

    async def startup(self, sockets: Optional[List[Any]] = None) -> None:
        """The app's lifespan (the engine starts), then the port: /readyz answers from here on."""
        await super().startup(sockets)
        if not self.should_exit:
            startup.mark("listening")
            log.info(f"ready{startup.summary()}")
        gc.enable()  # the launcher turned it off for the start (sandbox_launcher.run_service)

    def handle_exit(self, sig: int, frame: Optional[Any]) -> None:
        if self._draining:
            self.force_exit = True
            self.should_exit = True
            return
        self._draining = True
        log.info(f"signal {sig}: stopping")
        asyncio.get_event_loop().call_soon_threadsafe(lambda: asyncio.ensure_future(self._drain()))

    async def _drain(self) -> None:
        for server in getattr(self, "servers", []):
            server.close()  # stop accepting connections
        await self.api.engine.shutdown(self.api.shutdown_grace_seconds)
        self.should_exit = True


def main() -> int:
    log.setup()
    try:
        config = config_module.load()
    except config_module.ConfigError as error:
        log.error(f"invalid configuration: {error}")
        return 2
    try:
        application, api = app_module.create(config)
    except (OSError, StoreUnavailable) as error:
        # one line, no traceback: the CLI shows the container's last lines when it exits while starting
        log.error(f"cannot start: {error}")
        return 1
    log.info(
        f"agent-runner listening on {config.http_host}:{config.http_port}; workspace {config.workspace}; "
        f"data {config.data}; LLM {config.llm_provider} at {config.llm_base_url} (model {config.llm_model}); "
        f"max concurrency {config.max_concurrency}; commands' network: {config.sandbox_network}"
    )
    server_config = uvicorn.Config(
        application,
        host=config.http_host,
        port=config.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        server_header=False,
        date_header=False,
        # named, not "auto": no WebSocket route, so no wsproto (Debian's uvicorn brings it; ~25 ms of CPU at
        # each start before the port is bound), and no probe for httptools, which the image does not have
        http="h11",
        ws="none",
    )
    RunnerServer(server_config, api).run()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
