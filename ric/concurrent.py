"""Async concurrency mode: one process serves up to N invocations at once on its event loop.

With ``AWS_LAMBDA_MAX_CONCURRENCY=N`` (Lambda Managed Instances, or the
emulator's ``--max-concurrency N``) the Runtime API hands out up to N events
at once (lambda-managed-instances.html; runtimes-api.html). By default each
slot is a worker process (:mod:`ric.workers`), as the managed Python runtime
serves them. With ``RIC_CONCURRENCY_MODE=async`` the slots are N tasks on the
process's one event loop instead, as Node.js serves them: each task owns a
connection to the Runtime API (:class:`~ric.aio_transport.AsyncConnection`)
and loops ``GET /next``, the handler awaited, the result posted. The function
is imported and initialised once, its clients and pools shared by every
invocation, and the memory of one process serves N; while one invocation
awaits I/O the others run. No thread is started per invocation.

Each invocation's context is in the ``ContextVar`` of its own task, so
``ric.current_context()`` and the request id, tenant id and trace id that
log records carry are that invocation's, and tasks the handler starts inherit
them. ``_X_AMZN_TRACE_ID`` is not set: one process-wide variable cannot hold
N invocations' trace ids at once. The trace id is ``context.trace_id``
(``ric.current_context().trace_id`` from anywhere), as Node.js, Go and Java
keep it on the invocation in their concurrent modes.

The handler must be ``async def``: a sync one would hold the loop for as long
as it runs, so the mode refuses it at start-up (:class:`HandlerNotAsync`, an
init error). This module, and asyncio with it, is imported only in this mode.
"""

from __future__ import annotations

import asyncio

from ric.aio import cancelled_error
from ric.context import CURRENT, make_context
from ric.errors import InitError, InvocationError, RuntimeApiError
from ric.log import flush_output
from ric.outcome import Failed
from ric.runtime import BUFFERED, Respond

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from ric.aio_client import AsyncRuntimeClient
    from ric.config import RuntimeConfig
    from ric.context import LambdaContext, Scope
    from ric.marshal import Codec
    from ric.outcome import Outcome
    from ric.protocol import Invocation
    from ric.runtime import Failures

    Handler = Callable[[Any, Any], Any]

__all__ = ["AsyncPipeline", "AsyncRespond", "HandlerNotAsync", "serve"]


class HandlerNotAsync(InitError):
    """``RIC_CONCURRENCY_MODE=async`` with a handler that is not ``async def``."""

    error_type = "Runtime.HandlerNotAsync"

    def __init__(self, handler: str) -> None:
        super().__init__(
            f"RIC_CONCURRENCY_MODE=async needs an async def handler, and {handler} is not "
            "one: a sync handler would block every other invocation of the process while it "
            "runs. Make it async def, or unset RIC_CONCURRENCY_MODE to serve each concurrent "
            "invocation in a worker process of its own."
        )


class AsyncPipeline:
    """One invocation in, its outcome out, awaited on the running loop; no I/O but the user's."""

    __slots__ = ("_codec", "_config", "_failures", "_handler", "_respond", "_scope")

    def __init__(
        self,
        handler: Handler,
        config: RuntimeConfig,
        codec: Codec,
        scope: Scope,
        failures: Failures,
    ) -> None:
        self._handler = handler
        self._config = config
        self._codec = codec
        self._scope = scope
        self._failures = failures
        self._respond = AsyncRespond(codec, failures)

    def context(self, invocation: Invocation) -> LambdaContext | Failed:
        """The invocation's context, or the outcome of one that cannot be made
        (bad Client-Context or Cognito JSON)."""
        try:
            context = make_context(invocation, self._config, self._scope.log)
        except InvocationError as exc:
            return self._failures.fault(exc, invocation.request_id)
        self._scope.latest = context  # what a thread started without a context logs under
        return context

    async def handle(self, invocation: Invocation, context: LambdaContext) -> Outcome:
        """The outcome; the caller has made ``context`` current in its task."""
        failures, request_id = self._failures, invocation.request_id
        try:
            event = self._codec.decode(invocation.body, invocation.content_type)
        except InvocationError as exc:
            return failures.fault(exc, request_id)
        try:
            result = self._handler(event, context)
            if type(result) not in BUFFERED and hasattr(type(result), "__await__"):
                result = await result
        except Exception as exc:
            return failures.user(exc, request_id)
        except asyncio.CancelledError as exc:
            if _cancelling():  # the slot itself is being cancelled: the process ends
                raise
            return failures.user(cancelled_error(exc), request_id)
        finally:
            flush_output()
        try:
            return self._respond(result, request_id)
        except InvocationError as exc:
            return failures.fault(exc, request_id)


class AsyncRespond(Respond):
    """Layer 2 in this mode: a stream's body awaited in the slot's task, not run on the loop
    from outside it (the task has the invocation's context current already)."""

    __slots__ = ()

    def _body(self) -> Callable[[Any], Any]:
        from ric.aio_stream import AsyncBody

        def body(source: Any) -> AsyncBody:
            return AsyncBody(source, flush_output)

        return body


async def serve(pipeline: AsyncPipeline, clients: Sequence[AsyncRuntimeClient]) -> None:
    """Serve with one task per client until the Runtime API fails for one of them.

    Then the others are cancelled (their invocations are lost with the
    environment, as Lambda ends it), and that failure is raised.
    """
    tasks = [asyncio.ensure_future(_slot(pipeline, client)) for client in clients]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        if (failure := task.exception()) is not None:
            raise failure
    raise RuntimeApiError("every invocation slot ended")  # a slot only ends by raising


async def _slot(pipeline: AsyncPipeline, client: AsyncRuntimeClient) -> None:
    """One slot: next, handle, post (with the next ``GET /next``), for ever.

    The context stays current until the post is done: a streamed body runs then.
    """
    invocation = await client.next_invocation()
    while True:
        context = pipeline.context(invocation)
        if isinstance(context, Failed):
            invocation = await client.complete(invocation, context)
            continue
        token = CURRENT.set(context)
        try:
            outcome = await pipeline.handle(invocation, context)
            invocation = await client.complete(invocation, outcome)
        finally:
            CURRENT.reset(token)


def _cancelling() -> bool:
    """Whether the current task was asked to stop (always so before Python 3.11)."""
    cancelling = getattr(asyncio.current_task(), "cancelling", None)
    return cancelling is None or bool(cancelling())
