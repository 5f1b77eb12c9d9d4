"""The AWS event-stream encoding of InvokeWithResponseStream's answer, without I/O.

``POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations``
answers 200 with ``Content-Type: application/vnd.amazon.eventstream`` and a
body of event-stream messages ("InvokeWithResponseStream" in the Lambda API
reference): ``PayloadChunk`` events as the function's bytes arrive, then one
``InvokeComplete`` ("InvokeWithResponseStreamResponseEvent").

A message ("Event stream encoding" in the Amazon Transcribe, Lex V2 and S3
Select guides), all integers big-endian::

    total length u32 | headers length u32 | prelude CRC32 (of those 8 bytes)
    headers: name length u8, name, value type u8 (7 = string), length u16, value
    payload
    message CRC32 (of everything before it, prelude CRC included)

The shapes and member names are those of botocore's service model for
lambda 2015-03-31, which is also what decodes these bytes in the tests.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Sequence

__all__ = [
    "CONTENT_TYPE",
    "MAX_HEADERS_LENGTH",
    "MAX_MESSAGE_LENGTH",
    "encode_message",
    "invoke_complete",
    "payload_chunk",
]

CONTENT_TYPE = "application/vnd.amazon.eventstream"
# The limits of the AWS event-stream libraries (aws-c-event-stream): a message
# of at most 16 MiB, of which at most 128 KiB of headers.
MAX_MESSAGE_LENGTH = 16 * 1024 * 1024
MAX_HEADERS_LENGTH = 128 * 1024
_STRING = 7  # header value type "string": u16 length, then UTF-8
_PRELUDE = struct.Struct("!II")
_UINT32 = struct.Struct("!I")
_OVERHEAD = _PRELUDE.size + 2 * _UINT32.size  # prelude, its CRC, the message CRC


def encode_message(headers: Sequence[tuple[str, str]], payload: bytes) -> bytes:
    """One event-stream message with string-valued ``headers`` and ``payload``."""
    encoded = _headers(headers)
    total = _OVERHEAD + len(encoded) + len(payload)
    if total > MAX_MESSAGE_LENGTH:
        raise ValueError(f"an event-stream message is at most {MAX_MESSAGE_LENGTH} bytes")
    prelude = _PRELUDE.pack(total, len(encoded))
    head = prelude + _UINT32.pack(zlib.crc32(prelude))
    crc = zlib.crc32(payload, zlib.crc32(encoded, zlib.crc32(head)))
    return b"".join((head, encoded, payload, _UINT32.pack(crc)))


def payload_chunk(data: bytes) -> bytes:
    """A ``PayloadChunk`` event: its blob member ``Payload`` is the whole payload."""
    return encode_message(_event("PayloadChunk", "application/octet-stream"), data)


def invoke_complete(
    error_code: str | None = None,
    error_details: str | None = None,
    log_result: str | None = None,
) -> bytes:
    """The ``InvokeComplete`` event that ends the stream (``{}`` on success).

    "InvokeWithResponseStreamCompleteEvent": ``ErrorCode``, ``ErrorDetails``
    and ``LogResult`` (base64 of the last 4 KB of the log) are all strings, so
    ``ErrorDetails`` carries the function's error object as JSON text.
    """
    members = {"ErrorCode": error_code, "ErrorDetails": error_details, "LogResult": log_result}
    body = {name: value for name, value in members.items() if value is not None}
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return encode_message(_event("InvokeComplete", "application/json"), payload)


def _event(event_type: str, content_type: str) -> list[tuple[str, str]]:
    # The headers every event carries (botocore picks the member by :event-type).
    return [
        (":event-type", event_type),
        (":content-type", content_type),
        (":message-type", "event"),
    ]


def _headers(headers: Sequence[tuple[str, str]]) -> bytes:
    seen: set[str] = set()
    parts = []
    for name, value in headers:
        if name in seen:
            raise ValueError(f"header {name!r} appears twice; a message holds each once")
        seen.add(name)
        parts.append(_header(name, value))
    encoded = b"".join(parts)
    if len(encoded) > MAX_HEADERS_LENGTH:
        raise ValueError(f"an event-stream message has at most {MAX_HEADERS_LENGTH} header bytes")
    return encoded


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    if not 0 < len(raw_name) <= 0xFF:
        raise ValueError(f"a header name is 1 to 255 bytes: {name!r}")
    if len(raw_value) > 0xFFFF:
        raise ValueError(f"a string header value is at most 65535 bytes ({name!r})")
    return b"".join(
        (
            bytes((len(raw_name),)),
            raw_name,
            bytes((_STRING,)),
            len(raw_value).to_bytes(2, "big"),
            raw_value,
        )
    )
