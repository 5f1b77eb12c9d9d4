"""emulator.core.destinations: the invocation record and the DLQ message, without I/O."""

from __future__ import annotations

import pytest

from emulator.core.destinations import Destinations, dead_letter, record, target
from emulator.core.invocation import Outcome, OutcomeKind
from emulator.core.retry import Condition, Ended, EventState

ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
FAILED = Outcome(OutcomeKind.ERROR, b'{"errorType": "ValueError", "errorMessage": "no"}')


def test_a_failure_record_has_the_response_and_the_function_error() -> None:
    ended = Ended(Condition.RETRIES_EXHAUSTED, EventState(0.0, invocations=3, retries=2))
    document = record(
        "rid", ARN, b'{"a": 1}', ended=ended, outcome=FAILED, executed_version="$LATEST",
        now=1573755365.568,
    )  # fmt: skip
    assert document == {
        "version": "1.0",
        "timestamp": "2019-11-14T18:16:05.568Z",
        "requestContext": {
            "requestId": "rid",
            "functionArn": ARN,
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": {"a": 1},
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {"errorType": "ValueError", "errorMessage": "no"},
    }


def test_a_success_record_has_no_function_error_and_text_stays_text() -> None:
    ended = Ended(Condition.SUCCESS, EventState(0.0, invocations=1))
    answer = Outcome(OutcomeKind.RESPONSE, b"plain text", "text/plain")
    document = record(
        "rid", ARN, b"not json", ended=ended, outcome=answer, executed_version="$LATEST", now=0.0
    )
    assert document["timestamp"] == "1970-01-01T00:00:00.000Z"
    assert document["requestPayload"] == "not json"
    assert document["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert document["responsePayload"] == "plain text"


def test_an_event_that_never_ran_has_no_response() -> None:
    ended = Ended(Condition.EVENT_AGE_EXCEEDED, EventState(0.0))
    document = record("rid", ARN, b"{}", ended=ended, outcome=None, executed_version="1", now=0.0)
    assert "responseContext" not in document and "responsePayload" not in document
    assert document["requestContext"]["approximateInvokeCount"] == 0


def test_the_dead_letter_message_is_the_event_with_lambdas_attributes() -> None:
    message = dead_letter("rid", b'{"a": 1}', FAILED, "RetriesExhausted")
    assert message.body == '{"a": 1}'
    assert message.attributes == {
        "RequestID": ("String", "rid"),
        "ErrorCode": ("Number", "200"),
        "ErrorMessage": ("String", "no"),
    }
    long = Outcome(OutcomeKind.ERROR, b'{"errorMessage": "' + b"x" * 3000 + b'"}')
    cut = dead_letter("rid", b"{}", long, "RetriesExhausted").attributes["ErrorMessage"][1]
    assert cut == "x" * 1024
    never = dead_letter("rid", b"{}", None, "EventAgeExceeded").attributes["ErrorMessage"]
    assert never == ("String", "EventAgeExceeded")


@pytest.mark.parametrize(
    ("arn", "found"),
    [
        (ARN, ("lambda", "fn")),
        (ARN + ":live", ("lambda", "fn")),
        ("arn:aws:sqs:us-east-1:123456789012:jobs", ("sqs", "jobs")),
        ("arn:aws:sns:us-east-1:123456789012:topic", None),
        ("arn:aws:sqs:us-east-1:123456789012:", None),
        ("not an arn", None),
    ],
)
def test_a_destination_is_a_function_or_a_queue(arn: str, found: tuple[str, str] | None) -> None:
    assert target(arn) == found


def test_the_destination_is_chosen_by_how_the_event_ended() -> None:
    where = Destinations(on_success="ok", on_failure="bad")
    assert where.for_condition(Condition.SUCCESS) == "ok"
    assert where.for_condition(Condition.EVENT_AGE_EXCEEDED) == "bad"
