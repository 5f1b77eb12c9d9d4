"""boto3's Lambda client against the emulator: an independent Invoke API client.

Skipped where boto3 is not installed (it is not one of the dev dependencies).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.harness import EmulatorProcess, HeldInvoke, boto3_lambda

boto3 = pytest.importorskip("boto3")

ARN = "arn:aws:lambda:us-east-1:123456789012:function:echo"


@pytest.fixture
def lambda_client(emulator: EmulatorProcess) -> Iterator[Any]:
    client = boto3_lambda(emulator.url)
    yield client
    client.close()


@pytest.mark.parametrize("function_name", ["echo", "echo:$LATEST", ARN, f"{ARN}:$LATEST"])
def test_invoke_returns_the_payload(lambda_client: Any, function_name: str) -> None:
    result = lambda_client.invoke(FunctionName=function_name, Payload=json.dumps({"n": 1}))
    assert result["StatusCode"] == 200
    assert result["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in result
    body = json.loads(result["Payload"].read())
    assert body["event"] == {"n": 1}
    assert body["request_id"] == result["ResponseMetadata"]["RequestId"]


def test_a_function_error_is_unhandled(lambda_client: Any) -> None:
    result = lambda_client.invoke(FunctionName="boom", Payload=b"{}")
    assert result["StatusCode"] == 200
    assert result["FunctionError"] == "Unhandled"
    body = json.loads(result["Payload"].read())
    assert (body["errorType"], body["errorMessage"]) == ("ValueError", "boom")


def test_an_unknown_function_raises_resource_not_found(lambda_client: Any) -> None:
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as caught:
        lambda_client.invoke(FunctionName="nosuchfunction", Payload=b"{}")
    assert "nosuchfunction" in str(caught.value)


def test_a_bad_payload_raises_invalid_request_content(lambda_client: Any) -> None:
    with pytest.raises(lambda_client.exceptions.InvalidRequestContentException):
        lambda_client.invoke(FunctionName="echo", Payload=b"{")


def test_an_event_is_accepted_with_202(lambda_client: Any, tmp_path: Path) -> None:
    folder = tmp_path / "runs"
    result = lambda_client.invoke(
        FunctionName="record", InvocationType="Event", Payload=json.dumps({"runs": str(folder)})
    )
    assert result["StatusCode"] == 202


def test_a_dry_run_is_answered_with_204(lambda_client: Any) -> None:
    result = lambda_client.invoke(FunctionName="echo", InvocationType="DryRun", Payload=b"{}")
    assert result["StatusCode"] == 204


def test_log_type_tail_gives_the_log_result(lambda_client: Any) -> None:
    result = lambda_client.invoke(FunctionName="echo", LogType="Tail", Payload=b'{"t": 1}')
    log = base64.b64decode(result["LogResult"]).decode()
    request_id = result["ResponseMetadata"]["RequestId"]
    assert 'echo says {"t": 1}' in log
    assert f"REPORT RequestId: {request_id}\t" in log


def test_client_context_reaches_the_handler(lambda_client: Any) -> None:
    context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    result = lambda_client.invoke(FunctionName="context", ClientContext=context, Payload=b"{}")
    assert json.loads(result["Payload"].read())["custom"] == {"k": "v"}


def test_a_throttled_invoke_raises_too_many_requests(
    lambda_client: Any, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    throttled = lambda_client.exceptions.TooManyRequestsException
    with HeldInvoke(emulator.url, "solo", tmp_path), pytest.raises(throttled) as caught:
        lambda_client.invoke(FunctionName="solo", Payload=b"{}")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
