"""Callers of a streaming function through the emulator, each stream timed as it arrives.

The ways in (``PATHS``):

    boto3   ``invoke_with_response_stream``, its ``EventStream`` read event by
            event: a chunk is timed when boto3 hands its ``PayloadChunk`` to
            the caller's code
    invoke  raw HTTP/1.1 on InvokeWithResponseStream (``POST
            /2021-11-15/functions/NAME/response-streaming-invocations``), the
            event-stream frames read by ``frames.EventStreamReader``
    url     raw HTTP/1.1 ``POST`` to the function's URL (invoke mode
            ``RESPONSE_STREAM``): the body as the function writes it, chunked

A raw caller (``RawCaller``, one keep-alive connection) times each response
twice: when its bytes arrived, by the kernel's receive stamp as the fake
Runtime API times what a runtime sends (``fake_stream``), so that the two
compare; and when the caller's read returned them, its own wake-up included.
``TimedResponse`` is that reading without I/O.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from chunked import ChunkedBody, ResponseHead, SizedBody, body_reader, parse_response_head
from fake_stream import FIRST_READ, SO_TIMESTAMPNS, stamped_read
from frames import EventStreamReader
from stream_timing import STAMP, StreamRecord, StreamTimer

__all__ = [
    "PATHS",
    "Boto3Caller",
    "CallFailed",
    "RawCaller",
    "Timed",
    "TimedResponse",
    "invoke_target",
    "request",
]

PATHS = ("boto3", "invoke", "url")
# The error body a failed call shows, at most.
_SHOWN = 500


class CallFailed(Exception):
    """The emulator answered with an error, or the function failed."""


def invoke_target(function: str) -> str:
    """InvokeWithResponseStream's path ("InvokeWithResponseStream", Lambda API reference)."""
    return f"/2021-11-15/functions/{function}/response-streaming-invocations"


def request(host: str, target: str, body: bytes) -> bytes:
    """A keep-alive ``POST`` of a JSON body (RFC 9112: Host, Content-Length)."""
    return (
        f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1") + body


@dataclass(frozen=True)
class Timed:
    """One stream as it arrived at the caller (kernel stamps) and as its reads returned it."""

    arrived: StreamRecord
    read: StreamRecord


class _Counts(Protocol):
    prefix: bytes
    data_bytes: int
    chunks: int


class TimedResponse:
    """One response, fed its bytes with when they arrived and when they were read."""

    def __init__(self, framed: bool) -> None:
        self.framed = framed  # an event stream: the data is its PayloadChunks' payloads
        self.head: ResponseHead | None = None
        self._buf = bytearray()
        self._body: ChunkedBody | SizedBody | None = None
        self._frames: EventStreamReader | None = None
        self._arrived = StreamTimer()
        self._read = StreamTimer()
        self._last = (0, 0)

    @property
    def _counts(self) -> _Counts | None:
        return self._frames or self._body

    @property
    def before_body(self) -> bool:
        """No byte of the stream's data has come yet."""
        counts = self._counts
        return counts is None or not counts.data_bytes

    @property
    def done(self) -> bool:
        return self._body is not None and self._body.done

    @property
    def closes(self) -> bool:
        """The emulator closes the connection after this response (RFC 9112 section 9.6)."""
        return self.head is not None and "close" in [
            v.lower() for v in self.head.values("Connection")
        ]

    def feed(self, data: memoryview, arrived_ns: int, read_ns: int) -> int:
        """Takes what belongs to this response; returns how many of the bytes that was."""
        if self._body is not None:
            return self._feed_body(data, arrived_ns, read_ns)
        self._buf += data
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return len(data)
        head = parse_response_head(bytes(self._buf[:end]))
        rest = bytes(self._buf[end + 4 :])
        if head.status != 200:
            raise CallFailed(f"{head.status}: {rest[:_SHOWN].decode(errors='replace')}")
        self.head = head
        if self.framed:
            self._frames = EventStreamReader(STAMP)
            self._body = body_reader(head, sink=self._frames.feed)
        else:
            self._body = body_reader(head, STAMP)
        return len(data) - len(rest) + self._feed_body(memoryview(rest), arrived_ns, read_ns)

    def _feed_body(self, data: memoryview, arrived_ns: int, read_ns: int) -> int:
        assert self._body is not None
        used = self._body.feed(data)
        counts = self._counts
        assert counts is not None
        self._arrived.counted(counts.prefix, counts.data_bytes, arrived_ns)
        self._read.counted(counts.prefix, counts.data_bytes, read_ns)
        self._last = (arrived_ns, read_ns)
        return used

    def records(self) -> Timed:
        """The stream as received, once the response is over."""
        counts = self._counts
        if not self.done or counts is None:
            raise ValueError("the response is not over")
        error = None
        if self._frames is not None:
            if not self._frames.done:
                raise CallFailed("the event stream ended without InvokeComplete")
            error = self._frames.error_code
        streamed = isinstance(self._body, ChunkedBody)
        arrived, read = self._last
        return Timed(
            self._arrived.record(arrived, counts.chunks, streamed, error),
            self._read.record(read, counts.chunks, streamed, error),
        )


class RawCaller:
    """One keep-alive HTTP/1.1 connection to ``url``; each answer timed as it arrives."""

    def __init__(self, url: str, clock: Callable[[], int] = time.monotonic_ns) -> None:
        parts = urlsplit(url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"not an http://HOST:PORT URL: {url!r}")
        self.address = (parts.hostname, parts.port)
        self.clock = clock
        self.unstamped_reads = 0  # timed when read: the kernel gave no stamp
        self._sock: socket.socket | None = None
        self._view = memoryview(bytearray(1 << 20))

    def call(self, target: str, event: bytes, framed: bool) -> Timed:
        """``POST`` the event to ``target``; its streamed answer, read to the end."""
        sock = self._connect()
        sock.sendall(request(f"{self.address[0]}:{self.address[1]}", target, event))
        response = TimedResponse(framed)
        while not response.done:
            # Small reads until the data begins: the stamp is of its first bytes.
            view = self._view[:FIRST_READ] if response.before_body else self._view
            size, stamped, read = stamped_read(sock, view, self.clock)
            if not size:
                self.close()
                raise CallFailed("the emulator hung up in the middle of a response")
            self.unstamped_reads += stamped is None
            arrived = read if stamped is None else stamped
            if response.feed(self._view[:size], arrived, read) != size:
                self.close()
                raise CallFailed("bytes after the end of a response")
        if response.closes:
            self.close()
        return response.records()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _connect(self) -> socket.socket:
        if self._sock is None:
            sock = socket.create_connection(self.address, timeout=120)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            self._sock = sock
        return self._sock


class Boto3Caller:
    """boto3's Lambda client for the emulator at ``endpoint``, as an application uses it."""

    def __init__(self, endpoint: str) -> None:
        import boto3
        from botocore.config import Config

        self._client: Any = boto3.client(
            "lambda",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=Config(retries={"max_attempts": 1}, read_timeout=120),
        )

    def close(self) -> None:
        self._client.close()

    def invoker(self, function: str) -> Callable[[bytes], Iterator[bytes]]:
        """Invokes ``function``: each ``PayloadChunk``'s bytes as boto3 hands them over."""

        def invoke(event: bytes) -> Iterator[bytes]:
            answer = self._client.invoke_with_response_stream(FunctionName=function, Payload=event)
            for message in answer["EventStream"]:
                if "PayloadChunk" in message:
                    yield message["PayloadChunk"]["Payload"]
                elif message.get("InvokeComplete", {}).get("ErrorCode"):
                    raise CallFailed(f"{function}: {message['InvokeComplete']}")

        return invoke
