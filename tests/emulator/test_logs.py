"""The function log: X-Amz-Log-Result, and the emulator's START / END / REPORT lines.

"Working with Lambda function logs":
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-logs.html
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

import httpx
import pytest

from tests.emulator.harness import EmulatorProcess, invoke_path

TAIL = {"X-Amz-Log-Type": "Tail"}


def report_pattern(request_id: str, memory_mb: int = 128) -> re.Pattern[str]:
    return re.compile(
        rf"^REPORT RequestId: {request_id}\tDuration: \d+\.\d{{2}} ms\t"
        rf"Billed Duration: \d+ ms\tMemory Size: {memory_mb} MB\tMax Memory Used: \d+ MB"
        rf"(?P<init>\tInit Duration: \d+\.\d{{2}} ms)?$"
    )


def tail_lines(response: httpx.Response) -> list[str]:
    return base64.b64decode(response.headers["x-amz-log-result"]).decode().splitlines()


def index_of(lines: list[str], predicate: Callable[[str], bool]) -> int:
    matches = [i for i, line in enumerate(lines) if predicate(line)]
    assert matches, lines
    return matches[0]


@pytest.mark.parametrize(
    ("name", "printed"),
    [("echo", 'echo says {"tail": true}'), ("boom", "[ERROR] ValueError: boom")],
)
def test_the_log_tail_holds_the_invocations_log(
    client: httpx.Client, name: str, printed: str
) -> None:
    response = client.post(invoke_path(name), json={"tail": True}, headers=TAIL)
    assert response.status_code == 200
    request_id = response.headers["x-amzn-requestid"]
    lines = tail_lines(response)
    own = index_of(lines, lambda line: line.startswith(printed))
    end = index_of(lines, lambda line: line == f"END RequestId: {request_id}")
    report = index_of(lines, lambda line: line.startswith("REPORT "))
    assert own < end < report
    assert report_pattern(request_id).match(lines[report]), lines[report]
    assert report == len(lines) - 1  # the tail ends with this invocation's REPORT


def test_without_tail_there_is_no_log_result(client: httpx.Client) -> None:
    assert "x-amz-log-result" not in client.post(invoke_path("echo"), json={}).headers


def test_the_tail_is_the_last_4_kb(client: httpx.Client) -> None:
    response = client.post(invoke_path("echo"), json={"pad": "y" * 10_000}, headers=TAIL)
    log = base64.b64decode(response.headers["x-amz-log-result"])
    assert len(log) <= 4096
    assert report_pattern(response.headers["x-amzn-requestid"]).match(log.decode().splitlines()[-1])


def test_the_emulator_prints_each_invocations_lines_prefixed(
    client: httpx.Client, emulator: EmulatorProcess
) -> None:
    request_id = client.post(invoke_path("echo"), json={"x": 1}).headers["x-amzn-requestid"]
    emulator.wait_for_report("echo", request_id)
    lines = emulator.function_lines("echo")
    start = lines.index(f"START RequestId: {request_id} Version: $LATEST")
    own = lines.index('echo says {"x": 1}', start)
    end = lines.index(f"END RequestId: {request_id}", own)
    assert report_pattern(request_id).match(lines[end + 1])


def test_init_duration_is_on_the_first_report_of_an_environment_only(
    client: httpx.Client, emulator: EmulatorProcess
) -> None:
    ids = [client.post(invoke_path("cold"), json={}).headers["x-amzn-requestid"] for _ in range(3)]
    reports = [emulator.wait_for_report("cold", request_id) for request_id in ids]
    inits = [report_pattern(i).match(r) for i, r in zip(ids, reports, strict=True)]
    assert all(inits), reports
    assert [bool(match and match.group("init")) for match in inits] == [True, False, False]


def test_the_report_shows_the_configured_memory(client: httpx.Client) -> None:
    response = client.post(invoke_path("environ"), json={}, headers=TAIL)
    report = tail_lines(response)[-1]
    assert report_pattern(response.headers["x-amzn-requestid"], memory_mb=256).match(report)


def test_output_without_a_final_newline_is_in_its_invocations_log(client: httpx.Client) -> None:
    response = client.post(invoke_path("partial"), json={}, headers=TAIL)
    request_id = response.headers["x-amzn-requestid"]
    lines = tail_lines(response)
    own = index_of(lines, lambda line: line == f"no newline for {request_id}")
    assert own < index_of(lines, lambda line: line == f"END RequestId: {request_id}")
