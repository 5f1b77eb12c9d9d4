"""The values that cross the seam: limits, responses, connection info, errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from emulator.http.request import Request

__all__ = [
    "BodyTooLarge",
    "ConnectionInfo",
    "Handler",
    "Limits",
    "Response",
    "error_response",
    "json_response",
]


@dataclass(frozen=True)
class Limits:
    """What one connection may hold or take: past these it is paused or closed."""

    # Request line and headers: Lambda's X-Ray cause header may reach 1 MiB.
    max_head: int = 2 * 1024 * 1024
    # The cap when a handler reads a whole body without a limit of its own.
    max_body: int = 64 * 1024 * 1024
    # Input received but not consumed above this: the socket is not read.
    buffer: int = 256 * 1024
    # The transport's write buffer above this: a streamed body waits.
    write_buffer: int = 256 * 1024
    # No request in progress (a new connection that sends nothing too): closed.
    idle_timeout_s: float = 120.0
    # From a request's first byte to the end of its head: else 408 and closed.
    header_timeout_s: float = 10.0
    # A handler waiting this long for more body bytes: the connection is closed.
    body_timeout_s: float = 120.0


class BodyTooLarge(Exception):
    """A request body beyond the limit its reader set; ``size`` is what was known of it."""

    def __init__(self, limit: int, size: int | None) -> None:
        super().__init__(f"request body exceeds {limit} bytes")
        self.limit = limit
        self.size = size  # the declared Content-Length, or what had arrived


@dataclass
class Response:
    """An answer: a bytes body gets a Content-Length, an async iterable is streamed."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterable[bytes] = b""
    # Called once the body is exhausted; its fields go out as chunked trailers
    # (the handler declares them in a "Trailer" header itself, RFC 9110 section 6.6.2).
    trailers: Callable[[], Sequence[tuple[str, str]]] | None = None
    # Called exactly once: True when the whole response was handed to the
    # transport, False when the connection was lost or aborted before.
    on_sent: Callable[[bool], None] | None = None


Handler = Callable[["Request"], Awaitable[Response]]


@dataclass(frozen=True)
class ConnectionInfo:
    """The two ends of a connection, as it is made."""

    peer: tuple[str, int] | None
    local: tuple[str, int] | None


def json_response(status: int, body: bytes, *headers: tuple[str, str]) -> Response:
    return Response(status, [("Content-Type", "application/json"), *headers], body)


def error_response(status: int, error_type: str, message: str) -> Response:
    """The server's own errors, in the shape Lambda's APIs answer theirs."""
    body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
    return json_response(status, body, ("X-Amzn-ErrorType", error_type))
