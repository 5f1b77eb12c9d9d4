"""Async concurrency mode: one ric process serves N invocations at once on its event loop.

The real emulator hands out ``--max-concurrency N`` events to one
environment; ric runs with ``RIC_CONCURRENCY_MODE=async``. Overlap is proven
without timing: each handler waits until all N have arrived, which can only
happen if all N are in flight in the one process at once.
"""

from __future__ import annotations

import json
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.emulator.harness import EmulatorProcess, boto3_lambda, containing, wait_until

N = 4
MEETING = """\
import asyncio, logging, os
import ric

arrived = 0
everyone = None


async def handler(event, context):
    global arrived, everyone
    if everyone is None:
        everyone = asyncio.Event()
    before = ric.current_context()
    arrived += 1
    if arrived == event["n"]:
        everyone.set()
    await everyone.wait()
    # Interleaved: every handler runs this part after every other has arrived.
    logging.getLogger().info("tag %s", event["tag"])
    after = await asyncio.create_task(in_a_task())
    return {
        "tag": event["tag"],
        "pid": os.getpid(),
        "ids": [before.aws_request_id, after.aws_request_id, context.aws_request_id],
        "tenants": [before.tenant_id, after.tenant_id],
        "trace": after.trace_id,
        "trace_env": os.environ.get("_X_AMZN_TRACE_ID"),
    }


async def in_a_task():
    await asyncio.sleep(0)
    return ric.current_context()


def sync_handler(event, context):
    return "never"
"""


def emulator_args(code: Path, handler: str, *extra: str) -> list[str]:
    return [
        "--port", "0", "--function-name", "meet", "--concurrency", "1",
        "--max-concurrency", str(N), "--timeout", "30", "--code-dir", str(code),
        "--env", "RIC_CONCURRENCY_MODE=async", *extra, handler,
    ]  # fmt: skip


@pytest.fixture
def code(tmp_path: Path) -> Path:
    (tmp_path / "meet.py").write_text(MEETING)
    return tmp_path


def invoke(url: str, tag: int) -> httpx.Response:
    return httpx.post(
        f"{url}/2015-03-31/functions/meet/invocations",
        content=json.dumps({"n": N, "tag": tag}),
        headers={"X-Amz-Tenant-Id": f"tenant-{tag}"},
        timeout=60,
    )


def test_n_invocations_are_in_flight_at_once_in_one_process(code: Path) -> None:
    args = emulator_args(code, "meet.handler", "--env", "AWS_LAMBDA_LOG_FORMAT=JSON")
    with EmulatorProcess(args, cwd=code) as emulator:
        with ThreadPoolExecutor(N) as pool:
            answers = list(pool.map(lambda tag: invoke(emulator.url, tag), range(N)))
        # The answers may go out before their environment's output is printed.
        for answer in answers:
            emulator.wait_for_report("meet", answer.headers["x-amzn-requestid"])
        lines = emulator.function_lines("meet")
    bodies = [answer.json() for answer in answers]
    assert [body["tag"] for body in bodies] == list(range(N)), bodies
    assert len({body["pid"] for body in bodies}) == 1  # one process served them all
    for answer, body in zip(answers, bodies, strict=True):
        request_id = answer.headers["x-amzn-requestid"]
        # Each invocation's context stayed its own, in its tasks too.
        assert body["ids"] == [request_id] * 3
        assert body["tenants"] == [f"tenant-{body['tag']}"] * 2
        assert body["trace"].startswith("Root=1-")
        assert body["trace_env"] is None  # not one process-wide variable for N invocations
    records = [json.loads(line) for line in lines if line.startswith("{")]
    logged = {record["message"]: record["requestId"] for record in records}
    assert logged == {
        f"tag {body['tag']}": answer.headers["x-amzn-requestid"]
        for answer, body in zip(answers, bodies, strict=True)
    }
    assert sum(line.startswith("START") for line in lines) == N
    assert "Init Duration" in next(line for line in lines if line.startswith("REPORT"))


def test_each_slot_serves_again_after_its_invocation(code: Path) -> None:
    with EmulatorProcess(emulator_args(code, "meet.handler"), cwd=code) as emulator:
        for _ in range(2):
            with ThreadPoolExecutor(N) as pool:
                rounds = list(pool.map(lambda tag: invoke(emulator.url, tag), range(N)))
            assert all(answer.status_code == 200 for answer in rounds)
        pids = {answer.json()["pid"] for answer in rounds}
        inits = [line for line in emulator.function_lines("meet") if "Init Duration" in line]
    assert len(pids) == 1
    assert len(inits) == 1


def test_a_sync_handler_is_refused_at_start_up(code: Path) -> None:
    with EmulatorProcess(emulator_args(code, "meet.sync_handler"), cwd=code) as emulator:
        answer = invoke(emulator.url, 0)
        emulator.wait_for_line(containing("[meet] INIT_REPORT"))
        lines = emulator.function_lines("meet")
    assert answer.status_code == 200
    assert answer.headers["x-amz-function-error"] == "Unhandled"
    error = answer.json()
    assert error["errorType"] == "Runtime.HandlerNotAsync"
    assert "RIC_CONCURRENCY_MODE=async needs an async def handler" in error["errorMessage"]
    assert "meet.sync_handler is not one" in error["errorMessage"]
    assert lines[0].startswith("[ERROR] Runtime.HandlerNotAsync: RIC_CONCURRENCY_MODE=async")


STREAMER = """\
import asyncio


async def handler(event, context):
    async def body():
        for part in event["parts"]:
            yield part
            await asyncio.sleep(0)

    return body()
"""


def test_an_async_generator_streams_in_async_mode(tmp_path: Path) -> None:
    (tmp_path / "streamer.py").write_text(STREAMER)
    args = emulator_args(tmp_path, "streamer.handler")
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        answer = client.invoke_with_response_stream(
            FunctionName="meet", Payload=json.dumps({"parts": ["a", "bc", "", "def"]})
        )
        events = list(answer["EventStream"])
    chunks = [event["PayloadChunk"]["Payload"] for event in events if "PayloadChunk" in event]
    assert b"".join(chunks) == b"abcdef"
    assert events[-1] == {"InvokeComplete": {}}


SHUTDOWN = """\
import asyncio
import ric


@ric.on_shutdown
def goodbye():
    print("goodbye from", __name__, flush=True)


@ric.on_shutdown
async def closing():
    await asyncio.sleep(0)  # on the loop, which runs on while the hooks do
    print("async hook ran on the loop", flush=True)


async def handler(event, context):
    if event.get("hold"):
        await asyncio.Event().wait()  # in flight when SIGTERM comes
    return "hello"
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the emulator's SIGTERM path is Linux's")
def test_on_shutdown_hooks_run_at_sigterm_in_async_mode(tmp_path: Path) -> None:
    (tmp_path / "bye.py").write_text(SHUTDOWN)
    with EmulatorProcess(emulator_args(tmp_path, "bye.handler"), cwd=tmp_path) as emulator:
        assert (
            httpx.post(
                f"{emulator.url}/2015-03-31/functions/meet/invocations", content=b"{}", timeout=30
            ).json()
            == "hello"
        )
        emulator.stop(signal.SIGTERM)
        assert wait_until(lambda: "goodbye from bye" in emulator.function_lines("meet"))


def test_the_mode_is_named_in_a_bad_setting(tmp_path: Path) -> None:
    (tmp_path / "meet.py").write_text(MEETING)
    args = emulator_args(tmp_path, "meet.handler")
    args[args.index("RIC_CONCURRENCY_MODE=async")] = "RIC_CONCURRENCY_MODE=threads"
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        answer = invoke(emulator.url, 0)
        emulator.wait_for_line(containing("RIC_CONCURRENCY_MODE: expected"))
        lines = emulator.function_lines("meet")
    assert answer.json()["errorType"] == "Runtime.ExitError"
    assert any(
        "RIC_CONCURRENCY_MODE: expected process or async, got 'threads'" in line for line in lines
    )
