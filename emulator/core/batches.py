"""SQS batches as Lambda hands them to a function, and what comes back to the queue.

The event is the one of "Using Lambda with Amazon SQS" (with-sqs.html, "Example
standard queue message event" and "Example FIFO queue message event"): a
``Records`` list, one record per message, with the message's system attributes
as strings and its message attributes in Lambda's camel case (binary values in
base64). What a batch leaves on the queue follows "Handling errors for an SQS
event source in Lambda" (services-sqs-errorhandling.html): by default a
function error leaves the whole batch; with ``ReportBatchItemFailures`` only the
messages the function lists in ``batchItemFailures`` stay, a null or empty list
(or a null or empty response) is a complete success, and a listed item with a
null or empty ``itemIdentifier``, a wrong key, or an id not in the batch fails
the whole batch, as does an answer that is not such a document.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "REPORT_BATCH_ITEM_FAILURES",
    "Message",
    "left_on_queue",
    "message_from_sqs",
    "sqs_event",
]

REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
# The system attributes a record carries, in the order Lambda's examples show them;
# the FIFO ones only on a FIFO queue's messages, the last two only when SQS has them.
_SYSTEM_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "SenderId",
    "MessageDeduplicationId",
    "ApproximateFirstReceiveTimestamp",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


@dataclass(frozen=True)
class Message:
    """One received message, as much of it as a record needs."""

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    # Lambda's shape already: {"stringValue"|"binaryValue", lists, "dataType"}.
    message_attributes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    md5_of_message_attributes: str | None = None

    @property
    def group(self) -> str | None:
        """The FIFO message group, None on a standard queue."""
        return self.attributes.get("MessageGroupId")


def message_from_sqs(raw: Mapping[str, Any]) -> Message:
    """A message of ReceiveMessage's answer (boto3's shape: binary values are bytes)."""
    system = raw.get("Attributes") or {}
    return Message(
        message_id=str(raw["MessageId"]),
        receipt_handle=str(raw["ReceiptHandle"]),
        body=str(raw.get("Body", "")),
        md5_of_body=str(raw.get("MD5OfBody", "")),
        attributes={name: str(system[name]) for name in _SYSTEM_ATTRIBUTES if name in system},
        message_attributes={
            name: _attribute(value) for name, value in (raw.get("MessageAttributes") or {}).items()
        },
        md5_of_message_attributes=raw.get("MD5OfMessageAttributes"),
    )


def _attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """A message attribute in the event's shape: both lists always, as Lambda sends them."""
    shaped: dict[str, Any] = {}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = _base64(value["BinaryValue"])
    shaped["stringListValues"] = list(value.get("StringListValues", []))
    shaped["binaryListValues"] = [_base64(item) for item in value.get("BinaryListValues", [])]
    shaped["dataType"] = value["DataType"]
    return shaped


def _base64(value: bytes | str) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode("ascii")


def sqs_event(messages: Sequence[Message], queue_arn: str, region: str) -> dict[str, Any]:
    """The event a function gets for ``messages`` of the queue ``queue_arn``."""
    return {"Records": [_record(message, queue_arn, region) for message in messages]}


def _record(message: Message, queue_arn: str, region: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": dict(message.attributes),
        "messageAttributes": {k: dict(v) for k, v in message.message_attributes.items()},
        "md5OfBody": message.md5_of_body,
    }
    if message.md5_of_message_attributes is not None:
        record["md5OfMessageAttributes"] = message.md5_of_message_attributes
    record.update(eventSource="aws:sqs", eventSourceARN=queue_arn, awsRegion=region)
    return record


def left_on_queue(
    messages: Sequence[Message],
    response: bytes | None,
    report_item_failures: bool,
) -> tuple[Message, ...]:
    """The messages of a batch that must stay on the queue (the rest are deleted).

    ``response``: the function's answer, or None when the invocation failed (a
    handler error, a timeout, a throttle): then the whole batch stays.
    """
    if response is None:
        return tuple(messages)
    if not report_item_failures:
        return ()
    failed = _reported(response, {m.message_id for m in messages})
    if failed is None:
        return tuple(messages)
    return tuple(m for m in messages if m.message_id in failed)


def _reported(response: bytes, ids: set[str]) -> set[str] | None:
    """The ids a partial batch response lists; None: the answer fails the whole batch."""
    try:
        document = json.loads(response) if response.strip() else None
    except ValueError:
        return None
    if not isinstance(document, (dict, type(None))):
        return None
    items = (document or {}).get("batchItemFailures") or []
    if not isinstance(items, list):
        return None
    failed = {_identifier(item) for item in items}
    if not failed <= ids:  # None, "", a wrong key or an id not in the batch
        return None
    return {str(identifier) for identifier in failed}


def _identifier(item: object) -> str | None:
    identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
    return identifier if isinstance(identifier, str) else None
