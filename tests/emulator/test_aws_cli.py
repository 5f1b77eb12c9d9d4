"""The AWS CLI (v1, from the dev extra), unchanged, against the emulator (``--endpoint-url``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator.harness import EmulatorProcess

AWS = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
pytestmark = pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed")


def aws(
    emulator: EmulatorProcess, tmp_path: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    out = tmp_path / "out.json"
    done = aws_lambda(emulator, tmp_path, "invoke", *args, str(out))
    return done, out.read_text() if out.exists() else ""


def aws_lambda(
    emulator: EmulatorProcess, tmp_path: Path, command: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """``aws lambda COMMAND --endpoint-url URL ARGS``, with no profile of the machine's."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    line = [str(AWS), "lambda", command, "--endpoint-url", emulator.url, *args]
    return subprocess.run(line, check=False, capture_output=True, text=True, env=env, timeout=60)


def test_invoke(emulator: EmulatorProcess, tmp_path: Path) -> None:
    done, payload = aws(
        emulator, tmp_path, "--function-name", "echo", "--payload", '{"from": "cli"}',
        "--log-type", "Tail",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == "$LATEST"
    assert "LogResult" in answer
    assert json.loads(payload)["event"] == {"from": "cli"}


def test_function_error(emulator: EmulatorProcess, tmp_path: Path) -> None:
    done, payload = aws(emulator, tmp_path, "--function-name", "boom")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["FunctionError"] == "Unhandled"
    assert json.loads(payload)["errorType"] == "ValueError"


def test_unknown_function(emulator: EmulatorProcess, tmp_path: Path) -> None:
    done, _ = aws(emulator, tmp_path, "--function-name", "nope")
    assert done.returncode != 0
    assert "ResourceNotFoundException" in done.stderr


def test_an_event_invoke_config_through_the_cli(emulator: EmulatorProcess, tmp_path: Path) -> None:
    put = aws_lambda(
        emulator, tmp_path, "put-function-event-invoke-config", "--function-name", "echo",
        "--maximum-retry-attempts", "0", "--maximum-event-age-in-seconds", "120",
    )  # fmt: skip
    got = aws_lambda(
        emulator, tmp_path, "get-function-event-invoke-config", "--function-name", "echo"
    )
    deleted = aws_lambda(
        emulator, tmp_path, "delete-function-event-invoke-config", "--function-name", "echo"
    )
    assert put.returncode == 0, put.stderr
    assert json.loads(put.stdout)["MaximumEventAgeInSeconds"] == 120
    assert json.loads(got.stdout)["MaximumRetryAttempts"] == 0
    assert (deleted.returncode, deleted.stdout) == (0, "")
