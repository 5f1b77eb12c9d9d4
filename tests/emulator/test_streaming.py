"""Streamed responses through the emulator: InvokeWithResponseStream, the classic
Invoke API and function URLs, fed by runtimes that stream as Node's and Go's do.

Incrementality is proven with gates, never with timing: the runtime sends
chunk ``i`` only once the file ``{gate}/{i}`` exists, and the test creates it
only after the caller has read chunk ``i - 1``.
"""

from __future__ import annotations

import base64
import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulator.harness import (
    EmulatorProcess,
    boto3_lambda,
    containing,
    invoke_path,
    toml_config,
)

boto3 = pytest.importorskip("boto3")
botocore_exceptions = pytest.importorskip("botocore.exceptions")

HERE = Path(__file__).resolve().parent
RAW = [sys.executable, str(HERE / "streaming_runtime.py")]
FUNCTIONS: dict[str, dict[str, Any]] = {
    "raw": {"command": RAW, "timeout": 30},
    "rawurl": {"command": RAW, "timeout": 30, "url": {"port": 0, "invoke_mode": "RESPONSE_STREAM"}},
    "short": {"command": RAW, "timeout": 1, "concurrency": 1},
    "single": {"command": RAW, "timeout": 30, "concurrency": 1},
    "words": {"handler": "handlers.stream_words", "timeout": 30},
    "page": {
        "handler": "handlers.stream_page",
        "url": {"port": 0, "invoke_mode": "RESPONSE_STREAM"},
    },
    "awsric": {"command": [sys.executable, "-m", "awslambdaric", "handlers.echo"]},
    "echo": {"handler": "handlers.echo"},
    "boom": {"handler": "handlers.boom"},
    "web": {"handler": "handlers.web", "url": {"port": 0}},
    "webboom": {"handler": "handlers.boom", "url": {"port": 0}},
    "echourl": {"handler": "handlers.echo", "url": {"port": 0, "invoke_mode": "RESPONSE_STREAM"}},
}
HTTP_STREAM = "application/vnd.awslambda.http-integration-response"
ERROR = {"errorType": "ValueError", "errorMessage": "late", "stackTrace": []}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    folder = tmp_path_factory.mktemp("streaming")
    (folder / "handlers.py").write_text((HERE / "handlers.py").read_text())
    config = folder / "functions.toml"
    config.write_text(toml_config(FUNCTIONS, str(folder)))
    with EmulatorProcess(["--port", "0", "--config", str(config)], cwd=folder) as emulator:
        yield emulator


@pytest.fixture
def lambda_client(emulator: EmulatorProcess) -> Iterator[Any]:
    client = boto3_lambda(emulator.url)
    yield client
    client.close()


def url_of(emulator: EmulatorProcess, name: str) -> str:
    line = emulator.wait_for_line(containing(f"function URL of {name}: "))
    return line.rsplit(" ", 1)[1]


def payload(**event: Any) -> bytes:
    return json.dumps({"style": "node", **event}).encode()


def open_gate(gate: Path, index: int) -> None:
    (gate / str(index)).touch()


def test_python_m_ric_streams_each_yield_to_boto3_as_it_is_made(
    lambda_client: Any, tmp_path: Path
) -> None:
    words = ["one ", "two ", "three"]
    event = json.dumps({"words": words, "gate": str(tmp_path)})
    result = lambda_client.invoke_with_response_stream(FunctionName="words", Payload=event)
    events = iter(result["EventStream"])
    for index, word in enumerate(words):
        assert next(events) == {"PayloadChunk": {"Payload": word.encode()}}
        open_gate(tmp_path, index + 1)  # the handler yields the next word only now
    assert list(events) == [{"InvokeComplete": {}}]


def failed_midway(lambda_client: Any, name: str, event: bytes) -> dict[str, str]:
    """The InvokeComplete of a stream whose one chunk, "partial", came before its error."""
    result = lambda_client.invoke_with_response_stream(
        FunctionName=name, Payload=event, LogType="Tail"
    )
    events = list(result["EventStream"])
    assert events[0] == {"PayloadChunk": {"Payload": b"partial"}}
    assert len(events) == 2
    complete: dict[str, str] = events[1]["InvokeComplete"]
    return complete


def test_a_ric_handler_that_raises_midway_ends_with_its_error(lambda_client: Any) -> None:
    event = json.dumps({"words": ["partial"], "fail": "gone"}).encode()
    complete = failed_midway(lambda_client, "words", event)
    assert complete["ErrorCode"] == "KeyError"
    error = json.loads(complete["ErrorDetails"])
    assert (error["errorType"], error["errorMessage"]) == ("KeyError", "'gone'")
    log = base64.b64decode(complete["LogResult"]).decode()
    assert "[ERROR] KeyError: 'gone'" in log


def test_a_ric_stream_through_the_classic_invoke_api_is_collected(client: httpx.Client) -> None:
    response = client.post(invoke_path("words"), json={"words": ["a", "b"]})
    assert (response.status_code, response.content) == (200, b"ab")
    assert response.headers["content-type"] == "application/octet-stream"
    failed = client.post(invoke_path("words"), json={"words": ["a"], "fail": "x"})
    assert failed.headers["x-amz-function-error"] == "Unhandled"
    assert failed.json()["errorType"] == "KeyError"


def test_a_ric_http_stream_through_a_function_url(emulator: EmulatorProcess) -> None:
    url = url_of(emulator, "page")
    with httpx.stream("POST", url + "hello", json={"words": ["x", "y"]}, timeout=30) as response:
        assert response.status_code == 202
        assert response.headers["content-type"] == "text/plain"
        assert response.headers["set-cookie"] == "c=1"
        assert response.headers["transfer-encoding"] == "chunked"
        assert response.read() == b"/hello: xy"


@pytest.mark.parametrize("style", ["node", "go"])
def test_chunks_reach_boto3_before_the_runtime_sends_the_next(
    lambda_client: Any, tmp_path: Path, style: str
) -> None:
    chunks = ["first ", "second ", "third"]
    event = payload(style=style, chunks=chunks, gate=str(tmp_path))
    result = lambda_client.invoke_with_response_stream(FunctionName="raw", Payload=event)
    assert result["StatusCode"] == 200
    assert result["ExecutedVersion"] == "$LATEST"
    assert result["ResponseStreamContentType"] == "application/vnd.amazon.eventstream"
    events = iter(result["EventStream"])
    for index, chunk in enumerate(chunks):
        assert next(events) == {"PayloadChunk": {"Payload": chunk.encode()}}
        open_gate(tmp_path, index + 1)  # only now may the runtime send the next one
    assert next(events) == {"InvokeComplete": {}}
    assert next(events, None) is None


def test_error_trailers_end_the_stream_with_a_function_error(lambda_client: Any) -> None:
    complete = failed_midway(lambda_client, "raw", payload(chunks=["partial"], error=ERROR))
    assert complete["ErrorCode"] == "ValueError"
    assert json.loads(complete["ErrorDetails"]) == ERROR
    assert "REPORT RequestId:" in base64.b64decode(complete["LogResult"]).decode()


def test_a_runtime_that_hangs_up_mid_stream_is_a_truncated_response(lambda_client: Any) -> None:
    event = payload(chunks=["some"], truncate=True)
    result = lambda_client.invoke_with_response_stream(FunctionName="raw", Payload=event)
    events = list(result["EventStream"])
    assert events[0] == {"PayloadChunk": {"Payload": b"some"}}
    assert events[1]["InvokeComplete"]["ErrorCode"] == "Runtime.TruncatedResponse"


def test_the_timeout_still_applies_to_a_stream(lambda_client: Any, tmp_path: Path) -> None:
    # The gate never opens: the second chunk never comes, and the deadline ends it.
    event = payload(chunks=["begun", "never"], gate=str(tmp_path))
    result = lambda_client.invoke_with_response_stream(FunctionName="short", Payload=event)
    events = list(result["EventStream"])
    assert events[0] == {"PayloadChunk": {"Payload": b"begun"}}
    complete = events[1]["InvokeComplete"]
    assert complete["ErrorCode"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in complete["ErrorDetails"]


def test_a_buffered_answer_arrives_as_payload_chunks(lambda_client: Any) -> None:
    result = lambda_client.invoke_with_response_stream(
        FunctionName="echo:$LATEST", Payload=b'{"n": 1}', ClientContext=_client_context()
    )
    events = list(result["EventStream"])
    body = json.loads(events[0]["PayloadChunk"]["Payload"])
    assert body["event"] == {"n": 1}
    assert events[1:] == [{"InvokeComplete": {}}]


def test_a_buffered_error_is_an_invoke_complete_error(lambda_client: Any) -> None:
    result = lambda_client.invoke_with_response_stream(FunctionName="boom", Payload=b"{}")
    (only,) = list(result["EventStream"])
    assert only["InvokeComplete"]["ErrorCode"] == "ValueError"
    assert json.loads(only["InvokeComplete"]["ErrorDetails"])["errorMessage"] == "boom"


def test_errors_before_the_stream_are_lambdas(lambda_client: Any) -> None:
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.invoke_with_response_stream(FunctionName="nosuch", Payload=b"{}")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.invoke_with_response_stream(FunctionName="echo", Qualifier="7")
    # Lambda's own words for it (not the model's RequestTooLargeException).
    with pytest.raises(botocore_exceptions.ClientError) as caught:
        lambda_client.invoke_with_response_stream(FunctionName="echo", Payload=b"1" * 7_000_000)
    assert caught.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_the_classic_invoke_api_collects_a_stream(client: httpx.Client) -> None:
    response = client.post(invoke_path("raw"), content=payload(chunks=["a", "b", "c"]))
    assert response.status_code == 200
    assert response.content == b"abc"
    assert response.headers["content-type"] == "text/plain"
    assert "x-amz-function-error" not in response.headers


def test_the_classic_invoke_api_answers_error_trailers_as_a_function_error(
    client: httpx.Client,
) -> None:
    response = client.post(invoke_path("raw"), content=payload(chunks=["a"], error=ERROR))
    assert response.headers["x-amz-function-error"] == "Unhandled"
    assert response.json() == ERROR


def test_the_classic_invoke_api_answers_a_cut_stream_as_a_truncated_response(
    client: httpx.Client,
) -> None:
    response = client.post(invoke_path("raw"), content=payload(chunks=["some"], truncate=True))
    assert response.headers["x-amz-function-error"] == "Unhandled"
    assert response.json()["errorType"] == "Runtime.TruncatedResponse"


def test_the_classic_invoke_api_strips_an_http_streams_prelude(client: httpx.Client) -> None:
    prelude = json.dumps({"statusCode": 201, "headers": {"Content-Type": "text/html"}})
    chunks = [prelude + "\0" * 8, "<p>hi</p>"]
    event = payload(chunks=chunks, content_type=HTTP_STREAM)
    response = client.post(invoke_path("raw"), content=event)
    assert (response.status_code, response.content) == (200, b"<p>hi</p>")
    assert response.headers["content-type"] == "text/html"


def test_a_function_url_streams_status_headers_cookies_and_body(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    host, port = url_of(emulator, "rawurl").removeprefix("http://").rstrip("/").split(":")
    prelude = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/event-stream", "X-Custom": "yes"},
        "cookies": ["a=1; Path=/", "b=2"],
    }
    # The prelude and its 8 NULs split across chunks, as a runtime may send them.
    text = json.dumps(prelude)
    chunks = [text[:10], text[10:] + "\0" * 3, "\0" * 5 + "data: 1\n\n", "data: 2\n\n"]
    # The runtime reads its instructions from the URL request's body (the event's "body").
    body = json.dumps(
        {"style": "go", "chunks": chunks, "gate": str(tmp_path), "content_type": HTTP_STREAM}
    )
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            f"POST /path?x=1 HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
        )
        reader = sock.makefile("rb")
        open_gate(tmp_path, 1)
        open_gate(tmp_path, 2)  # the prelude is whole once chunk 2 is in
        head = _read_head(reader)
        assert head[0] == "HTTP/1.1 201 Created"
        assert {"content-type: text/event-stream", "x-custom: yes"} <= set(head)
        assert {"set-cookie: a=1; Path=/", "set-cookie: b=2"} <= set(head)
        assert "transfer-encoding: chunked" in head
        assert _read_until(reader, b"data: 1\n\n") == b"data: 1\n\n"
        open_gate(tmp_path, 3)
        assert _read_until(reader, None) == b"data: 2\n\n"


def test_a_buffered_function_url_maps_the_result_and_builds_the_event(
    emulator: EmulatorProcess,
) -> None:
    url = url_of(emulator, "web")
    response = httpx.post(
        url + "a%20b/c?x=1&x=2&y=z",
        content=b"hello",
        headers={"Content-Type": "text/plain", "Cookie": "k=v; k2=v2", "X-Multi": "one"},
        timeout=30,
    )
    assert response.status_code == 201
    assert response.headers["x-path"] == "/a%20b/c"
    assert response.headers.get_list("set-cookie") == ["seen=1; Path=/", "theme=dark"]
    event = response.json()
    assert (event["version"], event["routeKey"], event["rawQueryString"]) == (
        "2.0",
        "$default",
        "x=1&x=2&y=z",
    )
    assert event["queryStringParameters"] == {"x": "1,2", "y": "z"}
    assert event["cookies"] == ["k=v", "k2=v2"]
    assert (event["body"], event["isBase64Encoded"]) == ("hello", False)
    assert event["headers"]["x-multi"] == "one" and "cookie" not in event["headers"]
    http = event["requestContext"]["http"]
    assert (http["method"], http["path"], http["sourceIp"]) == ("POST", "/a%20b/c", "127.0.0.1")
    assert event["requestContext"]["requestId"] == response.headers["x-amzn-requestid"]


def test_a_failing_function_url_answers_502(emulator: EmulatorProcess) -> None:
    response = httpx.get(url_of(emulator, "webboom"), timeout=30)
    assert (response.status_code, response.text) == (502, "Internal Server Error")


def test_a_buffered_answer_through_a_streaming_url_is_sent_as_it_is(
    emulator: EmulatorProcess,
) -> None:
    response = httpx.get(url_of(emulator, "echourl") + "p", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["event"]["rawPath"] == "/p"


def test_a_function_url_stream_that_fails_midway_just_ends(emulator: EmulatorProcess) -> None:
    text = json.dumps({"statusCode": 200}) + "\0" * 8
    body = json.dumps(
        {"style": "node", "chunks": [text, "half"], "error": ERROR, "content_type": HTTP_STREAM}
    )
    response = httpx.post(url_of(emulator, "rawurl"), content=body, timeout=30)
    assert (response.status_code, response.content) == (200, b"half")
    line = emulator.wait_for_line(containing("the response stream ended early with an error"))
    assert line.startswith("[rawurl] ") and '"errorType": "ValueError"' in line


def test_a_stream_at_the_concurrency_limit_is_throttled_before_it_begins(
    lambda_client: Any, tmp_path: Path
) -> None:
    held = payload(chunks=["held", "released"], gate=str(tmp_path))
    first = lambda_client.invoke_with_response_stream(FunctionName="single", Payload=held)
    events = iter(first["EventStream"])
    assert next(events) == {"PayloadChunk": {"Payload": b"held"}}
    with pytest.raises(lambda_client.exceptions.TooManyRequestsException):
        lambda_client.invoke_with_response_stream(FunctionName="single", Payload=payload())
    open_gate(tmp_path, 1)
    assert list(events) == [{"PayloadChunk": {"Payload": b"released"}}, {"InvokeComplete": {}}]


def test_awslambdarics_buffered_answer_arrives_as_a_payload_chunk(lambda_client: Any) -> None:
    result = lambda_client.invoke_with_response_stream(FunctionName="awsric", Payload=b'{"a": 1}')
    events = list(result["EventStream"])
    assert json.loads(events[0]["PayloadChunk"]["Payload"])["event"] == {"a": 1}
    assert events[1:] == [{"InvokeComplete": {}}]


def _read_head(reader: Any) -> list[str]:
    """The status line as sent, then the header lines lower-cased but for cookie values."""
    lines = [reader.readline().decode().rstrip("\r\n")]
    while (line := reader.readline().decode().rstrip("\r\n")) != "":
        name, _, value = line.partition(": ")
        lines.append(f"{name.lower()}: {value}")
    return lines


def _read_until(reader: Any, wanted: bytes | None) -> bytes:
    """Chunks of a chunked body until they end with ``wanted`` (None: the body's end)."""
    body = b""
    while wanted is None or not body.endswith(wanted):
        size = int(reader.readline().strip(), 16)
        if size == 0:
            reader.readline()
            assert wanted is None, f"the body ended before {wanted!r}: {body!r}"
            break
        body += reader.read(size)
        reader.readline()
    return body


def _client_context() -> str:
    return base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()


@pytest.fixture
def client(emulator: EmulatorProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, timeout=30) as client:
        yield client
