"""ric.client.RuntimeClient over FakeTransport: retries, pipelining and failure rules."""

from __future__ import annotations

import re

import pytest

from ric.client import Retry, RuntimeClient
from ric.errors import RuntimeApiError, StaleConnection, TransportError, UnexpectedStatus
from ric.outcome import Buffered, Failed
from ric.protocol import ErrorReport, Invocation, RequestBuilder
from ric.transport import FakeTransport
from ric.wire import Response

BUILDER = RequestBuilder("127.0.0.1:9001", "ua")
NEXT = BUILDER.next
ACCEPTED = Response(202, {"content-type": "application/json"}, b'{"status":"OK"}')
RESULT = Buffered(b"{}", "application/json")


def event(request_id: str) -> Response:
    headers = {
        "lambda-runtime-aws-request-id": request_id,
        "lambda-runtime-deadline-ms": "1700000000000",
        "content-type": "application/json",
    }
    return Response(200, headers, b'{"id": "%s"}' % request_id.encode())


def make_client(
    *script: Response | TransportError,
) -> tuple[RuntimeClient, FakeTransport, list[str]]:
    transport = FakeTransport(script)
    log: list[str] = []
    client = RuntimeClient(transport, BUILDER, log.append, Retry(attempts=3, first_delay=0))
    return client, transport, log


def first_invocation(request_id: str = "r1") -> Invocation:
    client, _, _ = make_client(event(request_id))
    return client.next_invocation()


def posted(invocation: Invocation, outcome: Buffered | Failed) -> bytes:
    if isinstance(outcome, Failed):
        return b"".join(BUILDER.error(invocation, outcome.report))
    return b"".join(BUILDER.response(invocation, outcome.body, outcome.content_type))


def warning(message: str) -> str:
    """A runtime WARNING line, with the timestamp matched loosely."""
    return rf"\[WARNING\] \[\d+\] LAMBDA_RUNTIME {message}\n"


def test_next_invocation() -> None:
    client, transport, log = make_client(event("r1"))
    invocation = client.next_invocation()
    assert (invocation.request_id, invocation.body) == ("r1", b'{"id": "r1"}')
    assert invocation.deadline_ms == 1700000000000
    assert transport.sent == [NEXT]
    assert log == []


@pytest.mark.parametrize(
    ("failure", "logged"),
    [
        (Response(500, {}, b"oops"), r"HTTP 500: oops"),
        (TransportError("connection reset"), r"connection reset"),
        (Response(200, {}, b"{}"), r"invocation/next answer has no Lambda-Runtime-Aws-Request-Id"),
    ],
    ids=["5xx", "transport-error", "no-request-id"],
)
def test_one_failure_is_retried(failure: Response | TransportError, logged: str) -> None:
    client, transport, log = make_client(failure, event("r1"))
    assert client.next_invocation().request_id == "r1"
    assert transport.sent == [NEXT, NEXT]
    assert len(log) == 1
    assert re.fullmatch(warning(rf"invocation/next failed \({logged}\); retry in 0 s"), log[0])


def test_gives_up_after_the_last_attempt() -> None:
    client, transport, log = make_client(
        Response(500, {}, b"a"), TransportError("reset"), Response(503, {}, b"busy")
    )
    with pytest.raises(RuntimeApiError) as info:
        client.next_invocation()
    assert type(info.value) is RuntimeApiError
    assert info.value.message == "invocation/next failed 3 times, giving up: HTTP 503: busy"
    assert transport.sent == [NEXT] * 3
    assert len(log) == 2  # no "retry in" after the last attempt


@pytest.mark.parametrize("status", [403, 404, 302])
def test_non_5xx_failure_is_not_retried(status: int) -> None:
    client, transport, log = make_client(Response(status, {}, b"nope"))
    with pytest.raises(UnexpectedStatus) as info:
        client.next_invocation()
    assert (info.value.status, info.value.body) == (status, b"nope")
    assert info.value.message == f"invocation/next answered HTTP {status}: nope"
    assert transport.sent == [NEXT]
    assert log == []


def test_complete_pipelines_the_next_request() -> None:
    invocation = first_invocation()
    client, transport, log = make_client(ACCEPTED, event("r2"))
    assert client.complete(invocation, RESULT).request_id == "r2"
    # One write: the POST, then the GET behind it; two answers read.
    assert transport.sent == [posted(invocation, RESULT) + NEXT]
    assert transport.sent[0] == (
        b"POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9001\r\nUser-Agent: ua\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}" + NEXT
    )
    assert log == []


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (410, "the invocation had already ended (410 Gone, e.g. timed out)"),
        (413, "the response is larger than the Runtime API accepts (413)"),
        (500, "HTTP 500: try later"),
    ],
)
def test_rejected_post_is_logged_and_the_loop_goes_on(status: int, reason: str) -> None:
    invocation = first_invocation()
    client, transport, log = make_client(Response(status, {}, b"try later"), event("r2"))
    assert client.complete(invocation, RESULT).request_id == "r2"
    assert transport.sent == [posted(invocation, RESULT) + NEXT]
    assert len(log) == 1
    assert re.fullmatch(warning(re.escape(f"invocation r1: response rejected: {reason}")), log[0])


def test_undelivered_post_asks_again_with_a_fresh_request() -> None:
    invocation = first_invocation()
    client, transport, log = make_client(TransportError("connection reset"), event("r2"))
    assert client.complete(invocation, RESULT).request_id == "r2"
    # The pipelined GET went down with the connection: a new one is sent.
    assert transport.sent == [posted(invocation, RESULT) + NEXT, NEXT]
    assert len(log) == 1
    assert re.fullmatch(warning(r"invocation r1: response not delivered: connection reset"), log[0])


def test_lost_pipelined_answer_is_retried() -> None:
    invocation = first_invocation()
    client, transport, log = make_client(ACCEPTED, TransportError("closed"), event("r2"))
    assert client.complete(invocation, RESULT).request_id == "r2"
    assert transport.sent == [posted(invocation, RESULT) + NEXT, NEXT]
    assert len(log) == 1
    assert "invocation/next failed (closed)" in log[0]


def test_stale_connection_is_sent_again_once() -> None:
    invocation = first_invocation()
    stale = StaleConnection("closed unread")
    client, transport, log = make_client(stale, ACCEPTED, event("r2"))
    assert client.complete(invocation, RESULT).request_id == "r2"
    # Nothing was processed: the same write, post and pipelined GET, once more.
    assert transport.sent == [posted(invocation, RESULT) + NEXT] * 2
    assert log == []


def test_a_post_answered_connection_close_asks_for_more_on_a_new_one() -> None:
    invocation = first_invocation()
    closing = Response(413, {"connection": "close"}, b"{}")
    client, transport, log = make_client(closing, event("r2"))
    assert client.complete(invocation, RESULT).request_id == "r2"
    # The pipelined GET went with the closed connection: sent again, not retried.
    assert transport.sent == [posted(invocation, RESULT) + NEXT, NEXT]
    assert len(log) == 1
    assert "rejected" in log[0]


def test_stale_twice_is_a_failure() -> None:
    stale = StaleConnection("closed unread")
    client, transport, log = make_client(stale, stale, event("r1"))
    assert client.next_invocation().request_id == "r1"
    # The second stale answer counts as a failed attempt: retried as one.
    assert transport.sent == [NEXT, NEXT, NEXT]
    assert len(log) == 1
    assert "invocation/next failed (closed unread)" in log[0]


def test_complete_last_does_not_ask_for_more() -> None:
    invocation = first_invocation()
    client, transport, log = make_client(ACCEPTED)
    client.complete_last(invocation, RESULT)
    assert transport.sent == [posted(invocation, RESULT)]
    assert log == []


def test_error_report_is_posted_to_error() -> None:
    invocation = first_invocation()
    failed = Failed(ErrorReport("ValueError", b'{"errorMessage": "bad"}', b"{}"))
    client, transport, _ = make_client(ACCEPTED)
    client.complete_last(invocation, failed)
    assert transport.sent == [posted(invocation, failed)]
    assert transport.sent[0].startswith(
        b"POST /2018-06-01/runtime/invocation/r1/error HTTP/1.1\r\n"
    )


def test_rejected_error_post_names_it() -> None:
    invocation = first_invocation()
    client, _, log = make_client(Response(413, {}, b""))
    client.complete_last(invocation, Failed(ErrorReport("E", b"{}")))
    assert "invocation r1: error rejected: the error is larger" in log[0]


def test_post_init_error() -> None:
    report = ErrorReport("Runtime.ImportModuleError", b'{"errorMessage": "x"}')
    client, transport, _ = make_client(ACCEPTED)
    assert client.post_init_error(report) is True
    assert transport.sent == [b"".join(BUILDER.init_error(report))]


@pytest.mark.parametrize("status", [400, 500])
def test_post_init_error_rejected(status: int) -> None:
    client, _, _ = make_client(Response(status, {}, b"no"))
    with pytest.raises(UnexpectedStatus) as info:
        client.post_init_error(ErrorReport("E", b"{}"))
    assert info.value.status == status
    assert info.value.message == f"init/error answered HTTP {status}: no"


def test_post_init_error_403_means_already_reported() -> None:
    client, _, log = make_client(Response(403, {}, b"forbidden"))
    assert client.post_init_error(ErrorReport("E", b"{}")) is False
    assert log == []


def test_retry_delay_grows_and_is_capped() -> None:
    retry = Retry(first_delay=0.05, max_delay=1.0)
    delays = [retry.delay(n) for n in range(7)]
    assert delays == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_retry_defaults() -> None:
    retry = Retry()
    assert (retry.attempts, retry.first_delay, retry.max_delay) == (8, 0.05, 2.0)
    assert retry.delay(100) == 2.0


def test_zero_attempts_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one attempt"):
        Retry(attempts=0)
