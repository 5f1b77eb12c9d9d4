"""The Invoke API's synchronous path: answers, error answers, what reaches the handler.

"Invoke" in the Lambda API reference:
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.emulator.conftest import LEAK
from tests.emulator.harness import EmulatorProcess, invoke_path

ARN = "arn:aws:lambda:us-east-1:123456789012:function:echo"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SIX_MB = 6 * 1024 * 1024
ONE_MB = 1024 * 1024


def json_string_of_size(size: int) -> bytes:
    """A JSON string exactly ``size`` bytes long (quotes included)."""
    return b'"' + b"x" * (size - 2) + b'"'


@pytest.mark.parametrize(
    "target",
    [
        invoke_path("echo"),
        invoke_path("echo:$LATEST"),
        invoke_path("echo") + "?Qualifier=$LATEST",
        invoke_path(ARN),
        invoke_path(f"{ARN}:$LATEST"),
        invoke_path("123456789012:function:echo"),
        invoke_path(ARN.replace(":", "%3A")),  # as boto3 sends an ARN
    ],
    ids=["name", "qualified", "query-qualifier", "arn", "qualified-arn", "partial-arn", "quoted"],
)
def test_request_response_returns_the_handlers_result(client: httpx.Client, target: str) -> None:
    response = client.post(target, json={"n": 1})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-amz-executed-version"] == "$LATEST"
    assert "x-amz-function-error" not in response.headers
    request_id = response.headers["x-amzn-requestid"]
    assert UUID.match(request_id)
    body = response.json()
    assert body["event"] == {"n": 1}
    assert body["request_id"] == request_id  # the caller's id is the handler's aws_request_id


def test_each_invocation_has_its_own_request_id(client: httpx.Client) -> None:
    ids = {client.post(invoke_path("echo"), json={}).headers["x-amzn-requestid"] for _ in range(3)}
    assert len(ids) == 3


def test_an_empty_payload_reaches_the_handler_as_an_empty_object(client: httpx.Client) -> None:
    response = client.post(invoke_path("echo"))
    assert response.status_code == 200
    assert response.json()["event"] == {}


@pytest.mark.parametrize("event", [[1, "two", None], "text", 3.5, None, {"nested": {"é": "✓"}}])
def test_any_json_value_is_an_event(client: httpx.Client, event: object) -> None:
    response = client.post(invoke_path("echo"), content=json.dumps(event).encode())
    assert response.status_code == 200
    assert response.json()["event"] == event


def test_a_handler_exception_is_a_function_error(client: httpx.Client) -> None:
    response = client.post(invoke_path("boom"), json={})
    assert response.status_code == 200
    assert response.headers["x-amz-function-error"] == "Unhandled"
    assert response.headers["content-type"] == "application/json"
    assert "x-amzn-requestid" in response.headers
    body = response.json()
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "boom"
    assert isinstance(body["stackTrace"], list)
    assert body["stackTrace"]
    assert all(isinstance(frame, str) for frame in body["stackTrace"])


def error_answer(response: httpx.Response, status: int, error_type: str) -> str:
    """Checks an error answer of the Invoke API; its message."""
    assert response.status_code == status, response.text
    assert response.headers["x-amzn-errortype"] == error_type
    assert response.headers["content-type"] == "application/json"
    assert "x-amzn-requestid" in response.headers
    message = response.json()["message"]
    assert isinstance(message, str)
    return message


@pytest.mark.parametrize(
    "identifier", ["nosuchfunction", "nosuchfunction:$LATEST", ARN[:-4] + "nosuchfunction"]
)
def test_an_unknown_function_is_not_found(client: httpx.Client, identifier: str) -> None:
    response = client.post(invoke_path(identifier), json={})
    message = error_answer(response, 404, "ResourceNotFoundException")
    assert "nosuchfunction" in message


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"a": 1} trailing', b"\xff\xfe\x00"])
def test_a_payload_that_is_not_json_is_refused(client: httpx.Client, body: bytes) -> None:
    response = client.post(invoke_path("echo"), content=body)
    error_answer(response, 400, "InvalidRequestContentException")


@pytest.mark.parametrize("body", [b"NaN", b'{"a": Infinity}', b"[-Infinity]"])
def test_a_payload_with_non_numbers_is_refused(client: httpx.Client, body: bytes) -> None:
    response = client.post(invoke_path("echo"), content=body)
    error_answer(response, 400, "InvalidRequestContentException")


def test_a_chunked_payload_is_read_whole(client: httpx.Client) -> None:
    response = client.post(invoke_path("echo"), content=iter([b'{"chun', b'ked": ', b"true}"]))
    assert response.status_code == 200
    assert response.json()["event"] == {"chunked": True}


@pytest.mark.parametrize(
    ("size", "invocation_type", "status"),
    [
        (SIX_MB, "RequestResponse", 200),
        (SIX_MB + 1, "RequestResponse", 413),
        (ONE_MB, "Event", 202),
        (ONE_MB + 1, "Event", 413),
    ],
)
def test_payload_size_limits(
    client: httpx.Client, size: int, invocation_type: str, status: int
) -> None:
    response = client.post(
        invoke_path("length"),
        content=json_string_of_size(size),
        headers={"X-Amz-Invocation-Type": invocation_type},
    )
    assert response.status_code == status, response.text
    if status == 413:
        error_answer(response, 413, "RequestEntityTooLargeException")
    elif status == 200:
        assert response.json() == size - 2  # the handler got the whole string


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Amz-Invocation-Type", "Sometimes"),
        ("X-Amz-Invocation-Type", "event"),
        ("X-Amz-Log-Type", "Everything"),
    ],
)
def test_a_bad_header_value_is_refused(client: httpx.Client, header: str, value: str) -> None:
    response = client.post(invoke_path("echo"), json={}, headers={header: value})
    message = error_answer(response, 400, "InvalidParameterValueException")
    assert header in message


@pytest.mark.parametrize(
    "client_context",
    [
        "not base64!",
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b"[1, 2]").decode(),
    ],
    ids=["bad-base64", "not-json", "not-an-object"],
)
def test_a_bad_client_context_is_refused_with_a_clear_message(
    client: httpx.Client, client_context: str
) -> None:
    response = client.post(
        invoke_path("echo"), json={}, headers={"X-Amz-Client-Context": client_context}
    )
    assert response.status_code == 400
    assert "x-amzn-errortype" in response.headers
    message = response.json()["message"]
    assert "client context" in message.lower()
    assert "base64" in message.lower()


def test_an_unknown_operation_is_refused(client: httpx.Client) -> None:
    response = client.get(invoke_path("echo"))
    assert response.status_code == 404
    assert response.headers["x-amzn-errortype"] == "UnknownOperationException"


CALLER_FIELDS = ("custom", "env", "app_title", "tenant_id")


def test_client_context_and_tenant_id_reach_the_context(client: httpx.Client) -> None:
    client_context = {"custom": {"k": "v"}, "env": {"e": "1"}, "client": {"app_title": "t"}}
    headers = {
        "X-Amz-Client-Context": base64.b64encode(json.dumps(client_context).encode()).decode(),
        "X-Amz-Tenant-Id": "t-1",
    }
    response = client.post(invoke_path("context"), json={}, headers=headers)
    assert response.status_code == 200
    info = response.json()
    assert {key: info[key] for key in CALLER_FIELDS} == {
        "custom": {"k": "v"},
        "env": {"e": "1"},
        "app_title": "t",
        "tenant_id": "t-1",
    }


def test_without_those_headers_the_context_has_neither(client: httpx.Client) -> None:
    info = client.post(invoke_path("context"), json={}).json()
    assert {key: info[key] for key in CALLER_FIELDS} == dict.fromkeys(CALLER_FIELDS)


def test_the_context_describes_the_function_and_the_deadline(client: httpx.Client) -> None:
    info = client.post(invoke_path("context"), json={}).json()
    assert info["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:context"
    assert info["function_name"] == "context"
    assert info["memory_limit_in_mb"] == "128"
    assert 0 < info["remaining_ms"] <= 3000  # the default 3 s timeout
    assert re.fullmatch(
        r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1", info["trace_id"]
    )


@pytest.mark.parametrize(
    "target", [invoke_path("context:$LATEST"), invoke_path("context") + "?Qualifier=$LATEST"]
)
def test_the_invoked_arn_carries_the_qualifier(client: httpx.Client, target: str) -> None:
    info = client.post(target, json={}).json()
    assert (
        info["invoked_function_arn"]
        == "arn:aws:lambda:us-east-1:123456789012:function:context:$LATEST"
    )


@pytest.mark.parametrize(
    ("target", "status", "error_type"),
    [
        (invoke_path("echo:live"), 404, "ResourceNotFoundException"),  # no such alias
        (invoke_path("echo") + "?Qualifier=7", 404, "ResourceNotFoundException"),
        (invoke_path("echo:bad%01"), 400, "ValidationException"),
        (invoke_path("echo") + "?Qualifier=a%0Ab", 400, "ValidationException"),
    ],
    ids=["alias", "version", "control-character", "query-control-character"],
)
def test_a_qualifier_that_names_nothing_is_refused_as_lambda_does(
    client: httpx.Client, emulator: EmulatorProcess, target: str, status: int, error_type: str
) -> None:
    before = len(emulator.function_lines("echo"))
    response = client.post(target, json={})
    error_answer(response, status, error_type)
    assert len(emulator.function_lines("echo")) == before  # nothing ran


def test_a_client_context_over_the_limit_is_a_400_not_a_failed_invocation(
    client: httpx.Client,
) -> None:
    context = base64.b64encode(json.dumps({"custom": {"k": "v" * 100_000}}).encode()).decode()
    response = client.post(invoke_path("echo"), json={}, headers={"X-Amz-Client-Context": context})
    message = error_answer(response, 400, "InvalidRequestContentException")
    assert "3583" in message


def test_head_on_the_invoke_path_gets_an_answer(client: httpx.Client) -> None:
    response = client.head(invoke_path("echo"))
    assert response.status_code == 404
    assert response.headers["x-amzn-errortype"] == "UnknownOperationException"
    assert response.content == b""
    # The connection is still good for the next request.
    assert client.post(invoke_path("echo"), json={}).status_code == 200


EXPECTED_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "environ",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/environ",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "_HANDLER": "handlers.environ",
    "TZ": ":UTC",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    # The function's [functions.environ.environment] table; values become strings.
    "GREETING": "hello",
    "ANSWER": "42",
}


def test_the_runtime_environment_is_lambdas(
    client: httpx.Client, emulator: EmulatorProcess, code_dir: Path
) -> None:
    env = client.post(invoke_path("environ"), json={}).json()
    assert {name: env.get(name) for name in EXPECTED_ENV} == EXPECTED_ENV
    assert re.fullmatch(
        r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"]
    )
    runtime_api = urlsplit(f"http://{env['AWS_LAMBDA_RUNTIME_API']}")
    assert runtime_api.hostname == "127.0.0.1"
    assert runtime_api.port != urlsplit(emulator.url).port  # a Runtime API of its own
    assert Path(env["LAMBDA_TASK_ROOT"]) == code_dir
    assert env["LAMBDA_RUNTIME_DIR"]
    assert LEAK[0] not in env
