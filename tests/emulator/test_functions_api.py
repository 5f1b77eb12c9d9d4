"""GetFunction, GetFunctionConfiguration, ListFunctions and UpdateFunctionConfiguration, by boto3.

An update applies to new environments; warm ones of the old configuration are
retired: an idle one at once, a busy one once its invocation has ended.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.harness import EmulatorProcess, boto3_lambda, toml_config, wait_until

APP = """
import os, pathlib, time

def handler(event, context):
    hold = event.get("hold")
    if hold:
        pathlib.Path(hold + ".running").touch()
        while not os.path.exists(hold + ".release"):
            time.sleep(0.01)
    return {"pid": os.getpid(), "greeting": os.environ.get("GREETING"),
            "memory": context.memory_limit_in_mb}

def other(event, context):
    return "other"
"""
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


@pytest.fixture
def emulator(tmp_path: Path) -> EmulatorProcess:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(APP)
    functions: dict[str, dict[str, Any]] = {
        "greet": {"handler": "app.handler", "environment": {"GREETING": "hello"}, "timeout": 30},
        "spare": {"handler": "app.other"},
    }
    (tmp_path / "functions.toml").write_text(toml_config(functions, str(code)))
    return EmulatorProcess(["--port", "0", "--config", str(tmp_path / "functions.toml")], tmp_path)


def call(client: Any, payload: dict[str, Any] | None = None) -> Any:
    answer = client.invoke(FunctionName="greet", Payload=json.dumps(payload or {}))
    return json.loads(answer["Payload"].read())


def test_functions_are_read_as_lambda_describes_them(emulator: EmulatorProcess) -> None:
    with emulator:
        client = boto3_lambda(emulator.url)
        configuration = client.get_function_configuration(FunctionName="greet")
        function = client.get_function(FunctionName=ARN + "greet")
        listed = client.list_functions()
        page = client.list_functions(MaxItems=1)
        with pytest.raises(ClientError) as missing:
            client.get_function(FunctionName="nosuch")
    assert configuration["FunctionArn"] == ARN + "greet"
    assert (configuration["Handler"], configuration["Timeout"], configuration["MemorySize"]) == (
        "app.handler",
        30,
        128,
    )
    assert configuration["Environment"] == {"Variables": {"GREETING": "hello"}}
    assert configuration["Version"] == "$LATEST" and configuration["State"] == "Active"
    assert configuration["CodeSize"] == len(APP.encode())  # the code directory's one file
    assert function["Configuration"]["RevisionId"] == configuration["RevisionId"]
    assert [f["FunctionName"] for f in listed["Functions"]] == ["greet", "spare"]
    assert [f["FunctionName"] for f in page["Functions"]] == ["greet"]
    assert page["NextMarker"] == "1"
    assert missing.value.response["Error"]["Message"] == f"Function not found: {ARN}nosuch"


def test_an_update_reaches_the_next_environment_and_retires_the_warm_one(
    emulator: EmulatorProcess,
) -> None:
    with emulator:
        client = boto3_lambda(emulator.url)
        before = call(client)
        revision = client.get_function_configuration(FunctionName="greet")["RevisionId"]
        updated = client.update_function_configuration(
            FunctionName="greet", Environment={"Variables": {"GREETING": "hi"}}, MemorySize=256
        )
        after = call(client)
        notice = emulator.wait_for_line(lambda line: "its configuration was updated" in line)
    assert (before["greeting"], after["greeting"]) == ("hello", "hi")
    assert (before["memory"], after["memory"]) == ("128", "256")
    assert before["pid"] != after["pid"]  # a new environment
    assert updated["RevisionId"] != revision
    assert updated["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert notice.startswith("[greet] shutting down environment 1")


def test_a_busy_environment_finishes_its_invocation_with_the_old_configuration(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    hold = str(tmp_path / "hold")
    with emulator:
        client = boto3_lambda(emulator.url)
        held: dict[str, Any] = {}
        caller = threading.Thread(target=lambda: held.update(call(client, {"hold": hold})))
        caller.start()
        assert wait_until(Path(hold + ".running").exists)
        client.update_function_configuration(
            FunctionName="greet", Environment={"Variables": {"GREETING": "new"}}
        )
        meanwhile = call(boto3_lambda(emulator.url))  # not the busy one: a new environment
        Path(hold + ".release").touch()
        caller.join(30)
        later = call(client)
    assert held["greeting"] == "hello"
    assert meanwhile["greeting"] == later["greeting"] == "new"
    assert held["pid"] not in (meanwhile["pid"], later["pid"])


def test_bad_updates_are_refused_as_lambda_refuses_them(emulator: EmulatorProcess) -> None:
    with emulator:
        client = boto3_lambda(emulator.url)
        with pytest.raises(ClientError) as too_long:
            client.update_function_configuration(FunctionName="greet", Timeout=901)
        with pytest.raises(ClientError) as stale:
            client.update_function_configuration(
                FunctionName="greet", Description="x", RevisionId="not-the-latest"
            )
        with pytest.raises(ClientError) as layers:
            client.update_function_configuration(
                FunctionName="greet", Layers=["arn:aws:lambda:us-east-1:123456789012:layer:x:1"]
            )
        unchanged = client.get_function_configuration(FunctionName="greet")
    assert too_long.value.response["Error"]["Code"] == "ValidationException"
    assert "'901' at 'timeout'" in too_long.value.response["Error"]["Message"]
    assert stale.value.response["Error"]["Code"] == "PreconditionFailedException"
    assert layers.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert (unchanged["Timeout"], unchanged["Description"]) == (30, "")


def test_the_code_size_follows_files_added_and_removed(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    extra = tmp_path / "code" / "data.txt"
    with emulator:
        client = boto3_lambda(emulator.url)
        before = client.get_function_configuration(FunctionName="greet")
        extra.write_text("x" * 10)
        os.utime(extra, (1, 1))  # an old file (unpacked from an archive): not the newest
        added = client.get_function_configuration(FunctionName="greet")
        extra.unlink()
        removed = client.get_function_configuration(FunctionName="greet")
    assert added["CodeSize"] == before["CodeSize"] + 10
    assert removed["CodeSize"] == before["CodeSize"]
    assert removed["CodeSha256"] == before["CodeSha256"] != added["CodeSha256"]
