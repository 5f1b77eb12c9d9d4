"""Invocations the platform ends: timeouts, crashes, failed inits, oversized responses.

Each is a function error (200 with ``X-Amz-Function-Error: Unhandled``), and the
function serves its next invocation from a fresh environment.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import httpx
import pytest

from tests.emulator.harness import (
    EmulatorProcess,
    containing,
    invoke_path,
    process_gone,
    wait_until,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def function_error(response: httpx.Response, error_type: str) -> str:
    """Checks a function error of ``error_type``; its errorMessage."""
    assert response.status_code == 200
    assert response.headers["x-amz-function-error"] == "Unhandled"
    body = response.json()
    assert body["errorType"] == error_type, body
    message = body["errorMessage"]
    assert isinstance(message, str)
    return message


def serves_again(client: httpx.Client, name: str) -> dict[str, int]:
    """The next invocation of ``name`` succeeds; its log tail's REPORT has an Init Duration."""
    response = client.post(invoke_path(name), json={}, headers={"X-Amz-Log-Type": "Tail"})
    assert response.status_code == 200, response.text
    assert "x-amz-function-error" not in response.headers
    report = base64.b64decode(response.headers["x-amz-log-result"]).decode().splitlines()[-1]
    assert report.startswith("REPORT ")
    assert "\tInit Duration: " in report  # a fresh environment
    body: dict[str, int] = response.json()
    return body


@linux_only
def test_a_timed_out_invocation_is_ended_with_its_processes(
    client: httpx.Client, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    response = client.post(invoke_path("timeout"), json={"action": "hang", "pids": str(pids)})
    message = function_error(response, "Sandbox.Timedout")
    assert "Task timed out after 1.00 seconds" in message
    assert response.headers["x-amzn-requestid"] in message
    runtime, child = map(int, pids.read_text().split())
    assert wait_until(lambda: process_gone(runtime)), f"runtime {runtime} still runs"
    assert wait_until(lambda: process_gone(child)), f"its child {child} still runs"
    assert serves_again(client, "timeout")["pid"] != runtime


def test_a_timeout_is_in_the_log_tail(client: httpx.Client, tmp_path: Path) -> None:
    event = {"action": "hang", "pids": str(tmp_path / "pids")}
    response = client.post(invoke_path("timeout"), json=event, headers={"X-Amz-Log-Type": "Tail"})
    function_error(response, "Sandbox.Timedout")
    log = base64.b64decode(response.headers["x-amz-log-result"]).decode()
    request_id = response.headers["x-amzn-requestid"]
    assert f"{request_id} Task timed out after 1.00 seconds" in log
    assert log.splitlines()[-1].startswith(f"REPORT RequestId: {request_id}\t")


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"action": "exit", "status": 3}, "exit status 3"),
        # Lambda's wording for a clean exit may differ: only the type is checked.
        ({"action": "exit", "status": 0}, None),
        ({"action": "kill", "signal": 9}, "signal: killed"),
        ({"action": "kill", "signal": 11}, "signal: segmentation fault"),
    ],
    ids=["exit-3", "exit-0", "sigkill", "sigsegv"],
)
def test_a_runtime_that_exits_mid_invocation_is_an_exit_error(
    client: httpx.Client, event: dict[str, object], reason: str | None
) -> None:
    before = client.post(invoke_path("crash"), json={}).json()["pid"]
    response = client.post(invoke_path("crash"), json=event)
    message = function_error(response, "Runtime.ExitError")
    request_id = response.headers["x-amzn-requestid"]
    assert message.startswith(f"RequestId: {request_id} Error: Runtime exited")
    try:
        if reason is not None:
            assert message == f"RequestId: {request_id} Error: Runtime exited with error: {reason}"
    finally:  # the function recovers whatever the wording
        assert serves_again(client, "crash")["pid"] != before


@linux_only
def test_a_runtime_that_dies_while_idle_is_replaced(
    client: httpx.Client, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    told = tmp_path / "exit"
    response = client.post(invoke_path("crash"), json={"action": "exit_when", "file": str(told)})
    assert response.status_code == 200
    pid = response.json()["pid"]
    told.touch()  # the runtime now exits between invocations
    assert wait_until(lambda: process_gone(pid))
    emulator.wait_for_line(containing("Runtime exited with error: exit status 5"))
    assert serves_again(client, "crash")["pid"] != pid


def test_a_missing_handler_module_is_an_init_error_each_time(client: httpx.Client) -> None:
    for _ in range(2):  # init is retried by the next invocation
        message = function_error(
            client.post(invoke_path("missing"), json={}), "Runtime.ImportModuleError"
        )
        assert "no_such_module" in message


def test_a_runtime_that_exits_during_init_names_the_request(client: httpx.Client) -> None:
    response = client.post(invoke_path("initcrash"), json={})
    message = function_error(response, "Runtime.ExitError")
    request_id = response.headers["x-amzn-requestid"]
    assert message == f"RequestId: {request_id} Error: Runtime exited with error: exit status 1"


def test_a_runtime_that_exits_during_init_is_an_exit_error_each_time(
    client: httpx.Client,
) -> None:
    for _ in range(2):
        message = function_error(
            client.post(invoke_path("initcrash"), json={}), "Runtime.ExitError"
        )
        assert message.endswith("Runtime exited with error: exit status 1")


def test_a_runtime_command_that_cannot_start_is_an_invalid_entrypoint(
    client: httpx.Client,
) -> None:
    for _ in range(2):
        response = client.post(invoke_path("badcommand"), json={})
        message = function_error(response, "Runtime.InvalidEntrypoint")
        assert message.startswith(f"RequestId: {response.headers['x-amzn-requestid']} Error: ")


def test_a_response_over_6_mb_is_a_function_error(client: httpx.Client) -> None:
    response = client.post(invoke_path("big"), json={})
    function_error(response, "Function.ResponseSizeTooLarge")
    assert len(response.content) < 1024
