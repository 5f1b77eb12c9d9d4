"""One runtime's life: init, then serve (lambda-runtime-environment.html, "Runtime lifecycle").

:meth:`Runtime.init` is Lambda's init phase: the ``logging`` watch, the
handler's import (a failure is reported to ``/runtime/init/error``), orjson
when init is off the caller's path, the shutdown extension when the function
registered ``on_shutdown`` hooks, and SnapStart's hooks around the restore.
It builds the handler pipeline. :meth:`Runtime.serve` is the invoke phase:
:func:`run`, the hot loop, until the Runtime API fails for good.

The pipeline turns an invocation into its outcome in three layers, each a
small object built once at init:

1. :class:`Call` calls the handler: the invocation's ``_X_AMZN_TRACE_ID``, its
   context (in the ``ContextVar``), the event decoded, the handler called, and
   the function's standard output and error flushed, so that a line without
   its newline is in this invocation's log before the result is posted.
2. :class:`Respond` maps the handler's result to an outcome: bytes as they
   are, anything else as JSON, both :class:`~ric.outcome.Buffered`; an
   iterator (a generator), ``ric.Stream`` or ``ric.HttpStream`` a
   :class:`~ric.outcome.Streamed` (:mod:`ric.stream`, imported then).
3. :class:`Failures` turns what either raised into a logged
   :class:`~ric.outcome.Failed`: the handler's exception with its stack, or a
   fault of the runtime's (event, context or result it could not convert).

:func:`run` posts each outcome with :class:`~ric.client.RuntimeClient` and can
be bounded to a number of invocations. What comes later lands as a layer of
its own, imported only when a handler needs it. An awaitable result (an
``async def`` handler's coroutine) is run by :class:`Call` on the process's
one event loop, and an async iterator result streams through it:
:class:`LoopRef` imports :mod:`ric.aio` (and asyncio) the first time either
shows up, so a sync handler never imports them. (Layers live in this module,
not one each: each module on the way to the first ``GET /next`` costs every
cold start its import.)
"""

from __future__ import annotations

import sys

from ric import __version__
from ric.client import RuntimeClient
from ric.context import CURRENT, Scope, TraceId, make_context
from ric.errors import ConfigError, InitError, InvocationError, RuntimeApiError
from ric.handler import is_async, load_without_collections
from ric.log import flush_output, runtime_line, when_imported
from ric.marshal import Codec
from ric.outcome import Buffered, Failed
from ric.protocol import RequestBuilder
from ric.transport import Connection, parse_address

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping
    from contextvars import Context
    from typing import Any

    from ric.aio import AsyncChunks, EventLoop
    from ric.concurrent import AsyncPipeline
    from ric.config import RuntimeConfig
    from ric.errors import RicError
    from ric.log import LogSink
    from ric.outcome import Outcome, Streamed
    from ric.protocol import ErrorReport, Invocation
    from ric.records import ErrorLog

    Handler = Callable[[Any, Any], Any]

__all__ = [
    "BUFFERED",
    "Call",
    "Failures",
    "LoopRef",
    "Pipeline",
    "Respond",
    "Runtime",
    "address",
    "connect",
    "requests",
    "run",
    "streams",
]


class _Raised(Exception):
    """Carries what the handler raised out of :class:`Call`, apart from our own faults."""

    def __init__(self, exception: Exception) -> None:
        super().__init__()
        self.exception = exception


# What handlers return most: JSON values and bytes, never awaited nor streamed
# (a dict or a list is iterable, not an iterator). One set lookup keeps them
# off the awaitable and streaming checks.
BUFFERED = frozenset({dict, list, str, bytes, int, float, bool, tuple, type(None)})


class LoopRef:
    """The process's event loop (:mod:`ric.aio`), made the first time a handler needs one."""

    __slots__ = ("_choice", "_loop")

    def __init__(self, choice: str = "auto") -> None:
        self._choice = choice
        self._loop: EventLoop | None = None

    def get(self) -> EventLoop:
        if self._loop is None:
            from ric.aio import EventLoop

            self._loop = EventLoop(self._choice)
        return self._loop

    def iterate(self, source: Any) -> AsyncChunks:
        """An async iterator as chunks for :mod:`ric.stream`, run on the loop."""
        return self.get().iterate(source)


class Call:
    """Layer 1: call the handler with the invocation's event and context.

    An awaitable result (what an ``async def`` handler returns) is awaited on
    ``loop``'s event loop, still inside the invocation's context.
    """

    __slots__ = ("_codec", "_config", "_handler", "_loop", "_scope", "_trace")

    def __init__(
        self,
        handler: Handler,
        config: RuntimeConfig,
        codec: Codec,
        trace: TraceId,
        scope: Scope,
        *,
        loop: LoopRef | None = None,
    ) -> None:
        self._handler = handler
        self._config = config
        self._codec = codec
        self._trace = trace
        self._scope = scope
        self._loop = LoopRef(config.event_loop) if loop is None else loop

    def __call__(self, invocation: Invocation) -> Any:
        """The handler's result; what it raised comes out as ``_Raised``."""
        self._trace.set(invocation.trace_id)
        context = make_context(invocation, self._config, self._scope.log)
        self._scope.latest = context
        token = CURRENT.set(context)
        try:
            event = self._codec.decode(invocation.body, invocation.content_type)
            try:
                result = self._handler(event, context)
                if type(result) not in BUFFERED and hasattr(type(result), "__await__"):
                    result = self._loop.get().run(result)
                return result
            except Exception as exc:
                raise _Raised(exc) from None
            finally:
                flush_output()
        finally:
            CURRENT.reset(token)


class Respond:
    """Layer 2: the handler's result as an outcome."""

    __slots__ = ("_codec", "_failures", "_loop", "_scope")

    def __init__(
        self,
        codec: Codec,
        failures: Failures,
        *,
        loop: LoopRef | None = None,
        scope: Scope | None = None,
    ) -> None:
        self._codec = codec
        self._failures = failures
        self._loop = LoopRef() if loop is None else loop
        self._scope = scope

    def __call__(self, result: Any, request_id: str) -> Outcome:
        if type(result) in BUFFERED or not streams(result):
            return Buffered(*self._codec.encode(result))
        return self._stream(result, request_id)

    def _stream(self, result: object, request_id: str) -> Streamed:
        from ric.stream import streamed

        failures = self._failures

        def fail(exc: Exception) -> ErrorReport:
            return failures.report(exc, request_id)

        return streamed(result, self._codec, fail, self._body())

    def _body(self) -> Callable[[Any], Any]:
        """What makes a stream's chunks of its source: :class:`ric.stream.Chunks`, each
        step of an async source run on the loop, in the invocation's context."""
        from ric.stream import Chunks, sync_source

        iterate = self._loop.iterate
        context = self._body_context()

        def body(source: Any) -> Chunks:
            return Chunks(sync_source(source, iterate), flush_output, context)

        return body

    def _body_context(self) -> Context | None:
        """Where a stream's body runs: the invocation's context current, as in the handler."""
        invocation = None if self._scope is None else self._scope.latest
        if invocation is None:
            return None
        from _contextvars import copy_context

        context = copy_context()
        context.run(CURRENT.set, invocation)
        return context


def streams(result: object) -> bool:
    """Whether ``result`` streams: a Stream, an async iterator, or an iterator but a
    str, bytes, dict or list."""
    if hasattr(type(result), "__next__"):
        return not isinstance(result, (str, bytes, dict, list))
    if hasattr(type(result), "__anext__"):
        return True
    stream = sys.modules.get("ric.stream")  # no Stream exists before its module is loaded
    return stream is not None and isinstance(result, stream.Stream)


class Failures:
    """Layer 3: an exception as a :class:`~ric.outcome.Failed` outcome, logged first."""

    __slots__ = ("_cwd", "_log")

    def __init__(self, cwd: str, log: Callable[[ErrorLog], None]) -> None:
        self._cwd = cwd
        self._log = log

    def user(self, exc: Exception, request_id: str) -> Failed:
        """What the handler raised."""
        from ric.report import user_report  # error path only

        return self._failed(user_report(exc, request_id, self._cwd))

    def fault(self, error: RicError, request_id: str) -> Failed:
        """An event, context or result the runtime could not convert."""
        from ric.report import fault_report  # error path only

        return self._failed(fault_report(error, request_id, self._cwd))

    def report(self, exc: Exception, request_id: str) -> ErrorReport:
        """What a stream's body raised, logged: the runtime's faults (a chunk that is
        not bytes) as :meth:`fault` reports them, the rest as :meth:`user`."""
        if isinstance(exc, InvocationError):
            return self.fault(exc, request_id).report
        return self.user(exc, request_id).report

    def _failed(self, report: ErrorReport) -> Failed:
        self._log(report.log)
        return Failed(report)


class Pipeline:
    """The layers, composed: one invocation in, its outcome out; no I/O but the user's."""

    __slots__ = ("_call", "_failures", "_respond")

    def __init__(self, call: Call, respond: Respond, failures: Failures) -> None:
        self._call = call
        self._respond = respond
        self._failures = failures

    def handle(self, invocation: Invocation) -> Outcome:
        try:
            return self._respond(self._call(invocation), invocation.request_id)
        except _Raised as raised:
            return self._failures.user(raised.exception, invocation.request_id)
        except InvocationError as exc:
            return self._failures.fault(exc, invocation.request_id)


def run(client: RuntimeClient, pipeline: Pipeline, max_invocations: int | None = None) -> None:
    """Serve invocations until the Runtime API fails or ``max_invocations`` are done."""
    if max_invocations == 0:
        return
    invocation = client.next_invocation()
    served = 1
    while True:
        outcome = pipeline.handle(invocation)
        if served == max_invocations:
            client.complete_last(invocation, outcome)
            return
        invocation = client.complete(invocation, outcome)
        served += 1


def connect(config: RuntimeConfig, sink: LogSink) -> RuntimeClient:
    """A client of the Runtime API at ``config.runtime_api`` (ConfigError if malformed)."""
    host, port = address(config)
    return RuntimeClient(Connection(host, port), requests(config), sink.text)


def address(config: RuntimeConfig) -> tuple[str, int]:
    """The Runtime API's host and port (ConfigError if malformed)."""
    try:
        return parse_address(config.runtime_api)
    except ValueError as exc:
        raise ConfigError(f"AWS_LAMBDA_RUNTIME_API: {exc}") from None


def requests(config: RuntimeConfig) -> RequestBuilder:
    """The builder of this runtime's requests, with its User-Agent."""
    user_agent = f"ric/{__version__} python/{sys.version.split()[0]}"
    return RequestBuilder(config.runtime_api, user_agent)


class Runtime:
    """Init, then serve; each phase returns what the process exits with."""

    __slots__ = ("_client", "_config", "_cwd", "_environ", "_loop", "_pipeline", "_sink")

    def __init__(
        self,
        config: RuntimeConfig,
        client: RuntimeClient,
        sink: LogSink,
        environ: MutableMapping[str, str],
        cwd: str,
    ) -> None:
        self._config = config
        self._client = client
        self._sink = sink
        self._environ = environ
        self._cwd = cwd
        self._pipeline: Pipeline | AsyncPipeline | None = None
        self._loop = LoopRef(config.event_loop)

    def run(self, init_failed: int = 1) -> int:
        """Init and serve; ``init_failed`` is the exit status after a reported init error."""
        status = self.init(init_failed)
        return self.serve() if status is None else status

    def init(self, init_failed: int = 1) -> int | None:
        """The init phase; None when ready to serve, else the exit status."""
        config, sink = self._config, self._sink
        scope = Scope(sink.text)
        when_imported("logging", lambda _: _install_logging(sink, scope, config.log_level))
        try:
            handler = load_without_collections(config.handler, config.task_root)
            if config.concurrency_mode == "async" and not is_async(handler):
                from ric.concurrent import HandlerNotAsync

                raise HandlerNotAsync(config.handler)
            loop = self._loop
            if is_async(handler):  # the loop (and asyncio's import) in Init Duration
                loop.get()
            if (hooks := sys.modules.get("ric.oninit")) is not None:  # imported to register
                hooks.registry().run(lambda awaitable: loop.get().run(awaitable))
        except InitError as exc:
            self._report_init_error(exc)
            return init_failed
        codec = Codec()
        if config.initialization_type != "on-demand":
            # Init runs ahead of any caller here, so pay for orjson now, not later.
            codec.load_orjson()
        if (shutdown := sys.modules.get("ric.shutdown")) is not None:  # imported to register
            shutdown.prepare(config, sink, self._loop)  # during init: before a snapshot
        if config.initialization_type == "snap-start":
            from ric.snapstart import snapshot

            if (status := snapshot(self._client, sink)) is not None:
                return status
        failures = Failures(self._cwd, sink.error)
        if config.concurrency_mode == "async":
            from ric.concurrent import AsyncPipeline

            self._pipeline = AsyncPipeline(handler, config, codec, scope, failures)
            return None
        call = Call(handler, config, codec, TraceId(self._environ), scope, loop=loop)
        respond = Respond(codec, failures, loop=loop, scope=scope)
        self._pipeline = Pipeline(call, respond, failures)
        return None

    def serve(self, max_invocations: int | None = None) -> int:
        """The invoke phase: 0 after ``max_invocations``, 1 when the Runtime API fails for good."""
        pipeline = self._pipeline
        if pipeline is None:
            raise RuntimeError("Runtime.serve() needs a successful init() first")
        try:
            if isinstance(pipeline, Pipeline):
                run(self._client, pipeline, max_invocations)
            else:
                self._serve_concurrently(pipeline)
        except RuntimeApiError as exc:
            self._sink.text(runtime_line("ERROR", exc.message))
            return 1
        return 0

    def _serve_concurrently(self, pipeline: AsyncPipeline) -> None:
        """Async concurrency mode: ``max_concurrency`` slots on the loop (:mod:`ric.concurrent`)."""
        from ric.aio_client import AsyncRuntimeClient
        from ric.aio_transport import AsyncConnection
        from ric.concurrent import serve

        config, log = self._config, self._sink.text
        host, port = address(config)
        built = requests(config)
        clients = [
            AsyncRuntimeClient(AsyncConnection(host, port), built, log)
            for _ in range(config.max_concurrency)
        ]
        self._loop.get().run(serve(pipeline, clients))

    def _report_init_error(self, error: InitError) -> None:
        from ric.report import init_report

        report = init_report(error)
        self._sink.error(report.log)
        try:
            self._client.post_init_error(report)
        except RuntimeApiError as exc:
            self._sink.text(runtime_line("ERROR", f"init/error not delivered: {exc.message}"))


def _install_logging(sink: LogSink, scope: Scope, level: int | None) -> None:
    from ric.applog import install

    install(sink, scope.current, level)
