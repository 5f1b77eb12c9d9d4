"""Asynchronous invocation as a boto3 user sees it: event invoke configs, retries, destinations,
and a queue that survives the emulator being killed.

"Asynchronous invocation" (invocation-async.html) and "Capturing records of
Lambda asynchronous invocations" (invocation-async-retain-records.html).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.harness import EmulatorProcess, boto3_lambda, toml_config, wait_until

APP = """
import json, os, pathlib, time

def work(event, context):
    folder = pathlib.Path(event["runs"])
    folder.mkdir(parents=True, exist_ok=True)
    attempt = len(list(folder.iterdir()))
    (folder / f"{attempt}.{context.aws_request_id}").write_text(json.dumps(event))
    hold = event.get("hold")
    while hold and not os.path.exists(hold):
        time.sleep(0.01)
    if event.get("fail"):
        raise RuntimeError(f"attempt {attempt} failed")
    return {"done": attempt}

def record(event, context):
    folder = pathlib.Path(os.environ["RECORDS"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{context.aws_request_id}.json").write_text(json.dumps(event))
"""
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


def emulator_for(folder: Path, state: Path | None = None, *extra: str) -> EmulatorProcess:
    code = folder / "code"
    code.mkdir(exist_ok=True)
    (code / "app.py").write_text(APP)
    records = {"RECORDS": str(folder / "records")}
    functions: dict[str, dict[str, Any]] = {
        "work": {"handler": "app.work", "timeout": 30},
        "record": {"handler": "app.record", "environment": records},
    }
    config = folder / "functions.toml"
    config.write_text(toml_config(functions, str(code)))
    args = ["--port", "0", "--config", str(config), "--async-retry-delays", "0.05,0.05"]
    if state is not None:
        args += ["--state-dir", str(state)]
    return EmulatorProcess([*args, *extra], cwd=folder)


def attempts(folder: Path) -> list[str]:
    """The request id of each attempt, in order."""
    if not folder.exists():
        return []
    ordered = sorted(folder.iterdir(), key=lambda path: int(path.name.split(".")[0]))
    return [path.name.split(".", 1)[1] for path in ordered]


def records(folder: Path) -> list[dict[str, Any]]:
    found = folder / "records"
    return [json.loads(path.read_text()) for path in found.iterdir()] if found.exists() else []


def invoke_event(client: Any, payload: dict[str, Any]) -> str:
    answer = client.invoke(FunctionName="work", InvocationType="Event", Payload=json.dumps(payload))
    assert answer["StatusCode"] == 202
    return str(answer["ResponseMetadata"]["RequestId"])


def test_an_event_invoke_config_is_put_read_updated_listed_and_deleted(tmp_path: Path) -> None:
    with emulator_for(tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        with pytest.raises(ClientError) as missing:
            client.get_function_event_invoke_config(FunctionName="work")
        put = client.put_function_event_invoke_config(
            FunctionName="work",
            MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": ARN + "record"}},
        )
        updated = client.update_function_event_invoke_config(
            FunctionName="work", MaximumEventAgeInSeconds=300
        )
        got = client.get_function_event_invoke_config(FunctionName="work", Qualifier="$LATEST")
        listed = client.list_function_event_invoke_configs(FunctionName="work")
        client.delete_function_event_invoke_config(FunctionName="work")
        with pytest.raises(ClientError) as gone:
            client.delete_function_event_invoke_config(FunctionName="work")
        with pytest.raises(ClientError) as bad:
            client.put_function_event_invoke_config(
                FunctionName="work",
                DestinationConfig={"OnSuccess": {"Destination": "arn:aws:iam::1:x"}},
            )
        with pytest.raises(ClientError) as no_function:
            client.put_function_event_invoke_config(FunctionName="nosuch", MaximumRetryAttempts=0)
    assert missing.value.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": f"The function {ARN}work:$LATEST doesn't have an EventInvokeConfig",
    }
    assert (put["FunctionArn"], put["MaximumRetryAttempts"]) == (f"{ARN}work:$LATEST", 1)
    assert "MaximumEventAgeInSeconds" not in put
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (1, 300)
    assert got["DestinationConfig"] == {"OnFailure": {"Destination": ARN + "record"}}
    assert got["LastModified"] >= put["LastModified"]
    assert [c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"]] == [
        f"{ARN}work:$LATEST"
    ]
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert bad.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert no_function.value.response["Error"]["Message"] == f"Function not found: {ARN}nosuch"


def test_a_failing_event_is_tried_1_plus_max_retries_times_then_recorded(tmp_path: Path) -> None:
    with emulator_for(tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        client.put_function_event_invoke_config(
            FunctionName="work",
            MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": ARN + "record"}},
        )
        event = {"runs": str(tmp_path / "runs"), "fail": True}
        request_id = invoke_event(client, event)
        assert wait_until(lambda: records(tmp_path)), emulator.lines[-20:]
        lines = emulator.function_lines("work")
    assert attempts(tmp_path / "runs") == [request_id, request_id]
    (document,) = records(tmp_path)
    assert document["version"] == "1.0"
    assert document["requestContext"] == {
        "requestId": request_id,
        "functionArn": ARN + "work",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 2,
    }
    assert document["requestPayload"] == event
    assert document["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert document["responsePayload"]["errorMessage"] == "attempt 1 failed"
    assert time.strptime(document["timestamp"][:19], "%Y-%m-%dT%H:%M:%S")
    assert any(f"asynchronous invocation {request_id} failed; retry 1 of 1" in x for x in lines)
    assert any(f"{request_id} ended: RetriesExhausted after 2 attempts" in x for x in lines)


def test_a_success_is_recorded_at_the_on_success_destination(tmp_path: Path) -> None:
    with emulator_for(tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        client.put_function_event_invoke_config(
            FunctionName="work", DestinationConfig={"OnSuccess": {"Destination": ARN + "record"}}
        )
        request_id = invoke_event(client, {"runs": str(tmp_path / "runs")})
        assert wait_until(lambda: records(tmp_path))
    (document,) = records(tmp_path)
    assert document["requestContext"]["condition"] == "Success"
    assert document["requestContext"]["requestId"] == request_id
    assert document["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert document["responsePayload"] == {"done": 0}


def test_an_unreachable_destination_is_logged_and_the_event_is_still_done(tmp_path: Path) -> None:
    with emulator_for(tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        client.put_function_event_invoke_config(
            FunctionName="work", DestinationConfig={"OnSuccess": {"Destination": ARN + "gone"}}
        )
        request_id = invoke_event(client, {"runs": str(tmp_path / "runs")})
        line = emulator.wait_for_line(lambda text: "unreachable" in text)
    assert line == (
        f"[work] destination {ARN}gone unreachable: record of {request_id} not delivered"
    )


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_queued_events_survive_the_emulator_being_stopped(tmp_path: Path, signum: int) -> None:
    state, hold = tmp_path / "state", tmp_path / "hold"
    first = emulator_for(tmp_path, state)
    try:
        client = boto3_lambda(first.url)
        event = {"runs": str(tmp_path / "runs"), "hold": str(hold)}
        request_id = invoke_event(client, event)
        assert wait_until(lambda: attempts(tmp_path / "runs")), "the event never started"
    finally:
        first.stop(signum)  # in flight, never answered: it must run again
    hold.touch()
    with emulator_for(tmp_path, state) as second:
        assert wait_until(lambda: len(attempts(tmp_path / "runs")) == 2), second.lines[-20:]
        second.wait_for_line(lambda text: "1 queued asynchronous events resumed" in text)
    assert attempts(tmp_path / "runs") == [request_id, request_id]


def test_one_state_directory_serves_one_emulator_at_a_time(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with emulator_for(tmp_path, state):
        refused = subprocess.run(
            [sys.executable, "-m", "emulator", "--port", "0", "--state-dir", str(state), "x.y"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert refused.returncode == 2
    assert refused.stderr == (
        f"emulator: error: state directory {state} is in use by another emulator; "
        "stop it, or give this one its own with --state-dir DIR\n"
    )


def test_an_event_invoke_config_outlives_the_emulator(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with emulator_for(tmp_path, state) as first:
        boto3_lambda(first.url).put_function_event_invoke_config(
            FunctionName="work", MaximumRetryAttempts=0
        )
    with emulator_for(tmp_path, state) as second:
        got = boto3_lambda(second.url).get_function_event_invoke_config(FunctionName="work")
    assert got["MaximumRetryAttempts"] == 0


def test_a_failed_event_reaches_an_sqs_destination_and_the_dead_letter_queue(
    tmp_path: Path,
) -> None:
    import boto3

    with emulator_for(tmp_path, None, "--sqs") as emulator:
        line = emulator.wait_for_line(lambda text: text.startswith("emulator: SQS endpoint: "))
        sqs = boto3.client(
            "sqs", endpoint_url=line.rsplit(" ", 1)[1], region_name="us-east-1",
            aws_access_key_id="x", aws_secret_access_key="x",
        )  # fmt: skip
        queues = {}
        for name in ("dead", "records"):
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            queues[name] = (url, arn["Attributes"]["QueueArn"])
        client = boto3_lambda(emulator.url)
        client.update_function_configuration(
            FunctionName="work", DeadLetterConfig={"TargetArn": queues["dead"][1]}
        )
        client.put_function_event_invoke_config(
            FunctionName="work",
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": queues["records"][1]}},
        )
        event = {"runs": str(tmp_path / "runs"), "fail": True}
        request_id = invoke_event(client, event)
        dead = sqs.receive_message(
            QueueUrl=queues["dead"][0], MessageAttributeNames=["All"], WaitTimeSeconds=10
        )["Messages"]
        recorded = sqs.receive_message(QueueUrl=queues["records"][0], WaitTimeSeconds=10)
        sqs.close()
    (message,) = dead
    assert json.loads(message["Body"]) == event
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {
        "RequestID": request_id,
        "ErrorCode": "200",
        "ErrorMessage": "attempt 0 failed",
    }
    (record,) = [json.loads(m["Body"]) for m in recorded["Messages"]]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["requestId"] == request_id
