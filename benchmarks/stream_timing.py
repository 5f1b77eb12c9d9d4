"""When a stream's bytes arrive, against when the handler yielded them: without I/O.

The streaming handlers (``handlers.stream``, ``stream_handler.mjs``) begin
their first chunk with ``CLOCK_MONOTONIC`` in nanoseconds, as ``STAMP``
decimal digits, read just before they yield it (Python's
``time.monotonic_ns`` and Node's ``process.hrtime.bigint`` both read that
clock on Linux). Whoever receives the stream, the fake Runtime API or a
caller through the emulator, reads the same clock when bytes arrive, so the
difference is the time from the handler's first yield to the first byte
there. A ``StreamTimer`` is fed what arrived and when; ``time_stream`` times
any iterable of received chunks, the seam for callers (boto3's event
stream, a raw HTTP body).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["STAMP", "StreamRecord", "StreamTimer", "parse_stamp", "stamp", "time_stream"]

STAMP = 20  # digits: nanoseconds since boot fit in 20 for three thousand years


def stamp(now_ns: int) -> bytes:
    """The digits a handler starts its first chunk with."""
    return b"%020d" % now_ns


def parse_stamp(prefix: bytes) -> int:
    """The handler's clock reading at its first yield, from the stream's first bytes."""
    digits = prefix[:STAMP]
    if len(digits) != STAMP or not digits.isdigit():
        raise ValueError(f"the stream does not start with a clock stamp: {prefix[:STAMP]!r}")
    return int(digits)


@dataclass(frozen=True)
class StreamRecord:
    """One stream as received: its size, its handler's stamp, its first and last byte."""

    data_bytes: int
    chunks: int  # as framed on the wire (a sized body is one); 0 when unknown
    stamp_ns: int  # the handler's first yield
    first_byte_ns: int
    last_byte_ns: int
    streamed: bool = True  # came chunked (a Go runtime streams without the mode header)
    error_type: str | None = None  # Lambda-Runtime-Function-Error-Type, when trailed

    @property
    def first_byte_us(self) -> float:
        """From the handler's first yield to the first byte received, in µs."""
        return (self.first_byte_ns - self.stamp_ns) / 1000

    @property
    def seconds(self) -> float:
        """From the handler's first yield to the last byte received."""
        return (self.last_byte_ns - self.stamp_ns) / 1e9

    @property
    def mb_per_s(self) -> float:
        """Megabytes (10^6 bytes) per second, first yield to last byte."""
        return self.data_bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0


class StreamTimer:
    """Fed each arrival (its bytes and the clock then), it makes the ``StreamRecord``."""

    def __init__(self) -> None:
        self.prefix = b""
        self.data_bytes = 0
        self.first_byte_ns = 0

    def arrived(self, data: bytes | memoryview, now_ns: int) -> None:
        """Bytes of the body received at ``now_ns``; empty arrivals do not count."""
        if not len(data):
            return
        if not self.data_bytes:
            self.first_byte_ns = now_ns
        if len(self.prefix) < STAMP:
            self.prefix += bytes(data[: STAMP - len(self.prefix)])
        self.data_bytes += len(data)

    def counted(self, prefix: bytes, data_bytes: int, now_ns: int) -> None:
        """A body reader's totals after a receive at ``now_ns``: the new bytes arrived then."""
        if data_bytes > self.data_bytes and not self.data_bytes:
            self.first_byte_ns = now_ns
        self.prefix, self.data_bytes = prefix, data_bytes

    def record(
        self, now_ns: int, chunks: int = 0, streamed: bool = True, error_type: str | None = None
    ) -> StreamRecord:
        """The stream ended at ``now_ns`` (not before its first byte, whatever clock says)."""
        if not self.data_bytes:
            raise ValueError("an empty stream has no first byte")
        stamped, last = parse_stamp(self.prefix), max(now_ns, self.first_byte_ns)
        return StreamRecord(
            self.data_bytes, chunks, stamped, self.first_byte_ns, last, streamed, error_type
        )


def time_stream(chunks: Iterable[bytes], clock: Callable[[], int]) -> StreamRecord:
    """Receives a stream to its end, reading ``clock`` (ns, CLOCK_MONOTONIC) at each chunk."""
    timer = StreamTimer()
    count = 0
    for chunk in chunks:
        timer.arrived(chunk, clock())
        count += 1 if chunk else 0
    return timer.record(clock(), count)
