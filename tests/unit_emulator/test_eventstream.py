"""emulator.protocols.eventstream, read back by botocore's own event-stream decoder.

Two readers: ``botocore.eventstream.EventStreamBuffer`` (the framing and CRCs),
and a whole ``boto3.client("lambda").invoke_with_response_stream`` call whose
HTTP answer is our bytes, handed over at botocore's ``before-send`` seam, so
its rest-json parser and lambda's service model turn them into events.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from emulator.protocols.eventstream import (
    CONTENT_TYPE,
    MAX_HEADERS_LENGTH,
    MAX_MESSAGE_LENGTH,
    encode_message,
    invoke_complete,
    payload_chunk,
)

# boto3 and botocore are dev dependencies without type hints.
boto3 = pytest.importorskip("boto3")
awsrequest = pytest.importorskip("botocore.awsrequest")
botocore_eventstream = pytest.importorskip("botocore.eventstream")


def decoded(stream: bytes, piece: int | None = None) -> list[Any]:
    """The messages botocore reads from ``stream``, fed ``piece`` bytes at a time."""
    buffer = botocore_eventstream.EventStreamBuffer()
    messages: list[Any] = []
    step = piece or len(stream) or 1
    for start in range(0, len(stream), step):
        buffer.add_data(stream[start : start + step])
        messages.extend(buffer)
    return messages


class Raw:
    """The part of urllib3's response that botocore's EventStream reads: ``stream()``."""

    def __init__(self, body: bytes, piece: int) -> None:
        self.body, self.piece = body, piece

    def stream(self, amt: int = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        for start in range(0, len(self.body), self.piece):
            yield self.body[start : start + self.piece]

    def close(self) -> None:
        pass


def invoke_with_response_stream(body: bytes, piece: int = 7) -> dict[str, Any]:
    """What boto3 gives a caller whose InvokeWithResponseStream was answered with ``body``."""
    client = boto3.client(
        "lambda",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        endpoint_url="http://127.0.0.1:9",
    )
    headers = {"Content-Type": CONTENT_TYPE, "X-Amz-Executed-Version": "$LATEST"}

    def answer(request: object, **_: object) -> Any:
        return awsrequest.AWSResponse("http://127.0.0.1:9", 200, headers, Raw(body, piece))

    client.meta.events.register("before-send.lambda.InvokeWithResponseStream", answer)
    response: dict[str, Any] = client.invoke_with_response_stream(FunctionName="fn", Payload=b"{}")
    return response


def test_the_published_example_vectors() -> None:
    # The two messages of the hex.pm event_stream documentation (AWS's format).
    assert encode_message([], b'{"foo": "bar"}') == bytes(
        [0, 0, 0, 30, 0, 0, 0, 0, 186, 242, 246, 138]
    ) + b'{"foo": "bar"}' + bytes([174, 114, 88, 228])
    with_type = encode_message([("content-type", "application/json")], b'{"foo": "bar"}')
    assert with_type[:12] == bytes([0, 0, 0, 62, 0, 0, 0, 32, 64, 93, 249, 70])
    assert with_type[12:44] == b"\x0ccontent-type\x07\x00\x10application/json"
    assert with_type[-4:] == bytes([111, 162, 191, 59])


def test_a_payload_chunk_as_botocore_reads_it() -> None:
    (message,) = decoded(payload_chunk(b"hello"))
    assert message.headers == {
        ":event-type": "PayloadChunk",
        ":content-type": "application/octet-stream",
        ":message-type": "event",
    }
    assert message.payload == b"hello"
    assert message.prelude.total_length == len(payload_chunk(b"hello"))


def test_both_crcs_are_the_gzip_crc32_of_their_bytes() -> None:
    wire = payload_chunk(b"data")
    assert wire[8:12] == zlib.crc32(wire[:8]).to_bytes(4, "big")
    assert wire[-4:] == zlib.crc32(wire[:-4]).to_bytes(4, "big")


@pytest.mark.parametrize("where", [0, 5, 9, 20, -6, -1], ids=lambda i: f"byte{i}")
def test_one_corrupt_byte_makes_botocore_refuse_the_message(where: int) -> None:
    wire = bytearray(payload_chunk(b"some payload bytes"))
    wire[where] ^= 0x01
    with pytest.raises(botocore_eventstream.ChecksumMismatch):
        decoded(bytes(wire))


def test_an_empty_chunk_and_one_over_64_kib() -> None:
    large = bytes(range(256)) * 300  # 76,800 bytes: beyond a 16-bit length
    stream = payload_chunk(b"") + payload_chunk(large)
    assert [m.payload for m in decoded(stream, piece=4096)] == [b"", large]


def test_messages_split_anywhere_are_reassembled() -> None:
    stream = payload_chunk(b"a") + payload_chunk(b"bc") + invoke_complete()
    for piece in (1, 3, 13, 64):
        assert [m.payload for m in decoded(stream, piece)] == [b"a", b"bc", b"{}"]


def test_unicode_header_values_keep_their_utf8_length() -> None:
    (message,) = decoded(encode_message([("x-note", "déjà vu ✓")], b""))
    assert message.headers == {"x-note": "déjà vu ✓"}


@pytest.mark.parametrize(
    ("headers", "payload", "complaint"),
    [
        ([("a", "1"), ("a", "2")], b"", "appears twice"),
        ([("", "v")], b"", "1 to 255 bytes"),
        ([("n" * 256, "v")], b"", "1 to 255 bytes"),
        ([("big", "v" * 0x10000)], b"", "65535"),
        ([(f"h{i}", "v" * 60000) for i in range(3)], b"", str(MAX_HEADERS_LENGTH)),
        ([], bytes(MAX_MESSAGE_LENGTH), str(MAX_MESSAGE_LENGTH)),
    ],
)
def test_what_the_format_cannot_hold_is_refused(
    headers: list[tuple[str, str]], payload: bytes, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        encode_message(headers, payload)


def test_invoke_complete_on_success_is_an_empty_object() -> None:
    (message,) = decoded(invoke_complete())
    assert message.headers[":event-type"] == "InvokeComplete"
    assert message.headers[":content-type"] == "application/json"
    assert message.payload == b"{}"


def test_invoke_complete_carries_only_the_members_given() -> None:
    (message,) = decoded(invoke_complete("Unhandled", log_result="bG9n"))
    assert json.loads(message.payload) == {"ErrorCode": "Unhandled", "LogResult": "bG9n"}


def test_boto3_reads_chunks_then_the_completion() -> None:
    large = b"x" * 70_000
    body = payload_chunk(b"first") + payload_chunk(b"") + payload_chunk(large)
    response = invoke_with_response_stream(body + invoke_complete())
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert response["ResponseStreamContentType"] == CONTENT_TYPE
    assert list(response["EventStream"]) == [
        {"PayloadChunk": {"Payload": b"first"}},
        {"PayloadChunk": {"Payload": b""}},
        {"PayloadChunk": {"Payload": large}},
        {"InvokeComplete": {}},
    ]


def test_boto3_reads_a_function_error_with_its_details_and_log() -> None:
    error = {"errorMessage": "boom ✗", "errorType": "ValueError", "stackTrace": []}
    details = json.dumps(error)
    complete = invoke_complete("ValueError", details, "U1RBUlQgUmVxdWVzdElk")
    events = list(invoke_with_response_stream(payload_chunk(b"partial") + complete)["EventStream"])
    assert events[-1] == {
        "InvokeComplete": {
            "ErrorCode": "ValueError",
            "ErrorDetails": details,
            "LogResult": "U1RBUlQgUmVxdWVzdElk",
        }
    }
    assert json.loads(events[-1]["InvokeComplete"]["ErrorDetails"]) == error
