"""InvokeWithResponseStream's answer: the response as AWS event-stream frames.

"InvokeWithResponseStream", Lambda API reference
(https://docs.aws.amazon.com/lambda/latest/api/API_InvokeWithResponseStream.html):
200 with ``Content-Type: application/vnd.amazon.eventstream``, then a
``PayloadChunk`` event per piece of the response as it arrives, then one
``InvokeComplete`` event: empty on success; ``ErrorCode``, ``ErrorDetails``
and, when the caller asked for the log tail, ``LogResult`` on a function error.
A runtime that answered buffered has its whole response sent as one chunk.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from emulator.core.invocation import Outcome
from emulator.core.placement import Throttled
from emulator.environments.relay import StreamRelay
from emulator.protocols import eventstream

__all__ = ["buffered_frames", "complete_frame", "relayed_frames"]

# The answer of a run: its outcome and, when asked for, the log tail.
Result = tuple[Outcome | Throttled, str | None]


def complete_frame(outcome: Outcome, tail: str | None) -> bytes:
    """The ``InvokeComplete`` event an invocation ends its stream with."""
    if not outcome.failed:
        return eventstream.invoke_complete(log_result=tail)
    details = outcome.body.decode("utf-8", "replace")
    return eventstream.invoke_complete(_error_code(outcome), details, tail)


def buffered_frames(outcome: Outcome, tail: str | None) -> bytes:
    """A whole response (or failure) as the frames of a stream."""
    chunk = b"" if outcome.failed or not outcome.body else eventstream.payload_chunk(outcome.body)
    return chunk + complete_frame(outcome, tail)


async def relayed_frames(relay: StreamRelay, run: asyncio.Future[Result]) -> AsyncIterator[bytes]:
    """The frames of a streamed response, each chunk sent as the runtime sent it."""
    try:
        async for chunk in relay.chunks():
            yield eventstream.payload_chunk(chunk)
        outcome, tail = await asyncio.shield(run)
        assert isinstance(outcome, Outcome)  # a throttled invocation never streams
        yield complete_frame(outcome, tail)
    finally:  # the caller hung up, or the stream is over: nothing more is held for it
        relay.leave()


def _error_code(outcome: Outcome) -> str:
    """The error's type: the platform's own, else the one the function's error names."""
    if outcome.error_type is not None:
        return outcome.error_type
    try:
        error = json.loads(outcome.body)
    except ValueError:
        error = None
    if isinstance(error, dict) and isinstance(error.get("errorType"), str):
        return str(error["errorType"])
    return "Unhandled"
