"""One execution environment's driver: :class:`~emulator.core.lifecycle.Lifecycle`
run over its Runtime API server, its runtime process and its timers.

The driver turns what happens into the lifecycle's events and carries out the
effects it returns; it decides nothing itself. The Runtime API is served on a
loopback port of its own, and only to the environment's own processes: a
connection from any other process on the machine is refused (on Linux, where
/proc names the process holding the connection's other end). That keeps
another program from taking an event or posting a forged answer, without
changing what a runtime needs to know: ``AWS_LAMBDA_RUNTIME_API`` stays HOST:PORT.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import os
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.config import FunctionConfig
from emulator.core.effects import (
    CancelTimer,
    Complete,
    Drain,
    Effect,
    Emit,
    FreeSlot,
    HandOut,
    Kill,
    Retire,
    StartTimer,
)
from emulator.core.events import EventBus, Notice, Where
from emulator.core.invocation import Invocation, Outcome
from emulator.core.lifecycle import Clock, Lifecycle
from emulator.core.streaming import StreamLimits
from emulator.environments import procfs
from emulator.environments.limits import lifecycle_limits, runtime_api_limits
from emulator.environments.opt import OptDir, with_layers
from emulator.environments.process import ProcessSpec, RuntimeProcess, describe_status
from emulator.environments.relay import StreamRelay
from emulator.environments.streamed import StreamedPosts
from emulator.environments.variables import lambda_environment
from emulator.errors import ApiError
from emulator.extensions import Extensions
from emulator.http import BodyTooLarge, ConnectionInfo, HttpServer, Request, Response
from emulator.protocols import runtime_api as api

__all__ = ["EnvironmentDriver", "Host"]

# Memory is sampled this often while the environment serves, less often while idle.
_BUSY_SAMPLE_S = 0.05
_IDLE_SAMPLE_S = 0.5
_INIT_ERROR_LIMIT = 6 * 1024 * 1024


@dataclass(frozen=True)
class Host:
    """What every environment of the emulator shares: the event stream, the clock, the
    emulator's own environment variables (read once; a runtime inherits a few), and
    the limits of streamed responses."""

    bus: EventBus
    clock: Clock
    environ: Mapping[str, str]
    streaming: StreamLimits = field(default_factory=StreamLimits)
    credentials: Mapping[str, str] = field(default_factory=dict)  # every function's
    scratch: str | None = None  # where environments' /opt copies go (None: the system's tmp)


class EnvironmentDriver:
    """A runtime process, the Runtime API it talks to, and the lifecycle between them.

    ``on_free(env)``: one of its slots is free again; ``on_gone(env)``: it is out
    of service. Both are called from the event loop, never re-entrantly.
    """

    def __init__(
        self,
        env_id: int,
        function: FunctionConfig,
        host: Host,
        *,
        on_free: Callable[[int], None],
        on_gone: Callable[[int], None],
        provisioned: bool = False,
    ) -> None:
        self.id = env_id
        self.function = function
        self._host = host
        self._bus = host.bus
        self._on_free = on_free
        self._on_gone = on_gone
        self.provisioned = provisioned
        limits = lifecycle_limits(function, provisioned)
        where = Where(function.name, function.version, env_id)
        self.core = Lifecycle(where, limits, host.clock)
        self._server = HttpServer(
            self._route, limits=runtime_api_limits(function), accept=self._accept
        )
        self._extensions = Extensions(function)
        self._process: RuntimeProcess | None = None
        self._opt: OptDir | None = None  # the merged layers, while the environment lives
        self._waiters: dict[int, asyncio.Future[HandOut | None]] = {}
        self._callers: dict[str, asyncio.Future[Outcome]] = {}
        self._relays: dict[str, StreamRelay] = {}
        self._streams = StreamedPosts(self.core, self._apply, host.streaming, host.clock)
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._peers: dict[tuple[str, int], int | None] = {}
        self._numbers = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopped: asyncio.Task[None] | None = None
        self._start_done = asyncio.Event()
        self._ready = asyncio.Event()  # its init ended, or it is gone

    @property
    def alive(self) -> bool:
        return not self.core.retired

    @property
    def returning(self) -> bool:
        return self.core.returning

    @property
    def initialised(self) -> bool:
        return self.core.initialized

    async def ready(self) -> bool:
        """Wait until its init has ended: whether it did (else the environment is gone)."""
        await self._ready.wait()
        return self.alive

    async def start(self) -> None:
        """Serve the Runtime API and start the runtime; one that cannot be started fails
        the invocations placed here with Runtime.InvalidEntrypoint."""
        try:
            await self._server.start()
            if not self.core.retired:  # shut down while it started: nothing to spawn
                await self._spawn_runtime()
        except (OSError, ValueError) as exc:  # ValueError: e.g. a NUL in the command
            self._apply(self.core.start_failed(str(exc)))
        finally:
            self._start_done.set()

    async def _spawn_runtime(self) -> None:
        when = datetime.datetime.fromtimestamp(self._host.clock.time(), datetime.timezone.utc)
        address = self._server.address
        host = self._host
        env = lambda_environment(self.function, address, host.environ, when, host.credentials)
        if self.provisioned:
            env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "provisioned-concurrency"
        # A copy of the layers: off the loop, which other invocations go on using meanwhile.
        self._opt = await asyncio.to_thread(with_layers, self.function.layers, env, host.scratch)
        spec = ProcessSpec(
            self.function.command,
            self.function.code_dir,
            env,
            provider=self.function.max_concurrency > 1,
        )
        self._process = await RuntimeProcess.start(spec, self._output)
        self._spawn(self._watch_exit(self._process))
        self._spawn(self._watch_memory(self._process))
        self._apply(self.core.start())

    def deliver(
        self, invocation: Invocation, relay: StreamRelay | None = None
    ) -> asyncio.Future[Outcome]:
        """Run ``invocation`` here (its slot taken); the future is its outcome.

        With a ``relay``, a streamed response goes to it as it comes; without,
        it is read whole, as a buffered one is.
        """
        future = asyncio.get_running_loop().create_future()
        self._callers[invocation.request_id] = future
        if relay is not None:
            self._relays[invocation.request_id] = relay
        self._apply(self.core.deliver(invocation))
        return future

    def shutdown(self) -> None:
        """End whatever runs here now, and stop the runtime."""
        self._apply(self.core.shutdown())

    async def closed(self) -> None:
        """Wait until the runtime and the Runtime API are gone (after a Retire)."""
        if self._stopped is not None:
            await self._stopped
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- effects ---------------------------------------------------------------------

    def _apply(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, HandOut):
                self._hand_out(effect)
            elif isinstance(effect, Complete):
                self._complete(effect)
            elif isinstance(effect, Emit):
                self._bus.emit(effect.event)
            elif isinstance(effect, Drain):
                self._spawn(self._drain(effect.request_id))
            elif isinstance(effect, (StartTimer, CancelTimer)):
                self._timer(effect)
            elif isinstance(effect, FreeSlot):
                self._on_free(self.id)
            elif isinstance(effect, Kill):
                if self._process is not None:
                    self._process.kill()
            elif isinstance(effect, Retire):
                self._retire()

    def _complete(self, effect: Complete) -> None:
        request_id = effect.invocation.request_id
        relay = self._relays.pop(request_id, None)
        if relay is not None:  # whatever the runtime still streams goes nowhere now
            relay.close()
        future = self._callers.pop(request_id, None)
        if future is not None and not future.done():
            future.set_result(effect.outcome)

    def _hand_out(self, effect: HandOut) -> None:
        waiter = self._waiters.pop(effect.waiter, None)
        if waiter is None or waiter.done():  # its request was cancelled meanwhile
            self._apply(self.core.not_delivered(effect.invocation.request_id))
        else:
            waiter.set_result(effect)

    def _timer(self, effect: StartTimer | CancelTimer) -> None:
        handle = self._timers.pop(effect.key, None)
        if handle is not None:
            handle.cancel()
        if isinstance(effect, StartTimer):
            loop = asyncio.get_running_loop()
            self._timers[effect.key] = loop.call_later(effect.delay_s, self._fire, effect.key)

    def _fire(self, key: str) -> None:
        self._timers.pop(key, None)
        self._apply(self.core.timer_fired(key))

    def _retire(self) -> None:
        self._ready.set()
        self._on_gone(self.id)
        self._stopped = asyncio.ensure_future(self._stop())

    async def _stop(self) -> None:
        self._extensions.close()
        await self._start_done.wait()  # a process being spawned is stopped too
        if self._process is not None:
            await self._process.stop(self.function.grace_s)
        await self._server.stop()
        if self._opt is not None:
            self._opt.close()
        for handle in self._timers.values():
            handle.cancel()

    async def _drain(self, request_id: str) -> None:
        peak = self.core.peak_mb
        if self._process is not None:
            await self._process.drain()
            peak = self._process.memory_mb()[1]
        self._apply(self.core.drained(request_id, peak))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the process -----------------------------------------------------------------

    def _output(self, text: str, pid: int | None) -> None:
        self._apply(self.core.output(text, pid))

    async def _watch_exit(self, process: RuntimeProcess) -> None:
        status = await process.exited()
        await process.drain()
        self._apply(self.core.process_exited(describe_status(status)))

    async def _watch_memory(self, process: RuntimeProcess) -> None:
        while process.running and not self.core.retired:
            rss, peak = process.memory_mb()
            self._apply(self.core.memory(rss, peak))
            await asyncio.sleep(_BUSY_SAMPLE_S if self.core.busy else _IDLE_SAMPLE_S)

    # -- the Runtime API -------------------------------------------------------------

    def _accept(self, info: ConnectionInfo) -> bool:
        """Only the environment's own processes may use its Runtime API."""
        if not procfs.available() or info.peer is None or info.local is None:
            return True
        inode = procfs.socket_inode(info.peer, info.local)
        pid = None
        if inode is not None:
            pid = (
                self._process.owner_of(inode)
                if self._process is not None
                # Still being spawned: a process the emulator started, at least.
                else procfs.owner(inode, procfs.descendants(os.getpid()))
            )
        if pid is None:
            text = (
                f"refused a Runtime API connection from {info.peer[0]}:{info.peer[1]}: "
                f"not a process of environment {self.id}"
            )
            self._bus.emit(Notice(self.function.name, text))
            return False
        self._peers[info.peer] = pid
        return True

    async def _route(self, request: Request) -> Response:
        try:
            return await self._dispatch(request)
        except ApiError as exc:  # the Extensions API's refusals
            return _json(exc.status, api.error_body(exc.error_type, exc.message))

    async def _dispatch(self, request: Request) -> Response:
        where = api.route(request.method, request.path)
        kind = where.kind
        if kind is api.RouteKind.NEXT:
            return await self._next(request)
        if kind in (api.RouteKind.RESPONSE, api.RouteKind.ERROR):
            return await self._post(where.request_id, kind is api.RouteKind.ERROR, request)
        if kind is api.RouteKind.INIT_ERROR:
            return await self._init_error(request)
        if kind is api.RouteKind.RESTORE_NEXT:
            return Response(200)  # no snapshot here: "restored" at once
        answer = await self._extensions.route(request, self.core.initialized)
        if answer is not None:
            return answer
        message = f"no such Runtime API endpoint: {request.method} {request.path}"
        return _json(404, api.error_body("NotFound", message))

    async def _next(self, request: Request) -> Response:
        waiter = next(self._numbers)
        future: asyncio.Future[HandOut | None] = asyncio.get_running_loop().create_future()
        self._waiters[waiter] = future
        pid = self._peers.get(request.peer) if request.peer is not None else None
        initializing = not self.core.initialized
        self._apply(self.core.next_requested(waiter, pid))
        if initializing and self._process is not None:
            # Init is done: the runtime's memory now, in case it dies before the next sample.
            self._apply(self.core.memory(*self._process.memory_mb()))
            self._ready.set()
        # A runtime that went (a worker killed while it waited) is never handed an event.
        request.when_peer_gone(lambda: self._peer_left(waiter, future))
        try:
            handout = await future
        except asyncio.CancelledError:
            self._left(waiter, future)
            raise
        if handout is None or request.peer_gone:
            self._left(waiter, future)
            return Response(410)  # nobody reads it: the connection has gone
        invocation = handout.invocation
        headers = api.event_headers(invocation, handout.deadline_ms, self.function.arn)
        return Response(
            200, headers, invocation.payload, on_sent=lambda ok: self._sent(invocation, ok)
        )

    def _peer_left(self, waiter: int, future: asyncio.Future[HandOut | None]) -> None:
        if not future.done():  # else it was handed an event: _left puts it back
            self._left(waiter, future)
            future.set_result(None)

    def _left(self, waiter: int, future: asyncio.Future[HandOut | None]) -> None:
        """A waiter whose connection went: an event it was handed goes back first in line."""
        handout = future.result() if future.done() and not future.cancelled() else None
        if handout is not None:
            self._apply(self.core.not_delivered(handout.invocation.request_id))
        else:
            self._waiters.pop(waiter, None)
            self._apply(self.core.waiter_gone(waiter))

    def _sent(self, invocation: Invocation, ok: bool) -> None:
        rid = invocation.request_id
        if not ok:
            self._apply(self.core.not_delivered(rid))
            return
        self._apply(self.core.sent(rid))

    async def _post(self, request_id: str, error: bool, request: Request) -> Response:
        if not error and api.is_streamed(request.headers):
            relay = self._relays.get(request_id)
            if relay is None:
                return await self._streams.collect(request_id, request)
            return await self._streams.relay(request_id, request, relay)
        limit = self.core.limits.response_limit
        try:
            body = await request.read(limit)
        except BodyTooLarge as exc:  # refused unread; a chunked post counts what had come
            post, effects = self.core.post_too_large(request_id, exc.size)
        else:  # error trailers end a streamed response: _collect and _relay read those
            content_type = request.headers.get("content-type", "application/json")
            post, effects = self.core.posted(request_id, error, body, content_type)
        self._apply(effects)
        status, answer = api.answer(post, request_id, limit)
        return _json(status, answer)

    async def _init_error(self, request: Request) -> Response:
        try:
            body = await request.read(_INIT_ERROR_LIMIT)
        except BodyTooLarge:
            body = b""
        error_type = request.headers.get(api.H_ERROR_TYPE, "Runtime.Unknown")
        post, effects = self.core.init_error(error_type, body)
        self._apply(effects)
        status, answer = api.answer(post, "", _INIT_ERROR_LIMIT)
        return _json(status, answer)


def _json(status: int, body: bytes) -> Response:
    return Response(status, [("Content-Type", "application/json")], body)
