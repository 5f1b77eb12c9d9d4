"""A runtime's output as lines, without I/O: bytes in, lines out, in linear time.

Lines longer than :data:`MAX_LINE` are cut into pieces of that size, as
CloudWatch Logs caps an event (256 KB), so output without newlines costs
neither quadratic time nor unbounded memory. Telemetry frames (the managed
runtimes' log descriptor) are one record each: a 4-byte type, a 4-byte length
and an 8-byte timestamp, big-endian, then the payload.
"""

from __future__ import annotations

__all__ = ["MAX_LINE", "FrameSplitter", "LineSplitter"]

MAX_LINE = 256 * 1024
_FRAME_HEAD = 16


class LineSplitter:
    """Splits a byte stream into text lines; a partial line waits for more, or ``flush``."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._max = max_line
        self._partial = bytearray()

    def feed(self, data: bytes) -> list[str]:
        lines: list[str] = []
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            self._partial += data[start:end]
            lines += self._take_all()
            start = end + 1
        self._partial += data[start:]
        while len(self._partial) > self._max:
            lines.append(_text(self._partial[: self._max]))
            del self._partial[: self._max]
        return lines

    def flush(self) -> list[str]:
        """The partial line, as a line of its own (output without a final newline)."""
        return self._take_all() if self._partial else []

    def _take_all(self) -> list[str]:
        pieces = [
            _text(self._partial[i : i + self._max])
            for i in range(0, max(len(self._partial), 1), self._max)
        ]
        self._partial.clear()
        return pieces


class FrameSplitter:
    """Telemetry frames to records; a payload over ``max_record`` keeps its first part."""

    def __init__(self, max_record: int = MAX_LINE) -> None:
        self._max = max_record
        self._buffer = bytearray()
        self._skip = 0  # bytes of an oversized payload still to discard
        self._want: int | None = None  # the payload length of the frame being read

    def feed(self, data: bytes) -> list[str]:
        self._buffer += data
        records: list[str] = []
        pos = 0  # deleted from the buffer once, at the end: linear in what arrived
        while True:
            if self._skip:
                dropped = min(self._skip, len(self._buffer) - pos)
                pos += dropped
                self._skip -= dropped
                if self._skip:
                    break
            if self._want is None:
                if len(self._buffer) - pos < _FRAME_HEAD:
                    break
                self._want = int.from_bytes(self._buffer[pos + 4 : pos + 8], "big")
                pos += _FRAME_HEAD
            kept = min(self._want, self._max)
            if len(self._buffer) - pos < kept:
                break
            records.append(_text(self._buffer[pos : pos + kept]).rstrip("\n"))
            pos += kept
            self._skip, self._want = self._want - kept, None
        del self._buffer[:pos]
        return records


def _text(data: bytes | bytearray) -> str:
    return bytes(data).decode("utf-8", "replace")
