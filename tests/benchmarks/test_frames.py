"""The callers' event-stream reader, fed what the emulator's encoder writes, cut anywhere."""

from __future__ import annotations

import struct

import pytest
from frames import COMPLETE, PAYLOAD_CHUNK, EventStreamReader, event_type

from emulator.protocols import eventstream

STAMP = b"00000000000000001234"
STREAM = (
    eventstream.payload_chunk(STAMP + b"a" * 30)
    + eventstream.payload_chunk(b"b" * 1000)
    + eventstream.invoke_complete()
)
FAILED = eventstream.payload_chunk(b"c" * 10) + eventstream.invoke_complete(
    "Handler.Late", '{"errorMessage":"late"}'
)


def _read(wire: bytes, cut: int = 0, keep: int = 20) -> EventStreamReader:
    reader = EventStreamReader(keep)
    pieces = [wire[i : i + cut] for i in range(0, len(wire), cut)] if cut else [wire]
    for piece in pieces:
        reader.feed(piece)
    return reader


@pytest.mark.parametrize("cut", [0, 1, 7, 12, 100])
def test_the_payload_is_counted_however_the_bytes_are_cut(cut: int) -> None:
    reader = _read(STREAM, cut)
    assert (reader.data_bytes, reader.chunks, reader.prefix) == (1050, 2, STAMP)
    assert reader.done and reader.complete == b"{}"
    assert reader.error_code is None


def test_botocore_reads_the_same_messages() -> None:
    # An independent decoder of the same bytes: the reader agrees with it.
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    buffer.add_data(STREAM)
    messages = list(buffer)
    chunks = [m.payload for m in messages if m.headers[":event-type"] == PAYLOAD_CHUNK]
    assert sum(map(len, chunks)) == _read(STREAM).data_bytes
    assert messages[-1].headers[":event-type"] == COMPLETE


def test_a_function_error_is_in_invoke_complete() -> None:
    reader = _read(FAILED, 5)
    assert (reader.data_bytes, reader.prefix) == (10, b"c" * 10)
    assert reader.error_code == "Handler.Late"


def test_the_stream_is_not_over_before_the_crc_of_invoke_complete() -> None:
    reader = _read(STREAM[:-4])
    assert not reader.done and reader.error_code is None
    reader.feed(STREAM[-4:])
    assert reader.done


def test_an_empty_payload_chunk_is_not_a_chunk() -> None:
    reader = _read(eventstream.payload_chunk(b"") + eventstream.invoke_complete())
    assert (reader.chunks, reader.data_bytes, reader.done) == (0, 0, True)


def test_a_message_without_headers_or_payload() -> None:
    prelude = struct.pack("!II", 16, 0)
    reader = _read(prelude + b"\0" * 8)
    assert (reader.chunks, reader.done) == (0, False)


def test_event_type_skips_headers_of_every_type() -> None:
    headers = (
        b"\x01a\x00"  # bool true
        + b"\x01b\x05"
        + b"\0" * 8  # long
        + b"\x01c\x06\x00\x02xy"  # bytes
        + b"\x0b:event-type\x07\x00\x0cPayloadChunk"
    )
    assert event_type(headers) == PAYLOAD_CHUNK
    assert event_type(b"\x01a\x00") is None


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (struct.pack("!III", 10, 0, 0), "not an event-stream prelude"),
        (struct.pack("!III", 16 + 5, 6, 0), "not an event-stream prelude"),
        (struct.pack("!III", 17 * 1024 * 1024, 0, 0), "not an event-stream prelude"),
        (STREAM + b"x", "after InvokeComplete"),
        (struct.pack("!III", 16 + 3, 3, 0) + b"\x01a\x0f", "unknown type 15"),
        (struct.pack("!III", 16 + 2, 2, 0) + b"\x01a", "without its value type"),
    ],
)
def test_bad_framing_is_refused(wire: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _read(wire)


def test_a_large_event_other_than_a_chunk_is_refused() -> None:
    headers = b"\x0b:event-type\x07\x00\x0eInvokeComplete"
    size = 16 + len(headers) + (2 << 20)
    with pytest.raises(ValueError, match="InvokeComplete of"):
        _read(struct.pack("!III", size, len(headers), 0) + headers)
