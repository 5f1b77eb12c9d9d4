"""A runtime's streamed ``/response``, read as it arrives ("Response streaming",
runtimes-custom.html#runtimes-custom-response-streaming).

Relayed chunk by chunk to a caller that takes it so (InvokeWithResponseStream,
a RESPONSE_STREAM function URL), or read whole for one that does not (the
classic Invoke API); either way the invocation is streaming until the last
chunk, so a cut is a truncated response and the deadline still applies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from emulator.core.effects import Effect, PostAnswer
from emulator.core.lifecycle import Clock, Lifecycle
from emulator.core.streaming import StreamLimits, Throttle
from emulator.environments.relay import StreamRelay
from emulator.http import Request, Response, json_response
from emulator.protocols import runtime_api as api

__all__ = ["StreamedPosts"]


class StreamedPosts:
    """Reads one environment's streamed posts into its lifecycle (``apply``: its effects)."""

    def __init__(
        self,
        core: Lifecycle,
        apply: Callable[[list[Effect]], None],
        limits: StreamLimits,
        clock: Clock,
    ) -> None:
        self._core = core
        self._apply = apply
        self._limits = limits
        self._clock = clock

    async def relay(self, request_id: str, request: Request, relay: StreamRelay) -> Response:
        """A streamed response, relayed to its caller chunk by chunk as it arrives.

        Lambda's bandwidth cap holds each chunk back as long as it says; past
        the size limit the stream is cut off and the runtime answered 413. A
        chunk that comes after the invocation ended (a timeout that left the
        runtime running, with max_concurrency above 1) is answered 410 at once,
        so the worker stops and comes back instead of streaming on to nobody.
        """
        limits = self._limits
        post = self._core.stream_began(request_id)
        if post is not PostAnswer.ACCEPTED:
            return json_response(*api.answer(post, request_id, limits.limit))
        content_type = request.headers.get("content-type", api.STREAM_CONTENT_TYPE)
        relay.begin(content_type)
        throttle = Throttle(limits)
        try:
            async for chunk in request.stream():
                if relay.closed:  # the invocation has ended: stream_ended refuses
                    post, effects = self._core.stream_ended(request_id, None, content_type)
                    break
                if throttle.sent + len(chunk) > limits.limit:
                    await relay.put(chunk[: limits.limit - throttle.sent])
                    post, effects = self._core.stream_too_large(request_id, limits.limit)
                    break
                delay = throttle.delay(len(chunk), self._clock.monotonic())
                if delay > 0:
                    await asyncio.sleep(delay)
                await relay.put(chunk)
            else:
                failure = api.streamed_error(request.trailers)
                post, effects = self._core.stream_ended(request_id, failure, content_type)
        except BaseException:  # the connection went (cancelled) or stalled (TimeoutError)
            relay.close()
            self._apply(self._core.stream_broken(request_id))
            raise
        relay.close()
        self._apply(effects)
        return json_response(*api.answer(post, request_id, limits.limit))

    async def collect(self, request_id: str, request: Request) -> Response:
        """A streamed response read whole, for a caller that takes it so (the classic
        Invoke API): streaming all the while, so a cut is a truncated response, and
        a chunk after the invocation ended is refused as the relay refuses it."""
        limit = self._core.limits.response_limit
        post = self._core.stream_began(request_id)
        if post is not PostAnswer.ACCEPTED:
            return json_response(*api.answer(post, request_id, limit))
        content_type = request.headers.get("content-type", api.STREAM_CONTENT_TYPE)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if not self._core.streaming(request_id):  # ended: stream_ended refuses
                    post, effects = self._core.stream_ended(request_id, None, content_type)
                    break
                if size > limit:
                    post, effects = self._core.stream_too_large(request_id, limit)
                    break
                chunks.append(chunk)
            else:
                failure = api.streamed_error(request.trailers)
                body = b"".join(chunks)
                post, effects = self._core.stream_ended(request_id, failure, content_type, body)
        except BaseException:  # the connection went (cancelled) or stalled (TimeoutError)
            self._apply(self._core.stream_broken(request_id))
            raise
        self._apply(effects)
        return json_response(*api.answer(post, request_id, limit))
