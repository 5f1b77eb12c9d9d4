"""InvokeWithResponseStream's answer as a caller reads it, without I/O: event-stream frames.

"InvokeWithResponseStream" (Lambda API reference) answers a body of AWS
event-stream messages: ``PayloadChunk`` events with the function's bytes,
then one ``InvokeComplete`` (``ErrorCode`` and ``ErrorDetails`` after a
function error). A message ("Event stream encoding", in the Amazon
Transcribe and S3 Select guides), integers big-endian::

    total length u32 | headers length u32 | prelude CRC32
    headers: name length u8, name, value type u8, value
    payload
    message CRC32

The reader is fed the body as it arrives, in pieces of any size, and keeps
only what a benchmark looks at: the count of payload bytes, the first
``keep`` of them (the handler's clock stamp), the number of chunks, and
``InvokeComplete``'s payload. It checks the framing, not the CRCs: a
benchmark caller does the least a reader must, and the same for every
runtime, so its CPU per MB is the floor of any caller's.
"""

from __future__ import annotations

import json
import struct

__all__ = ["COMPLETE", "PAYLOAD_CHUNK", "EventStreamReader", "event_type"]

PAYLOAD_CHUNK = "PayloadChunk"
COMPLETE = "InvokeComplete"
_PRELUDE = struct.Struct("!III")  # total length, headers length, prelude CRC
_CRC = 4
_OVERHEAD = _PRELUDE.size + _CRC
# Value sizes of the fixed-size header types: bool true, bool false, byte,
# short, integer, long, timestamp, UUID; types 6 (bytes) and 7 (string) are
# a u16 length and that many bytes.
_FIXED = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
_STRING = 7
# An event other than a PayloadChunk is small; past this it is not Lambda's.
_KEPT_LIMIT = 1 << 20
_MESSAGE_LIMIT = 16 * 1024 * 1024  # aws-c-event-stream's

_HEAD, _HEADERS, _PAYLOAD, _MESSAGE_CRC = range(4)


def event_type(headers: bytes) -> str | None:
    """The ``:event-type`` header's string value in a message's encoded headers, or None."""
    pos = 0
    while pos < len(headers):
        size = headers[pos]
        name = headers[pos + 1 : pos + 1 + size]
        pos += 1 + size
        if pos >= len(headers):
            raise ValueError("an event-stream header without its value type")
        kind = headers[pos]
        pos += 1
        if kind in _FIXED:
            pos += _FIXED[kind]
            continue
        if kind not in (6, _STRING):
            raise ValueError(f"an event-stream header of unknown type {kind}")
        length = int.from_bytes(headers[pos : pos + 2], "big")
        value = headers[pos + 2 : pos + 2 + length]
        pos += 2 + length
        if name == b":event-type" and kind == _STRING:
            return value.decode()
    return None


class EventStreamReader:
    """Fed an event stream's bytes as they come; counts the payload chunks' bytes."""

    def __init__(self, keep: int = 0) -> None:
        self.keep = keep
        self.prefix = b""
        self.data_bytes = 0  # of PayloadChunk payloads
        self.chunks = 0  # PayloadChunk events with a payload
        self.complete: bytes | None = None  # InvokeComplete's payload, once it came
        self._state = _HEAD
        self._need = _PRELUDE.size  # bytes still wanted in this state
        self._buf = bytearray()
        self._event: str | None = None
        self._payload = 0
        self._kept = b""  # the payload of an event other than a PayloadChunk

    @property
    def done(self) -> bool:
        return self.complete is not None

    @property
    def error_code(self) -> str | None:
        """InvokeComplete's ``ErrorCode``: None on success (or before the end)."""
        if not self.complete:
            return None
        code = json.loads(self.complete).get("ErrorCode")
        return None if code is None else str(code)

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Takes every byte given: a stream's body, piece by piece."""
        view = memoryview(data)
        pos = 0
        while pos < len(view):
            if self.done:
                raise ValueError("bytes after InvokeComplete")
            take = min(self._need, len(view) - pos)
            piece = view[pos : pos + take]
            pos += take
            self._need -= take
            if self._state == _PAYLOAD and self._event == PAYLOAD_CHUNK:
                self._count(piece)
            elif self._state != _MESSAGE_CRC:
                self._buf += piece
            if not self._need:
                self._next()

    def _count(self, piece: memoryview) -> None:
        if len(self.prefix) < self.keep:
            self.prefix += bytes(piece[: self.keep - len(self.prefix)])
        self.data_bytes += len(piece)

    def _next(self) -> None:
        """The bytes wanted in this state have all come: on to the next part."""
        if self._state == _HEAD:
            total, headers, _ = _PRELUDE.unpack(self._buf)
            if headers + _OVERHEAD > total or total > _MESSAGE_LIMIT:
                raise ValueError(f"not an event-stream prelude: {bytes(self._buf)!r}")
            self._payload = total - _OVERHEAD - headers
            self._state, self._need = _HEADERS, headers
        elif self._state == _HEADERS:
            self._event = event_type(bytes(self._buf))
            if self._event != PAYLOAD_CHUNK and self._payload > _KEPT_LIMIT:
                raise ValueError(f"an event-stream {self._event} of {self._payload} bytes")
            self._state, self._need = _PAYLOAD, self._payload
            if self._event == PAYLOAD_CHUNK and self._payload:
                self.chunks += 1
        elif self._state == _PAYLOAD:
            self._kept = bytes(self._buf)
            self._state, self._need = _MESSAGE_CRC, _CRC
        else:  # the message is whole
            if self._event == COMPLETE:
                self.complete = self._kept
            self._state, self._need = _HEAD, _PRELUDE.size
        self._buf.clear()
        if not self._need:  # an empty part (no headers, no payload): it is over already
            self._next()
