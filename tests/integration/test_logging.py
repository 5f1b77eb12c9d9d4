"""Log records of a real `python -m ric`: text, JSON, telemetry frames, levels."""

from __future__ import annotations

import json
import os
import re
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TaskRoot
from tests.integration.runtime_api import (
    RuntimeProcess,
    ScriptedRuntimeApi,
    lambda_env,
    ric_command,
)

APP = """
import logging, os, sys

logging.getLogger().warning("init warning")
logger = logging.getLogger("app")

def handler(event, context):
    logger.debug("debug %s", context.aws_request_id)
    logger.info("info %s", context.aws_request_id)
    logger.warning({"as": "object"})
    try:
        1 / 0
    except ZeroDivisionError:
        logger.exception("multi\\nline")
    context.log("via context\\n")
    print("printed")
    return {"fd": os.environ.get("_LAMBDA_TELEMETRY_LOG_FD")}

def fail(event, context):
    raise ValueError("bad")
"""
QUIET = """
import sys

def handler(event, context):
    return "logging" in sys.modules
"""
# The runtime's own lines (a retried /next: the test server closes idle connections).
RUNTIME = b"LAMBDA_RUNTIME"
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture
def app(task_root: TaskRoot) -> Path:
    task_root.write("quiet.py", QUIET)
    return task_root.write("app.py", APP).parent


class Frames:
    """The read end of a telemetry pipe, drained by a thread, decoded independently."""

    def __init__(self) -> None:
        self.read, self.write = os.pipe()
        self.data = bytearray()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while chunk := os.read(self.read, 65536):
            self.data.extend(chunk)

    def close(self) -> list[tuple[int, bytes]]:
        os.close(self.write)
        self._thread.join(10)
        os.close(self.read)
        frames, data = [], bytes(self.data)
        while data:
            kind, length, _ = struct.unpack(">IIQ", data[:16])
            frames.append((kind, data[16 : 16 + length]))
            data = data[16 + length :]
        return [(kind, payload) for kind, payload in frames if RUNTIME not in payload]


def serve(
    api: ScriptedRuntimeApi, root: Path, handler: str, frames: Frames | None = None, **env: str
) -> RuntimeProcess:
    if frames is not None:
        env["_LAMBDA_TELEMETRY_LOG_FD"] = str(frames.write)
    runtime = RuntimeProcess(
        ric_command(handler),
        lambda_env(api.address, root, **env),
        root,
        pass_fds=() if frames is None else (frames.write,),
    )
    if not api.parked.wait(30):
        runtime.stop()
        pytest.fail(f"runtime never reached the parked /next: {runtime.stderr!r}")
    runtime.stop()
    return runtime


def output(runtime: RuntimeProcess) -> str:
    """Standard output without the runtime's own lines."""
    lines = runtime.stdout.split(b"\n")
    return b"\n".join(line for line in lines if RUNTIME not in line).decode()


@pytest.fixture
def frames() -> Iterator[Frames]:
    pipe = Frames()
    yield pipe
    if pipe._thread.is_alive():
        pipe.close()


def script(api: ScriptedRuntimeApi, *request_ids: str) -> None:
    for request_id in request_ids:
        api.event(request_id)
        api.post(f"invocation/{request_id}/response")
    api.park()


def test_text_records_on_stdout(runtime_api: ScriptedRuntimeApi, app: Path) -> None:
    script(runtime_api, "rid-1")
    runtime = serve(runtime_api, app, "app.handler")
    lines = output(runtime).split("\n")
    assert re.fullmatch(rf"\[WARNING\]\t{TIMESTAMP}\t\tinit warning", lines[0])
    assert re.fullmatch(rf"\[INFO\]\t{TIMESTAMP}\trid-1\tinfo rid-1", lines[1])
    assert re.fullmatch(rf"\[WARNING\]\t{TIMESTAMP}\trid-1\t\{{'as': 'object'\}}", lines[2])
    assert re.fullmatch(rf"\[ERROR\]\t{TIMESTAMP}\trid-1\tmulti", lines[3])
    assert lines[4:6] == ["line", "Traceback (most recent call last):"]
    error_end = lines.index("ZeroDivisionError: division by zero")
    # The traceback ends its record: what follows starts on a line of its own.
    assert lines[error_end + 1 : error_end + 3] == ["via context", "printed"]
    assert b"debug" not in runtime.stdout
    assert json.loads(runtime_api.posts()[0].body) == {"fd": None}


def test_debug_level_and_trace_alias(runtime_api: ScriptedRuntimeApi, app: Path) -> None:
    script(runtime_api, "rid-1")
    runtime = serve(runtime_api, app, "app.handler", AWS_LAMBDA_LOG_LEVEL="TRACE")
    assert re.search(rf"\[DEBUG\]\t{TIMESTAMP}\trid-1\tdebug rid-1\n", output(runtime))


def test_error_level_hides_warnings(runtime_api: ScriptedRuntimeApi, app: Path) -> None:
    script(runtime_api, "rid-1")
    runtime = serve(runtime_api, app, "app.handler", AWS_LAMBDA_LOG_LEVEL="ERROR")
    text = output(runtime)
    assert "[ERROR]\t" in text
    assert "WARNING" not in text
    assert "[INFO]" not in text


def test_json_records(runtime_api: ScriptedRuntimeApi, app: Path) -> None:
    script(runtime_api, "rid-1")
    runtime = serve(runtime_api, app, "app.handler", AWS_LAMBDA_LOG_FORMAT="JSON")
    lines = output(runtime).splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    init, info, warning, error = records
    assert (init["message"], init["requestId"], init["logger"]) == ("init warning", "", "root")
    assert (info["level"], info["message"], info["requestId"]) == ("INFO", "info rid-1", "rid-1")
    assert warning["message"] == {"as": "object"}
    assert (error["message"], error["errorType"]) == ("multi\nline", "ZeroDivisionError")
    assert error["location"].endswith("app.py:handler:14")
    assert all(re.fullmatch(TIMESTAMP, record["timestamp"]) for record in records)
    assert lines[-2:] == ["via context", "printed"]


def test_telemetry_frames(runtime_api: ScriptedRuntimeApi, app: Path, frames: Frames) -> None:
    script(runtime_api, "rid-1")
    runtime = serve(runtime_api, app, "app.handler", frames)
    received = frames.close()
    kinds = [kind for kind, _ in received]
    assert kinds == [0xA55A0013, 0xA55A000F, 0xA55A0013, 0xA55A0017, 0xA55A0003]
    error = received[3][1].decode()
    assert error.startswith("[ERROR]\t")
    assert error.endswith("ZeroDivisionError: division by zero\n")
    assert received[4][1] == b"via context\n"
    # print() stays on stdout, and the descriptor is not left in the environment.
    assert output(runtime) == "printed\n"
    assert json.loads(runtime_api.posts()[0].body) == {"fd": None}


def test_uncaught_error_in_frames(
    runtime_api: ScriptedRuntimeApi, app: Path, frames: Frames
) -> None:
    runtime_api.event("rid-1")
    runtime_api.post("invocation/rid-1/error")
    runtime_api.park()
    serve(runtime_api, app, "app.fail", frames, AWS_LAMBDA_LOG_FORMAT="JSON")
    received = frames.close()
    assert received[0][0] == 0xA55A0012  # the init warning, JSON
    kind, payload = received[-1]
    assert kind == 0xA55A0016
    record = json.loads(payload)
    assert (record["errorType"], record["errorMessage"], record["requestId"]) == (
        "ValueError",
        "bad",
        "rid-1",
    )


def test_bad_telemetry_descriptor_is_a_clear_start_error(
    runtime_api: ScriptedRuntimeApi, app: Path
) -> None:
    env = lambda_env(runtime_api.address, app, _LAMBDA_TELEMETRY_LOG_FD="97")
    runtime = RuntimeProcess(ric_command("app.handler"), env, app)
    assert runtime.wait() == 2
    assert (
        runtime.stderr
        == b"ric: error: _LAMBDA_TELEMETRY_LOG_FD: descriptor 97: Bad file descriptor\n"
    )


def test_logging_stays_unimported_when_unused(runtime_api: ScriptedRuntimeApi, app: Path) -> None:
    script(runtime_api, "rid-1")
    serve(runtime_api, app, "quiet.handler")
    assert runtime_api.posts()[0].body == b"false"
