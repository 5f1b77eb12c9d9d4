"""The emulator: start the Invoke API and the functions, serve, stop every environment.

What is built here and how it is wired::

    HttpServer ── ControlPlane ── InvokeFrontend ── Function ── FunctionService (one per version)
                  │               └── AsyncInvoker (Event: the durable queue) ──┘
                  ├── VersionsFrontend ── Catalog (versions, aliases) ── StateStore
                  └── EventConfigFrontend ── StateStore (the state directory)
    HttpServer ── UrlFrontend ────────────────────┘    └── EnvironmentDriver ── Lifecycle (core)
    (a function URL's)                                      ├── HttpServer (its Runtime API)
                                                            └── RuntimeProcess
    EventBus ── LogPrinter (the output, through LogSink) and Tails (X-Amz-Log-Result)
    ControlPlane ── LayerVersionsFrontend ── LayerStore (published layers, the state directory)
                 └── FunctionsFrontend ── LayerCatalog (layer ARNs to directories)
    ControlPlane ── mapping routes ── MappingService ── Poller (one per enabled mapping)
                                                      └── SqsGateway (boto3; moto embedded)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from types import TracebackType

from emulator.async_invoke.invoker import AsyncInvoker
from emulator.async_invoke.settings import AsyncSettings
from emulator.config import EmulatorConfig
from emulator.core.events import EventBus, Subscriber
from emulator.core.invocation import Ids
from emulator.core.lifecycle import Clock
from emulator.core.mappings import InvalidMapping
from emulator.environments.driver import Host
from emulator.errors import ConfigError
from emulator.frontends.concurrency import ConcurrencyFrontend
from emulator.frontends.control import ControlPlane, Route
from emulator.frontends.event_config import EventConfigFrontend
from emulator.frontends.functions import FunctionsFrontend
from emulator.frontends.invoke import InvokeFrontend
from emulator.frontends.layer_versions import LayerVersionsFrontend
from emulator.frontends.layers import LayerCatalog
from emulator.frontends.mappings import mapping_routes
from emulator.frontends.provisioned import ProvisionedFrontend
from emulator.frontends.urls import UrlFrontend
from emulator.frontends.versions import VersionsFrontend
from emulator.functions.registry import Account, Function, LiveConfigs
from emulator.functions.versions import Catalog
from emulator.http import HttpServer
from emulator.observe.logs import LogPrinter, Tails
from emulator.observe.sink import LogSink
from emulator.sources import MappingExists, MappingService, NoSuchFunction
from emulator.sqs import SqsGateway, SqsUnavailable
from emulator.state.layers import LayerStore
from emulator.state.store import StateStore

__all__ = ["Emulator", "SystemClock", "run"]

# At shutdown, answers owed to callers may take this long to go out.
_ANSWER_GRACE_S = 2.0


class SystemClock:
    """The real clocks: ``monotonic`` for durations, ``time`` for deadlines and stamps."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()


class Emulator:
    """``async with Emulator(config) as emulator:`` serves until the block ends.

    ``subscribers`` also get every lifecycle event (a test's, a dashboard's);
    ``clock`` is the real one unless a test passes its own.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        sink: LogSink | None = None,
        subscribers: tuple[Subscriber, ...] = (),
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self._own_sink = sink is None  # closed with the emulator; one given is its giver's
        self.sink = sink or LogSink()
        self.bus = EventBus()
        tails = Tails()
        everyone: list[Subscriber] = [LogPrinter(self.sink), tails, *subscribers]
        for subscriber in everyone:
            self.bus.subscribe(subscriber)
        self._clock = clock = clock or SystemClock()
        # The environments' /opt copies, in the state directory when there is one: what a
        # killed emulator left there is removed at the next start.
        scratch = None if config.state_dir is None else str(config.state_dir / "opt")
        self._scratch = scratch
        host = Host(self.bus, clock, config.environ, config.streaming, config.credentials, scratch)
        self._account = Account(config.account_concurrency)
        started = clock.time()
        for function in config.functions:
            Function(function, host, self._account, started)
        self._functions = self._account.functions
        ids = Ids()
        functions = LiveConfigs(self._functions)
        region = config.functions[0].region if config.functions else "us-east-1"
        self.sqs = SqsGateway(config.sqs_endpoint, region, self._sqs_started)
        self._store = StateStore(config.state_dir)
        state = config.state_dir
        self._layers = LayerStore(state / "layers" if state is not None else None, region)
        layers = LayerCatalog(functions, self._layers)
        self._catalog = Catalog(self._account, self._store, config.state_dir)
        self._settings = AsyncSettings(self._store, functions)
        self._queue = AsyncInvoker(
            self._store,
            self._functions,
            self._settings,
            clock=clock,
            bus=self.bus,
            ids=ids,
            sqs=self.sqs.send,
        )
        self._resumed: asyncio.Future[None] | None = None
        self._frontend = InvokeFrontend(self._functions, tails, ids, clock, self._queue)
        self.mappings = MappingService(self._functions, self.sqs, ids, clock, self.bus)
        routes: list[Route] = [
            *EventConfigFrontend(self._functions, self._settings, clock.time).routes,
            *ConcurrencyFrontend(self._account).routes,
            *FunctionsFrontend(self._functions, clock.time, layers).routes,
            *LayerVersionsFrontend(self._layers, clock.time).routes,
            *VersionsFrontend(self._functions, self._catalog, clock.time).routes,
            *ProvisionedFrontend(self._account, self._catalog, clock.time).routes,
            *mapping_routes(self.mappings),
        ]
        control = ControlPlane(routes, self._frontend.handle, ids.request_id)
        self._server = HttpServer(control.handle, config.host, config.port)
        self._urls: dict[str, tuple[UrlFrontend, HttpServer]] = {}
        for function in config.functions:
            if function.url is not None:
                front = UrlFrontend(
                    self._functions[function.name], function.url, ids, clock, self.bus
                )
                server = HttpServer(front.handle, config.host, function.url.port)
                self._urls[function.name] = (front, server)

    @property
    def url(self) -> str:
        return f"http://{self._server.address}"

    @property
    def counters(self) -> dict[str, int]:
        """The asynchronous queue's counters (AsyncEventsReceived, ...), for metrics."""
        return dict(self._queue.counters)

    @property
    def function_urls(self) -> dict[str, str]:
        """Each function URL's address, by function name."""
        return {name: f"http://{server.address}/" for name, (_, server) in self._urls.items()}

    async def start(self) -> None:
        await self._store.open()  # first: a second emulator on this state directory stops here
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            os.makedirs(self._scratch)
        await self._settings.load(self._clock.time())
        await self._catalog.load()
        await self._server.start()
        for _, server in self._urls.values():
            await server.start()
        for function in self._functions.values():
            function.start()
            function.provision()  # what the state directory had provisioned
        # In the background: what the last run left queued runs once the emulator has
        # said where it listens.
        self._resumed = asyncio.ensure_future(self._queue.start())

    async def start_sources(self) -> None:
        """SQS and the configured mappings, if the configuration wants them at start-up."""
        try:
            if self.config.sqs_at_start:
                await self.sqs.start()
            await self.mappings.start(self.config.mappings)
        except (InvalidMapping, NoSuchFunction, MappingExists, SqsUnavailable) as exc:
            raise ConfigError(f"event source mappings: {exc}") from None

    def _sqs_started(self, url: str) -> None:
        # Called from the gateway's thread: the sink takes lines from any thread.
        self.sink.write(f"emulator: SQS endpoint: {url}\n")

    async def stop(self) -> None:
        """Answer every caller first, then stop the environments."""
        self.mappings.halt()  # no poller takes a message it could not run
        self._frontend.closing = True
        self._queue.closing = True
        for front, _ in self._urls.values():
            front.closing = True
        for function in self._functions.values():
            function.shutdown()
        await asyncio.gather(
            self._server.stop(_ANSWER_GRACE_S),
            *(server.stop(_ANSWER_GRACE_S) for _, server in self._urls.values()),
        )
        if self._resumed is not None:
            await asyncio.gather(self._resumed, return_exceptions=True)
        await self._queue.close()  # what is queued stays in the store, for the next start
        await self._frontend.close()
        await asyncio.gather(*(front.close() for front, _ in self._urls.values()))
        await self.mappings.close()  # their batches in the functions ended with them
        await asyncio.gather(*(function.close() for function in self._functions.values()))
        await self.sqs.close()
        await self._store.close()
        self._layers.close()
        self._catalog.close()
        if self._own_sink:
            self.sink.close()

    async def __aenter__(self) -> Emulator:
        await self.start()
        await self.start_sources()
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
    sink = sink or LogSink()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    emulator = Emulator(config, sink)
    try:
        await emulator.start()
        try:
            names = ", ".join(f.name for f in config.functions)
            sink.write(f"emulator: listening on {emulator.url} (functions: {names})\n")
            for name, url in emulator.function_urls.items():
                sink.write(f"emulator: function URL of {name}: {url}\n")
            await emulator.start_sources()  # after the first line, which tells the URL
            await stopping.wait()
            sink.write("emulator: shutting down\n")
        finally:
            await emulator.stop()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):
                loop.remove_signal_handler(signum)
        sink.close()
