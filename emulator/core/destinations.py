"""What an asynchronous event's end sends on, without I/O: the invocation record, the DLQ message.

"Capturing records of Lambda asynchronous invocations"
(invocation-async-retain-records.html): a destination gets an invocation
record: ``version`` "1.0", ``timestamp`` (ISO 8601, milliseconds, UTC),
``requestContext`` (``requestId``, ``functionArn`` with its qualifier,
``condition``, ``approximateInvokeCount``), ``requestPayload`` (the event),
``responseContext`` (``statusCode``, ``executedVersion``, and
``functionError`` after a failure) and ``responsePayload`` (what the function
answered, or its error object), of its latest attempt. An event that ended
too old before any attempt of this emulator's run has no response. A
dead-letter queue (``DeadLetterConfig``) gets the event itself, with the
message attributes ``RequestID``,
``ErrorCode`` (the status code) and ``ErrorMessage`` (the error, cut to 1 KiB):
invocation-async-retain-records.html, "Dead-letter queues".
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from emulator.core.invocation import Outcome
from emulator.core.retry import Condition, Ended

__all__ = ["DLQ_MESSAGE_LIMIT", "DeadLetter", "Destinations", "dead_letter", "record", "target"]

DLQ_MESSAGE_LIMIT = 1024


@dataclass(frozen=True)
class Destinations:
    """Where records go: ARNs (a function's or an SQS queue's), or None."""

    on_success: str | None = None
    on_failure: str | None = None
    dead_letter: str | None = None  # the function's DeadLetterConfig.TargetArn

    def for_condition(self, condition: Condition) -> str | None:
        return self.on_success if condition is Condition.SUCCESS else self.on_failure


@dataclass(frozen=True)
class DeadLetter:
    """An SQS message: the event as it came, and its attributes (name -> (type, value))."""

    body: str
    attributes: dict[str, tuple[str, str]]


def target(arn: str) -> tuple[str, str] | None:
    """``("lambda", function name)`` or ``("sqs", queue name)`` of a destination ARN, else None."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None
    if parts[2] == "lambda" and parts[5] == "function" and len(parts) >= 7:
        return "lambda", parts[6]
    if parts[2] == "sqs" and len(parts) == 6 and parts[5]:
        return "sqs", parts[5]
    return None


def record(
    request_id: str,
    function_arn: str,
    payload: bytes,
    *,
    ended: Ended,
    outcome: Outcome | None,
    executed_version: str,
    now: float,
) -> dict[str, Any]:
    """The invocation record of an event that ended (``outcome``: its last attempt's, if any)."""
    document: dict[str, Any] = {
        "version": "1.0",
        "timestamp": _timestamp(now),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": ended.condition.value,
            "approximateInvokeCount": ended.state.invocations,
        },
        "requestPayload": _json_or_text(payload),
    }
    if outcome is not None:
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": executed_version}
        if outcome.function_error is not None:
            context["functionError"] = outcome.function_error
        document["responseContext"] = context
        document["responsePayload"] = _json_or_text(outcome.body)
    return document


def dead_letter(request_id: str, payload: bytes, outcome: Outcome | None, why: str) -> DeadLetter:
    """The DLQ message of an event that failed for good (``why``: when it never ran)."""
    message = why
    if outcome is not None:
        error = _json_or_text(outcome.body)
        message = error.get("errorMessage", why) if isinstance(error, dict) else str(error)
    attributes = {
        "RequestID": ("String", request_id),
        "ErrorCode": ("Number", "200"),
        "ErrorMessage": ("String", str(message)[:DLQ_MESSAGE_LIMIT] or why),
    }
    return DeadLetter(payload.decode("utf-8", "replace"), attributes)


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")


def _timestamp(now: float) -> str:
    millis = round(now * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{millis:03d}Z"
