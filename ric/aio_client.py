"""The Runtime API calls of one async slot: :class:`ric.client.RuntimeClient`, awaited.

runtimes-api.html: the same requests (:class:`~ric.protocol.RequestBuilder`),
the same rules as the blocking client: ``GET /next`` retried with bounded
backoff on transport failures and 5xx, then given up; a post that fails loses
only its invocation's result; a result posted with the next ``GET /next``
pipelined behind it in one write; a post sent once more when the connection
had gone stale unread. A streamed outcome goes through
:func:`ric.aio_stream.send_stream`, after which the connection is closed
(runtimes-custom.html, "Implementing response streaming").
"""

from __future__ import annotations

import asyncio

from ric.client import Retry, excerpt, rejection, unexpected
from ric.errors import RuntimeApiError, StaleConnection, TransportError
from ric.log import runtime_line
from ric.outcome import Buffered, Failed, Streamed
from ric.protocol import parse_invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ric.aio_transport import AsyncTransport
    from ric.outcome import Outcome
    from ric.protocol import Invocation, RequestBuilder
    from ric.wire import Response

__all__ = ["AsyncRuntimeClient"]


class AsyncRuntimeClient:
    """Waits for events and posts outcomes over one async transport."""

    __slots__ = ("_log", "_requests", "_retry", "_transport")

    def __init__(
        self,
        transport: AsyncTransport,
        requests: RequestBuilder,
        log: Callable[[str], None],
        retry: Retry | None = None,
    ) -> None:
        self._transport = transport
        self._requests = requests
        self._log = log
        self._retry = retry or Retry()

    async def next_invocation(self, pending: bool = False) -> Invocation:
        """Wait for the next event; with ``pending``, its ``GET /next`` was sent already."""
        retry = self._retry
        for attempt in range(retry.attempts):
            try:
                if pending:  # sent behind a post: not resent if the connection was stale
                    pending = False
                    response = await self._transport.receive()
                else:
                    response = await self._request((self._requests.next,))
                if response.status == 200:
                    return parse_invocation(response)
            except TransportError as exc:  # MalformedResponse from the parse included
                failure = str(exc)
            else:
                if response.status < 500:
                    raise unexpected("invocation/next", response)
                failure = f"HTTP {response.status}: {excerpt(response.body)}"
            if attempt + 1 < retry.attempts:
                delay = retry.delay(attempt)
                self._warn(f"invocation/next failed ({failure}); retry in {delay:g} s")
                await asyncio.sleep(delay)
        raise RuntimeApiError(
            f"invocation/next failed {retry.attempts} times, giving up: {failure}"
        )

    async def complete(self, invocation: Invocation, outcome: Outcome) -> Invocation:
        """Post the outcome and wait for the next event, both in one write."""
        if await self._post(invocation, outcome):
            return await self.next_invocation(pending=True)
        return await self.next_invocation()

    async def _post(self, invocation: Invocation, outcome: Outcome) -> bool:
        """Post with ``GET /next`` behind; False when that request did not go out with it."""
        if isinstance(outcome, Streamed):
            return await self._post_stream(invocation, outcome)
        if isinstance(outcome, Buffered):
            head, body = self._requests.response(invocation, outcome.body, outcome.content_type)
        else:
            head, body = self._requests.error(invocation, outcome.report)
        what = "error" if type(outcome) is Failed else "response"
        try:
            response = await self._request((head, body, self._requests.next))
        except TransportError as exc:
            self._warn(f"invocation {invocation.request_id}: {what} not delivered: {exc}")
            return False
        if not 200 <= response.status < 300:
            self._rejected(invocation, what, response)
        return self._transport.connected

    async def _post_stream(self, invocation: Invocation, outcome: Streamed) -> bool:
        from ric.aio_stream import send_stream

        try:
            sent = await send_stream(self._transport, self._requests, invocation, outcome)
        except TransportError as exc:
            self._warn(f"invocation {invocation.request_id}: response not delivered: {exc}")
            return False
        if isinstance(sent, Failed):  # nothing was sent: /error, with /next behind it
            return await self._post(invocation, sent)
        if not 200 <= sent.status < 300:
            self._rejected(invocation, "response", sent)
        return False  # the connection was closed after the stream

    def _rejected(self, invocation: Invocation, what: str, response: Response) -> None:
        self._warn(
            f"invocation {invocation.request_id}: {what} rejected: {rejection(what, response)}"
        )

    async def _request(self, parts: Sequence[bytes]) -> Response:
        transport = self._transport
        await transport.send(parts)
        try:
            return await transport.receive()
        except StaleConnection:
            await transport.send(parts)
            return await transport.receive()

    def _warn(self, message: str) -> None:
        self._log(runtime_line("WARNING", message))
