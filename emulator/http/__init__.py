"""The emulator's one HTTP seam: an asyncio HTTP/1.1 server on h11.

Request bodies are handed over as they arrive (:meth:`Request.stream`) or
whole (:meth:`Request.read`, with a limit that refuses an oversized body
before it is buffered); response bodies are sent whole (Content-Length) or
as they are produced (chunked, with trailers). A connection that holds more
input than ``Limits.buffer`` is not read until its handler catches up;
idle connections and slow heads are closed after their timeouts.

This package imports nothing from the rest of ``emulator``: the emulator
depends on it, never the other way round.

Errors: ``BodyTooLarge`` (from ``Request.read``) is the only exception a
handler sees from here; everything else becomes an HTTP answer (400, 408,
413, 431, 500) or a closed connection.
"""

from emulator.http.messages import (
    BodyTooLarge,
    ConnectionInfo,
    Handler,
    Limits,
    Response,
    json_response,
)
from emulator.http.request import Request
from emulator.http.server import HttpServer

__all__ = [
    "BodyTooLarge",
    "ConnectionInfo",
    "Handler",
    "HttpServer",
    "Limits",
    "Request",
    "Response",
    "json_response",
]
