"""Reserved concurrency through boto3: PutFunctionConcurrency caps a function, 0 stops it.

"Configuring reserved concurrency" (configuration-concurrency.html). Overlap is
proven with a held invocation: it runs until the test releases it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.emulator.harness import (
    EmulatorProcess,
    HeldInvoke,
    boto3_lambda,
    invoke_path,
    toml_config,
)

HERE = Path(__file__).resolve().parent


def invoke(emulator: EmulatorProcess) -> httpx.Response:
    """A synchronous invoke, by hand: a ClientError pytest.raises keeps would hold a
    throttled Invoke's connection open past the test."""
    return httpx.post(emulator.url + invoke_path("held"), content=b"{}", timeout=30)


@pytest.fixture
def emulator(tmp_path: Path) -> EmulatorProcess:
    shutil.copy(HERE / "handlers.py", tmp_path / "handlers.py")
    functions = {"held": {"handler": "handlers.hold", "concurrency": 5, "timeout": 30}}
    (tmp_path / "functions.toml").write_text(toml_config(functions, str(tmp_path)))
    args = ["--port", "0", "--config", str(tmp_path / "functions.toml")]
    return EmulatorProcess(args, cwd=tmp_path)


def test_a_reservation_of_1_throttles_a_second_overlapping_caller(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    with emulator:
        client = boto3_lambda(emulator.url)
        put = client.put_function_concurrency(FunctionName="held", ReservedConcurrentExecutions=1)
        got = client.get_function_concurrency(FunctionName="held")
        settings = client.get_account_settings()
        with HeldInvoke(emulator.url, "held", tmp_path):
            throttled = invoke(emulator)
            client.delete_function_concurrency(FunctionName="held")
            # Unreserved, the function has room again while the first one is held.
            second = HeldInvoke(emulator.url, "held", tmp_path, tag="second")
            with second:
                assert second.release().status_code == 200
        after = client.get_function_concurrency(FunctionName="held")
    assert put["ReservedConcurrentExecutions"] == got["ReservedConcurrentExecutions"] == 1
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 999
    assert throttled.status_code == 429
    assert throttled.headers["x-amzn-errortype"] == "TooManyRequestsException"
    assert throttled.json()["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert "ReservedConcurrentExecutions" not in after


def test_a_reservation_of_0_throttles_every_call_and_skips_every_event(
    emulator: EmulatorProcess,
) -> None:
    with emulator:
        client = boto3_lambda(emulator.url)
        client.put_function_concurrency(FunctionName="held", ReservedConcurrentExecutions=0)
        throttled = invoke(emulator)
        event = client.invoke(FunctionName="held", InvocationType="Event", Payload=b"{}")
        request_id = event["ResponseMetadata"]["RequestId"]
        line = emulator.wait_for_line(lambda text: "ended: RetriesExhausted" in text)
        lines = emulator.function_lines("held")
    assert throttled.headers["x-amzn-errortype"] == "TooManyRequestsException"
    assert event["StatusCode"] == 202
    assert f"reserved concurrency is 0: {request_id} not run" in lines
    assert (
        line
        == f"[held] asynchronous invocation {request_id} ended: RetriesExhausted after 0 attempts"
    )
    assert not any(text.startswith("START") for text in lines)


def test_reservations_leave_100_of_the_account_unreserved(emulator: EmulatorProcess) -> None:
    with emulator:
        client = boto3_lambda(emulator.url)
        with pytest.raises(ClientError) as refused:
            client.put_function_concurrency(FunctionName="held", ReservedConcurrentExecutions=901)
        with pytest.raises(ClientError) as missing:
            client.get_function_concurrency(FunctionName="nosuch")
    assert refused.value.response["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].",
    }
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
