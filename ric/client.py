"""The Runtime API calls of one runtime, with their retry and failure rules.

Runtime API reference: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

After the first event, each result is posted together with the next
``GET /next`` in one write (HTTP/1.1 pipelining, RFC 9112 section 9.3): the
Runtime API answers them in order, and the runtime saves a write, a wake-up
and a round trip per invocation. The Runtime API is served by Go's net/http
(the Runtime Interface Emulator is its open-source form), which reads
pipelined requests one after the other (golang/go#17799). A streamed response
is sent by :mod:`ric.stream_client`, imported on the first one: nothing is
pipelined behind it, and the connection is closed after it, as the docs ask.
"""

from __future__ import annotations

import time

from ric.errors import RuntimeApiError, StaleConnection, TransportError, UnexpectedStatus
from ric.log import runtime_line
from ric.outcome import Buffered, Failed, Streamed
from ric.protocol import parse_invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import TypeVar

    from ric.outcome import Outcome
    from ric.protocol import ErrorReport, Invocation, RequestBuilder
    from ric.transport import Transport
    from ric.wire import Response

    T = TypeVar("T")

__all__ = ["Retry", "RuntimeClient", "excerpt", "rejection", "unexpected"]


class Retry:
    """Bounded exponential backoff for ``GET /next``."""

    __slots__ = ("attempts", "first_delay", "max_delay")

    def __init__(self, attempts: int = 8, first_delay: float = 0.05, max_delay: float = 2.0):
        if attempts < 1:
            raise ValueError(f"Retry needs at least one attempt, got {attempts}")
        self.attempts = attempts
        self.first_delay = first_delay
        self.max_delay = max_delay

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (from 0)."""
        return min(self.first_delay * 2.0**attempt, self.max_delay)


class RuntimeClient:
    """Waits for events and posts outcomes over one transport."""

    __slots__ = ("_log", "_requests", "_retry", "_transport")

    def __init__(
        self,
        transport: Transport,
        requests: RequestBuilder,
        log: Callable[[str], None],
        retry: Retry | None = None,
    ) -> None:
        self._transport = transport
        self._requests = requests
        self._log = log
        self._retry = retry or Retry()

    def next_invocation(self, pending: bool = False) -> Invocation:
        """Wait for the next event; transport failures and 5xx are retried, then raised.

        With ``pending``, a ``GET /next`` was already sent and the first attempt
        reads its answer.
        """
        return self._wait("invocation/next", self._requests.next, parse_invocation, pending)

    def complete(self, invocation: Invocation, outcome: Outcome) -> Invocation:
        """Post the outcome and wait for the next event, both in one write."""
        if self._post(invocation, outcome, self._requests.next):
            return self.next_invocation(pending=True)
        # The connection failed or was closed after the post's answer: what was
        # sent behind the post went with it, so /next goes again on a new one.
        return self.next_invocation()

    def complete_last(self, invocation: Invocation, outcome: Outcome) -> None:
        """Post the outcome of the last invocation this runtime will serve."""
        self._post(invocation, outcome, b"")

    def post_init_error(self, report: ErrorReport) -> bool:
        """Report a failed init; False when it had already been reported.

        With Lambda Managed Instances every worker process inits and fails on
        its own, and the Runtime API accepts one init error per environment:
        it answers the others 403 Forbidden (awslambdaric 4.2 treats it so too).
        """
        response = self._request(self._requests.init_error(report))
        if response.status == 403:
            return False
        if not 200 <= response.status < 300:
            raise unexpected("init/error", response)
        return True

    def restore_next(self) -> None:
        """Wait until Lambda has restored the snapshot (SnapStart only).

        Transport failures and 5xx are retried as for ``/next``, then raised.
        """
        self._wait("restore/next", self._requests.restore_next, lambda response: None)

    def post_restore_error(self, report: ErrorReport) -> None:
        response = self._request(self._requests.restore_error(report))
        if not 200 <= response.status < 300:
            raise unexpected("restore/error", response)

    def _wait(
        self, what: str, request: bytes, parse: Callable[[Response], T], pending: bool = False
    ) -> T:
        retry = self._retry
        for attempt in range(retry.attempts):
            try:
                if pending:  # sent behind a post: not resent if the connection was stale
                    pending = False
                    response = self._transport.receive()
                else:
                    response = self._request((request,))
                if response.status == 200:
                    return parse(response)
            except TransportError as exc:  # MalformedResponse from parse() included
                failure = str(exc)
            else:
                if response.status < 500:
                    raise unexpected(what, response)
                failure = f"HTTP {response.status}: {excerpt(response.body)}"
            if attempt + 1 < retry.attempts:
                delay = retry.delay(attempt)
                self._warn(f"{what} failed ({failure}); retry in {delay:g} s")
                time.sleep(delay)
        raise RuntimeApiError(f"{what} failed {retry.attempts} times, giving up: {failure}")

    def _post(self, invocation: Invocation, outcome: Outcome, then: bytes) -> bool:
        """Post; False when the connection is gone (and a pipelined request with it)."""
        if isinstance(outcome, Streamed):
            return self._post_stream(invocation, outcome, then)
        what = "error" if type(outcome) is Failed else "response"
        try:
            response = self._deliver(invocation, outcome, then)
        except TransportError as exc:
            # Only this invocation's result is lost: say so and go on.
            self._warn(f"invocation {invocation.request_id}: {what} not delivered: {exc}")
            return False
        if not 200 <= response.status < 300:  # the Runtime API answers 202 Accepted
            self._rejected(invocation, what, response)
        return self._transport.connected

    def _deliver(self, invocation: Invocation, outcome: Buffered | Failed, then: bytes) -> Response:
        """Send the outcome's request (and ``then`` behind it); its answer."""
        if isinstance(outcome, Buffered):
            head, body = self._requests.response(invocation, outcome.body, outcome.content_type)
        else:
            head, body = self._requests.error(invocation, outcome.report)
        return self._request((head, body, then) if then else (head, body))

    def _post_stream(self, invocation: Invocation, outcome: Streamed, then: bytes) -> bool:
        """Stream the response; an error raised before its first chunk is posted as any error.

        A stream cannot be sent twice: a connection that goes stale as it is sent loses it.
        """
        from ric.stream_client import send_stream  # only a function that streams needs it

        try:
            sent = send_stream(self._transport, self._requests, invocation, outcome)
        except TransportError as exc:
            self._warn(f"invocation {invocation.request_id}: response not delivered: {exc}")
            return False
        if isinstance(sent, Failed):  # nothing was sent: /error, and /next pipelined behind it
            return self._post(invocation, sent, then)
        if not 200 <= sent.status < 300:
            self._rejected(invocation, "response", sent)
        # The connection was closed after the stream (runtimes-custom.html,
        # "Implementing response streaming"): /next goes on a new one.
        return False

    def _rejected(self, invocation: Invocation, what: str, response: Response) -> None:
        reason = rejection(what, response)
        self._warn(f"invocation {invocation.request_id}: {what} rejected: {reason}")

    def _request(self, parts: Sequence[bytes]) -> Response:
        """Send ``parts`` and read the first answer, sending them once more if the
        connection had gone stale (the peer closed it unread: nothing was processed)."""
        transport = self._transport
        transport.send(parts)
        try:
            return transport.receive()
        except StaleConnection:
            transport.send(parts)
            return transport.receive()

    def _warn(self, message: str) -> None:
        self._log(runtime_line("WARNING", message))


def rejection(what: str, response: Response) -> str:
    """Why a post was refused, for the log line."""
    if response.status == 410:
        return "the invocation had already ended (410 Gone, e.g. timed out)"
    if response.status == 413:
        return f"the {what} is larger than the Runtime API accepts (413)"
    return f"HTTP {response.status}: {excerpt(response.body)}"


def unexpected(what: str, response: Response) -> UnexpectedStatus:
    """The error for an answer the Runtime API should not have given."""
    return UnexpectedStatus(
        f"{what} answered HTTP {response.status}: {excerpt(response.body)}",
        response.status,
        response.body,
    )


def excerpt(body: bytes) -> str:
    """The beginning of an answer's body, as text."""
    return body[:200].decode("utf-8", "replace")
