"""The SQS event as Lambda builds it, and the partial batch response rules."""

from __future__ import annotations

import json

import pytest

from emulator.core.batches import Message, left_on_queue, message_from_sqs, sqs_event

QUEUE = "arn:aws:sqs:us-east-1:123456789012:orders"


def received(message_id: str, body: str = "{}", **extra: object) -> dict[str, object]:
    """A message as boto3's ReceiveMessage answers it."""
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"handle-{message_id}",
        "Body": body,
        "MD5OfBody": "md5",
        "Attributes": {
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1700000000100",
            "SentTimestamp": "1700000000000",
            "ApproximateReceiveCount": "1",
            "Policy": "not a message attribute Lambda passes on",
        },
        **extra,
    }


BATCH = [message_from_sqs(received(i)) for i in ("m1", "m2", "m3")]


def test_a_record_has_lambdas_fields_in_lambdas_order() -> None:
    event = sqs_event([message_from_sqs(received("m1", "hello"))], QUEUE, "eu-west-1")
    assert event == {
        "Records": [
            {
                "messageId": "m1",
                "receiptHandle": "handle-m1",
                "body": "hello",
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1700000000000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1700000000100",
                },
                "messageAttributes": {},
                "md5OfBody": "md5",
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE,
                "awsRegion": "eu-west-1",
            }
        ]
    }
    record = event["Records"][0]
    assert list(record["attributes"]) == [
        "ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp",
    ]  # fmt: skip


def test_fifo_attributes_and_message_attributes_in_the_events_shape() -> None:
    raw = received(
        "m1",
        MD5OfMessageAttributes="attrs-md5",
        MessageAttributes={
            "text": {"DataType": "String", "StringValue": "v"},
            "bytes": {"DataType": "Binary.gz", "BinaryValue": b"\xff"},
            "lists": {"DataType": "String", "StringListValues": ["a"], "BinaryListValues": ["b"]},
        },
    )
    raw["Attributes"] |= {  # type: ignore[operator]
        "MessageGroupId": "g",
        "MessageDeduplicationId": "d",
        "SequenceNumber": "18849496460467696128",
    }
    message = message_from_sqs(raw)
    assert message.group == "g"
    record = sqs_event([message], QUEUE, "us-east-1")["Records"][0]
    assert record["attributes"]["SequenceNumber"] == "18849496460467696128"
    assert list(record["attributes"])[2:4] == ["SequenceNumber", "MessageGroupId"]
    assert record["md5OfMessageAttributes"] == "attrs-md5"
    assert record["messageAttributes"] == {
        "text": {"stringValue": "v", "stringListValues": [], "binaryListValues": [],
                 "dataType": "String"},
        "bytes": {"binaryValue": "/w==", "stringListValues": [], "binaryListValues": [],
                  "dataType": "Binary.gz"},
        "lists": {"stringListValues": ["a"], "binaryListValues": ["Yg=="], "dataType": "String"},
    }  # fmt: skip
    assert list(record)[-4:] == ["md5OfMessageAttributes", "eventSource", "eventSourceARN",
                                 "awsRegion"]  # fmt: skip


def test_a_standard_queues_message_has_no_group() -> None:
    assert Message("m", "h", "b", "md5").group is None


def test_a_failed_invocation_leaves_the_whole_batch() -> None:
    assert left_on_queue(BATCH, None, report_item_failures=True) == tuple(BATCH)
    assert left_on_queue(BATCH, None, report_item_failures=False) == tuple(BATCH)


def test_without_report_batch_item_failures_an_answer_is_a_complete_success() -> None:
    answer = json.dumps({"batchItemFailures": [{"itemIdentifier": "m1"}]}).encode()
    assert left_on_queue(BATCH, answer, report_item_failures=False) == ()


@pytest.mark.parametrize(
    "answer",
    [b"", b"null", b"{}", b'{"batchItemFailures": null}', b'{"batchItemFailures": []}',
     b'{"other": 1}'],
)  # fmt: skip
def test_an_empty_or_null_answer_or_list_is_a_complete_success(answer: bytes) -> None:
    assert left_on_queue(BATCH, answer, report_item_failures=True) == ()


def test_only_the_listed_items_stay() -> None:
    answer = json.dumps(
        {"batchItemFailures": [{"itemIdentifier": "m3"}, {"itemIdentifier": "m1"}]}
    ).encode()
    left = left_on_queue(BATCH, answer, report_item_failures=True)
    assert [m.message_id for m in left] == ["m1", "m3"]


@pytest.mark.parametrize(
    "answer",
    [
        b"not json",
        b'"a string"',
        b"[1]",
        b'{"batchItemFailures": {"itemIdentifier": "m1"}}',
        b'{"batchItemFailures": [{"itemIdentifier": ""}]}',
        b'{"batchItemFailures": [{"itemIdentifier": null}]}',
        b'{"batchItemFailures": [{"itemId": "m1"}]}',
        b'{"batchItemFailures": [{"itemIdentifier": "unknown"}]}',
        b'{"batchItemFailures": [{"itemIdentifier": {"m": 1}}]}',
        b'{"batchItemFailures": ["m1"]}',
    ],
)
def test_a_malformed_answer_fails_the_whole_batch(answer: bytes) -> None:
    assert left_on_queue(BATCH, answer, report_item_failures=True) == tuple(BATCH)
