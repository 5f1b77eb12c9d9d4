"""ric.runtime: the handler pipeline and run(), bounded, over a FakeTransport."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ric.client import Retry, RuntimeClient
from ric.config import RuntimeConfig
from ric.context import CURRENT, LambdaContext, Scope, TraceId
from ric.errors import RuntimeApiError
from ric.marshal import Codec
from ric.outcome import Buffered, Failed
from ric.protocol import Invocation, RequestBuilder, parse_invocation
from ric.records import ErrorLog, error_text
from ric.runtime import Call, Failures, Pipeline, Respond, run
from ric.transport import FakeTransport
from ric.wire import Response

BUILDER = RequestBuilder("127.0.0.1:9001", "ua")
NEXT = BUILDER.next
ACCEPTED = Response(202, {}, b'{"status":"OK"}')
CONFIG = RuntimeConfig("127.0.0.1:9001", "app.handler", "/var/task", {})
TRACE = "lambda-runtime-trace-id"


def event(request_id: str, body: bytes = b"{}", /, **headers: str) -> Response:
    """An answer to ``/next``; ``headers`` add to or replace its defaults."""
    headers = {
        "lambda-runtime-aws-request-id": request_id,
        "content-type": "application/json",
        **headers,
    }
    return Response(200, headers, body)


def serve(
    handler: Any,
    script: list[Response],
    max_invocations: int | None,
    environ: dict[str, str] | None = None,
) -> tuple[FakeTransport, list[str]]:
    transport = FakeTransport(script)
    log: list[str] = []
    client = RuntimeClient(transport, BUILDER, log.append, Retry(attempts=1, first_delay=0))
    processor = pipeline(
        handler, {} if environ is None else environ, lambda entry: log.append(error_text(entry))
    )
    run(client, processor, max_invocations)
    return transport, log


def pipeline(handler: Any, environ: dict[str, str], log: Callable[[ErrorLog], None]) -> Pipeline:
    codec = Codec()
    call = Call(handler, CONFIG, codec, TraceId(environ), Scope())
    failures = Failures("/cwd", log)
    return Pipeline(call, Respond(codec, failures), failures)


def invocation_of(response: Response) -> Invocation:
    return parse_invocation(response)


def echo(event: Any, context: LambdaContext) -> dict[str, Any]:
    return {"event": event, "id": context.aws_request_id}


def test_serves_exactly_two() -> None:
    first, second = event("r1", b'{"n": 1}'), event("r2", b'{"n": 2}')
    transport, log = serve(echo, [first, ACCEPTED, second, ACCEPTED], max_invocations=2)
    assert transport.sent == [
        NEXT,
        b"".join(
            BUILDER.response(
                invocation_of(first), b'{"event":{"n":1},"id":"r1"}', "application/json"
            )
        )
        + NEXT,
        b"".join(
            BUILDER.response(
                invocation_of(second), b'{"event":{"n":2},"id":"r2"}', "application/json"
            )
        ),
    ]
    assert log == []


@pytest.mark.parametrize("count", [0, 1])
def test_bounded_to_fewer(count: int) -> None:
    transport, _ = serve(echo, [event("r1"), ACCEPTED], max_invocations=count)
    assert len(transport.sent) == 2 * count  # GET /next, then the last post alone


def test_unbounded_runs_until_the_runtime_api_fails() -> None:
    with pytest.raises(RuntimeApiError, match="script exhausted"):
        serve(echo, [event("r1"), ACCEPTED, event("r2"), ACCEPTED], max_invocations=None)


def test_trace_id_is_set_then_removed() -> None:
    seen: list[str | None] = []
    environ = {"_X_AMZN_TRACE_ID": "stale", "OTHER": "kept"}

    def handler(event: Any, context: LambdaContext) -> None:
        seen.append(environ.get("_X_AMZN_TRACE_ID"))

    script = [
        event("r1", **{TRACE: "Root=1-abc;Sampled=1"}),
        ACCEPTED,
        event("r2"),
        ACCEPTED,
        event("r3", **{TRACE: "Root=1-def"}),
        ACCEPTED,
    ]
    serve(handler, script, max_invocations=3, environ=environ)
    assert seen == ["Root=1-abc;Sampled=1", None, "Root=1-def"]
    assert environ == {"_X_AMZN_TRACE_ID": "Root=1-def", "OTHER": "kept"}


def test_current_context_is_the_handler_context() -> None:
    seen: list[bool] = []

    def handler(event: Any, context: LambdaContext) -> None:
        seen.append(CURRENT.get() is context)

    serve(handler, [event("r1"), ACCEPTED, event("r2"), ACCEPTED], max_invocations=2)
    assert seen == [True, True]
    assert CURRENT.get() is None


def test_current_context_reset_after_a_failing_handler() -> None:
    def handler(event: Any, context: LambdaContext) -> None:
        raise RuntimeError("x")

    serve(handler, [event("r1"), ACCEPTED], max_invocations=1)
    assert CURRENT.get() is None


def test_handler_error_is_posted_and_logged() -> None:
    def handler(event: Any, context: LambdaContext) -> None:
        raise ValueError("bad")

    transport, log = serve(handler, [event("r1"), ACCEPTED], max_invocations=1)
    head, _, body = transport.sent[1].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /2018-06-01/runtime/invocation/r1/error HTTP/1.1\r\n")
    assert b"\r\nLambda-Runtime-Function-Error-Type: ValueError\r\n" in head
    error = json.loads(body)
    assert (error["errorType"], error["errorMessage"], error["requestId"]) == (
        "ValueError",
        "bad",
        "r1",
    )
    assert "in handler\n" in error["stackTrace"][-1]
    assert log == [error_text(ErrorLog("ValueError", "bad", "r1", error["stackTrace"]))]
    assert log[0].startswith("[ERROR] ValueError: bad\rTraceback (most recent call last):\r")


@pytest.mark.parametrize(
    ("response", "handler", "error_type", "message"),
    [
        (
            event("r1", **{"lambda-runtime-client-context": "{not json"}),
            echo,
            "Runtime.LambdaContextUnmarshalError",
            "Unable to parse Client Context JSON: "
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (
            event("r1", b"{bad"),
            echo,
            "Runtime.UnmarshalError",
            "Unable to unmarshal input: "
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (
            event("r1"),
            lambda event, context: {1, 2},
            "Runtime.MarshalError",
            "Unable to marshal response: Object of type set is not JSON serializable",
        ),
    ],
    ids=["client-context", "unmarshal", "marshal"],
)
def test_runtime_faults_are_posted(
    response: Response, handler: Any, error_type: str, message: str
) -> None:
    transport, log = serve(handler, [response, ACCEPTED], max_invocations=1)
    head, _, body = transport.sent[1].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /2018-06-01/runtime/invocation/r1/error HTTP/1.1\r\n")
    assert f"\r\nLambda-Runtime-Function-Error-Type: {error_type}\r\n".encode() in head
    assert json.loads(body) == {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": "r1",
        "stackTrace": [],
    }
    assert log == [f"[ERROR] {error_type}: {message}\rTraceback (most recent call last):\n"]


def test_bad_context_does_not_call_the_handler() -> None:
    calls: list[object] = []
    serve(
        lambda event, context: calls.append(event),
        [event("r1", **{"lambda-runtime-cognito-identity": "[1,"}), ACCEPTED],
        max_invocations=1,
    )
    assert calls == []


@pytest.mark.parametrize(
    ("response", "outcome"),
    [
        (event("r1", b"[1, 2]"), (b"[1,2]", "application/json")),
        (
            event("r1", b"\x00\xff", **{"content-type": "application/octet-stream"}),
            (b"\x00\xff", "application/unknown"),
        ),
    ],
    ids=["json", "bytes"],
)
def test_processor_returns_the_encoded_result(
    response: Response, outcome: tuple[bytes, str]
) -> None:
    processor = pipeline(lambda event, context: event, {}, no_log)
    buffered = processor.handle(invocation_of(response))
    assert isinstance(buffered, Buffered)
    assert (buffered.body, buffered.content_type) == outcome


def test_deeply_nested_event_is_reported_not_raised() -> None:
    logged: list[ErrorLog] = []
    processor = pipeline(echo, {}, logged.append)
    body = b"[" * 100_000 + b"]" * 100_000
    outcome = processor.handle(invocation_of(event("r1", body)))
    assert isinstance(outcome, Failed)
    assert outcome.report.error_type == "Runtime.UnmarshalError"
    assert [entry.error_type for entry in logged] == ["Runtime.UnmarshalError"]


def no_log(entry: ErrorLog) -> None:
    raise AssertionError(f"unexpected error record: {entry.message}")


def rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


@pytest.fixture
def no_trace_id() -> Iterator[None]:
    before = os.environ.pop("_X_AMZN_TRACE_ID", None)
    yield
    os.environ.pop("_X_AMZN_TRACE_ID", None)
    if before is not None:
        os.environ["_X_AMZN_TRACE_ID"] = before


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads RSS from /proc")
def test_a_trace_id_per_invocation_does_not_grow_memory(no_trace_id: None) -> None:
    trace = TraceId(os.environ)
    call = Call(lambda event, context: None, CONFIG, Codec(), trace, Scope())
    headers = {"lambda-runtime-aws-request-id": "r", "content-type": "application/json"}

    def invoke(count: int, start: int) -> None:
        for n in range(start, start + count):
            trace_id = f"Root=1-{n:08x}-{n:024x};Parent={n:016x};Sampled=1"
            call(parse_invocation(Response(200, {**headers, TRACE: trace_id}, b"{}")))

    invoke(5_000, 0)  # the allocator's own arenas, settled
    before = rss_kib()
    invoke(60_000, 5_000)
    grown = rss_kib() - before
    # setenv() kept every value: 60,000 ids of 70 bytes grew the process by ~8 MiB.
    assert grown < 1024, f"RSS grew by {grown} KiB"
    assert (
        os.environ["_X_AMZN_TRACE_ID"]
        == f"Root=1-{64_999:08x}-{64_999:024x};Parent={64_999:016x};Sampled=1"
    )
    assert os.getenv("_X_AMZN_TRACE_ID") == os.environ["_X_AMZN_TRACE_ID"]
    # The C environment holds none: a child started with the inherited one sees none.
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ.get('_X_AMZN_TRACE_ID'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert child.stdout == "None\n"
    inherited = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ['_X_AMZN_TRACE_ID'])"],
        env=os.environ,
        capture_output=True,
        text=True,
        check=True,
    )
    assert inherited.stdout == os.environ["_X_AMZN_TRACE_ID"] + "\n"
