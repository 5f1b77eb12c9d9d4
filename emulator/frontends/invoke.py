"""The Invoke API over HTTP: requests to invocations, outcomes to answers.

"Invoke" (2015-03-31), Lambda API reference:
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html. A streamed
response is collected and answered whole, as Lambda does for this API; an
HTTP-integration stream loses its prelude. "InvokeWithResponseStream"
(2021-11-15) relays it as it comes (:mod:`emulator.frontends.streams`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from emulator.async_invoke.invoker import AsyncInvoker
from emulator.core.invocation import Ids, Invocation, Outcome, OutcomeKind
from emulator.core.lifecycle import Clock
from emulator.core.placement import Throttled
from emulator.environments.relay import StreamRelay
from emulator.errors import ApiError
from emulator.frontends.streams import Result, buffered_frames, relayed_frames
from emulator.functions.registry import Function, Target
from emulator.functions.service import FunctionService
from emulator.http import BodyTooLarge, Request, Response, json_response
from emulator.observe.logs import Tails
from emulator.protocols import eventstream, function_url, invoke_api
from emulator.protocols.invoke_api import InvocationType, InvokeRequest

__all__ = ["InvokeFrontend"]


class InvokeFrontend:
    """Answers Invoke API requests with the functions' services."""

    def __init__(
        self,
        functions: Mapping[str, Function],
        tails: Tails,
        ids: Ids,
        clock: Clock,
        queue: AsyncInvoker,
    ) -> None:
        self._functions = functions
        self._queue = queue
        self._tails = tails
        self._ids = ids
        self._clock = clock
        self._background: set[asyncio.Future[Any]] = set()
        self.closing = False

    async def handle(self, request: Request) -> Response:
        request_id = self._ids.request_id()
        try:
            return await self._invoke(request, request_id)
        except ApiError as exc:
            return json_response(
                exc.status,
                invoke_api.error_body(exc),
                ("X-Amzn-ErrorType", exc.error_type),
                ("X-Amzn-RequestId", request_id),
            )

    async def close(self) -> None:
        """End what is left of the synchronous invocations (their callers were answered)."""
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _invoke(self, request: Request, request_id: str) -> Response:
        wanted = invoke_api.parse(request.method, request.path, request.query, request.headers)
        function, target = self._target(wanted)
        try:
            body = await request.read(wanted.limit)
        except BodyTooLarge:
            raise invoke_api.too_large(wanted.limit) from None
        payload = invoke_api.payload(body)
        common = [("X-Amzn-RequestId", request_id)]
        if wanted.invocation_type is not InvocationType.EVENT or wanted.qualifier == target.version:
            # An event through an alias: its version is drawn when it runs, not now.
            common.append(("X-Amz-Executed-Version", target.version))
        if wanted.invocation_type is InvocationType.DRY_RUN:
            return Response(204, common)
        if self.closing:
            raise _shutting_down()
        invocation = self._invocation(wanted, request_id, payload, function)
        if wanted.invocation_type is InvocationType.EVENT:
            # Queued durably before the 202 ("Asynchronous invocation", invocation-async.html).
            await self._queue.accept(invocation, function.name, wanted.qualifier)
            return Response(202, common)
        service = target.service
        if wanted.streaming:
            return await self._streamed(service, invocation, common)
        # Shielded: a caller that hangs up never leaves an environment wedged.
        outcome, tail = await asyncio.shield(self._start(service, invocation))
        return self._answer(outcome, tail, common)

    async def _streamed(
        self, service: FunctionService, invocation: Invocation, common: list[tuple[str, str]]
    ) -> Response:
        """InvokeWithResponseStream: errors before the stream as HTTP errors, then frames."""
        relay = StreamRelay()
        run = self._start(service, invocation, relay)
        began = await relay.opened(run)
        headers = [("Content-Type", eventstream.CONTENT_TYPE), *common]
        if not began:  # answered buffered, or never ran
            outcome, tail = run.result()
            return Response(200, headers, buffered_frames(_refuse(outcome), tail))
        return Response(200, headers, relayed_frames(relay, run))

    def _start(
        self, service: FunctionService, invocation: Invocation, relay: StreamRelay | None = None
    ) -> asyncio.Future[Result]:
        run = asyncio.ensure_future(self._run(service, invocation, relay))
        self._keep(run)
        return run

    def _keep(self, task: asyncio.Future[Any]) -> None:
        """Hold ``task`` until it is done, for :meth:`close` to end what is left."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _target(self, wanted: InvokeRequest) -> tuple[Function, Target]:
        """The function and the version a request runs; an alias draws it now."""
        function = self._functions.get(wanted.name)
        target = None if function is None else function.resolve(wanted.qualifier)
        if function is None or target is None:
            raise invoke_api.not_found(wanted.name, wanted.qualifier)
        return function, target

    def _invocation(
        self, wanted: InvokeRequest, request_id: str, payload: bytes, function: Function
    ) -> Invocation:
        arn = function.config.qualified_arn(wanted.qualifier)  # the ARN the caller used
        return Invocation(
            request_id,
            payload,
            self._ids.trace_id(self._clock.time()),
            self._ids.request_id(),
            function_arn=arn,
            client_context=wanted.client_context,
            tenant_id=wanted.tenant_id,
            tail=wanted.tail,
        )

    async def _run(
        self, service: FunctionService, invocation: Invocation, relay: StreamRelay | None
    ) -> tuple[Outcome | Throttled, str | None]:
        outcome = await service.invoke(invocation, relay=relay)
        tail = self._tails.take(invocation.request_id) if invocation.tail else None
        return outcome, tail

    def _answer(
        self, outcome: Outcome | Throttled, tail: str | None, common: list[tuple[str, str]]
    ) -> Response:
        outcome = _refuse(outcome)
        content_type, body = outcome.content_type, outcome.body
        if content_type == function_url.HTTP_INTEGRATION_CONTENT_TYPE and not outcome.failed:
            prelude, body = function_url.strip_prelude(body)
            content_type = _prelude_type(prelude)
        headers = [("Content-Type", content_type), *common]
        if outcome.function_error is not None:
            headers.append(("X-Amz-Function-Error", outcome.function_error))
        if tail is not None:
            headers.append(("X-Amz-Log-Result", tail))
        return Response(200, headers, body)


def _refuse(outcome: Outcome | Throttled) -> Outcome:
    """The outcome, unless it is one Lambda answers with an API error."""
    if isinstance(outcome, Throttled):
        raise invoke_api.throttled(outcome)
    if outcome.kind is OutcomeKind.SHUTDOWN:
        raise _shutting_down()
    return outcome


def _prelude_type(prelude: function_url.Prelude | None) -> str:
    """The content type an HTTP-integration stream's prelude gave its body."""
    if prelude is not None:
        for name, value in prelude.headers:
            if name.lower() == "content-type":
                return str(value)
    return "application/octet-stream"


def _shutting_down() -> ApiError:
    # As Lambda answers a failure of its own: a 5xx the caller may retry elsewhere.
    return ApiError(503, "ServiceException", "The emulator is shutting down")
