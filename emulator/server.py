"""The emulator's lifecycle: start the Invoke API, serve, stop every environment."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from types import TracebackType

from emulator.config import EmulatorConfig
from emulator.http import HttpServer
from emulator.invoke_api import InvokeApi
from emulator.logs import LogSink
from emulator.service import FunctionService

__all__ = ["Emulator", "run"]


class Emulator:
    """``async with Emulator(config) as emulator:`` serves until the block ends."""

    def __init__(
        self, config: EmulatorConfig, sink: LogSink | None = None, retry_delay_s: float = 1.0
    ) -> None:
        self.config = config
        self._sink = sink or LogSink()
        self._services = {
            f.name: FunctionService(f, self._sink, retry_delay_s) for f in config.functions
        }
        self._api = InvokeApi(self._services)
        self._server = HttpServer(self._api.handle, config.host, config.port)

    @property
    def url(self) -> str:
        return f"http://{self._server.address}"

    async def start(self) -> None:
        for service in self._services.values():
            service.start()
        await self._server.start()

    async def stop(self) -> None:
        await self._server.stop()
        await self._api.close()
        await asyncio.gather(*(service.close() for service in self._services.values()))

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def run(config: EmulatorConfig, sink: LogSink | None = None) -> None:
    """Serve until SIGINT or SIGTERM, then shut every environment down."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    async with Emulator(config, sink) as emulator:
        names = ", ".join(f.name for f in config.functions)
        print(f"emulator: listening on {emulator.url} (functions: {names})", flush=True)
        await stopping.wait()
        print("emulator: shutting down", flush=True)
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):
            loop.remove_signal_handler(signum)
