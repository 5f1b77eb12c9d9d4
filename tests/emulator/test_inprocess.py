"""The emulator in the test's own process: its lifecycle events, one stream for all."""

from __future__ import annotations

import dataclasses
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from emulator.config import FunctionConfig, bootstrap_command
from emulator.core.events import InvokeEnded, InvokeStarted, LogLine, Notice
from emulator.core.invocation import OutcomeKind
from tests.emulator.harness import invoke_path
from tests.emulator.inprocess import InProcessEmulator

APP = """
def handler(event, context):
    print("hello from", context.aws_request_id)
    if event.get("fail"):
        raise ValueError("no")
    return event
"""


@pytest.fixture
def function(tmp_path: Path) -> FunctionConfig:
    (tmp_path / "app.py").write_text(APP)
    return FunctionConfig(
        name="fn", command=bootstrap_command("app.handler"), code_dir=str(tmp_path)
    )


def test_an_invocation_is_started_logged_and_ended_in_the_event_stream(
    function: FunctionConfig,
) -> None:
    with InProcessEmulator((function,)) as emulator:
        response = httpx.post(emulator.url + invoke_path("fn"), json={"a": 1}, timeout=30)
        request_id = response.headers["x-amzn-requestid"]
        emulator.wait_for(lambda e: isinstance(e, InvokeEnded))
        mine = [e for e in emulator.events if getattr(e, "request_id", None) == request_id]
    assert response.json() == {"a": 1}
    assert [type(e) for e in mine] == [InvokeStarted, LogLine, InvokeEnded]
    line = mine[1]
    assert isinstance(line, LogLine) and line.text == f"hello from {request_id}"
    ended = mine[2]
    assert isinstance(ended, InvokeEnded)
    assert (ended.outcome, ended.where.function, ended.init_ms is not None) == (
        OutcomeKind.RESPONSE,
        "fn",
        True,
    )
    assert f"[fn] END RequestId: {request_id}\n" in emulator.output.getvalue()


def test_a_function_error_is_an_error_outcome(function: FunctionConfig) -> None:
    with InProcessEmulator((function,)) as emulator:
        response = httpx.post(emulator.url + invoke_path("fn"), json={"fail": 1}, timeout=30)
        ended = emulator.wait_for(lambda e: isinstance(e, InvokeEnded))
    assert response.headers["x-amz-function-error"] == "Unhandled"
    assert isinstance(ended, InvokeEnded) and ended.outcome is OutcomeKind.ERROR


def test_an_error_on_the_server_side_fails_the_test(function: FunctionConfig) -> None:
    with pytest.raises(AssertionError, match="the emulator failed on the server side"):  # noqa: SIM117
        with InProcessEmulator((function,)) as emulator:
            emulator.call(_fail).result(10)


async def _fail() -> None:
    # As the HTTP server reports a handler that raised.
    logging.getLogger("emulator.http").error("error answering POST /x")


def runtime_of(folder: Path, source: str) -> FunctionConfig:
    """A function whose runtime is the Python script ``source``, run as the command."""
    (folder / "runtime.py").write_text(source)
    return FunctionConfig(
        name="fn", command=(sys.executable, str(folder / "runtime.py")), code_dir=str(folder)
    )


def test_an_extension_refused_by_the_api_gets_its_error_not_a_500(tmp_path: Path) -> None:
    function = runtime_of(tmp_path, EXTENSION_RUNTIME)
    with InProcessEmulator((function,)) as emulator:
        response = httpx.post(emulator.url + invoke_path("fn"), json={}, timeout=30)
    assert response.json() == {
        "status": 400,
        "errorType": "InvalidEventType",
        "errorMessage": "this emulator delivers no extension events; "
        "wants-events asked for ['INVOKE']",
    }


def test_an_error_in_a_streamed_responses_trailers_is_a_function_error(tmp_path: Path) -> None:
    function = runtime_of(tmp_path, STREAMING_RUNTIME)
    with InProcessEmulator((function,)) as emulator:
        response = httpx.post(emulator.url + invoke_path("fn"), json={}, timeout=30)
        ended = emulator.wait_for(lambda e: isinstance(e, InvokeEnded))
    assert response.headers["x-amz-function-error"] == "Unhandled"
    assert response.json() == {"errorType": "ValueError", "errorMessage": "mid-stream"}
    assert isinstance(ended, InvokeEnded) and ended.outcome is OutcomeKind.ERROR


def test_a_runtime_that_cannot_start_fails_every_invocation_waiting_for_it() -> None:
    function = FunctionConfig(
        name="fn", command=("/nonexistent/bootstrap",), code_dir="/", max_concurrency=2
    )
    with InProcessEmulator((function,)) as emulator:
        url = emulator.url + invoke_path("fn")
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: httpx.post(url, json={}, timeout=30), range(2)))
    for answer in answers:
        assert answer.json()["errorType"] == "Runtime.InvalidEntrypoint"


def test_an_event_between_retries_is_not_run_again_once_the_emulator_stops(
    tmp_path: Path, function: FunctionConfig
) -> None:
    slow = dataclasses.replace(function, retry_delays_s=(60.0, 60.0))
    with InProcessEmulator((slow,)) as emulator:
        response = httpx.post(
            emulator.url + invoke_path("fn"),
            json={"fail": 1},
            headers={"X-Amz-Invocation-Type": "Event"},
            timeout=30,
        )
        assert response.status_code == 202
        emulator.wait_for(lambda e: isinstance(e, Notice) and "retry 1 of 2" in e.text)
    # The emulator stopped at once, and nothing ran after it.
    assert sum(isinstance(e, InvokeStarted) for e in emulator.events) == 1


EXTENSION_RUNTIME = """
import http.client, json, os

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
connection = http.client.HTTPConnection(host, int(port))


def call(method, path, body=b"", headers=None):
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response, response.read()


# An extension that asks for events this emulator does not deliver: a clear 400.
answer, body = call(
    "POST", "/2020-01-01/extension/register", b'{"events": ["INVOKE"]}',
    {"Lambda-Extension-Name": "wants-events"},
)
refusal = json.dumps({"status": answer.status, **json.loads(body)}).encode()
while True:
    event, _ = call("GET", "/2018-06-01/runtime/invocation/next")
    request_id = event.headers["Lambda-Runtime-Aws-Request-Id"]
    call("POST", f"/2018-06-01/runtime/invocation/{request_id}/response", refusal)
"""
# A streamed response that fails after its first bytes, as the Runtime API's
# "Response streaming" describes it: the error in the trailers.
STREAMING_RUNTIME = """
import base64, json, os, socket

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
sock = socket.create_connection((host, int(port)))
sock.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
head = b""
while b"\\r\\n\\r\\n" not in head:
    head += sock.recv(65536)
request_id = [
    line.split(b": ", 1)[1].decode()
    for line in head.split(b"\\r\\n")
    if line.lower().startswith(b"lambda-runtime-aws-request-id:")
][0]
error = base64.b64encode(json.dumps({"errorType": "ValueError", "errorMessage": "mid-stream"}).encode())
sock.sendall(
    f"POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\\r\\nHost: x\\r\\n".encode()
    + b"Lambda-Runtime-Function-Response-Mode: streaming\\r\\nTransfer-Encoding: chunked\\r\\n"
    + b"Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\\r\\n\\r\\n"
    + b"5\\r\\nhello\\r\\n0\\r\\nLambda-Runtime-Function-Error-Type: ValueError\\r\\n"
    + b"Lambda-Runtime-Function-Error-Body: " + error + b"\\r\\n\\r\\n"
)
sock.recv(65536)
sock.close()
import time
time.sleep(60)
"""
