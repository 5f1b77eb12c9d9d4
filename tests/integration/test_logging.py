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
    awslambdaric_command,
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
    # No AWS_LAMBDA_LOG_LEVEL: the root stays at WARNING, as awslambdaric leaves it.
    assert re.fullmatch(rf"\[WARNING\]\t{TIMESTAMP}\t\tinit warning", lines[0])
    assert re.fullmatch(rf"\[WARNING\]\t{TIMESTAMP}\trid-1\t\{{'as': 'object'\}}", lines[1])
    assert re.fullmatch(rf"\[ERROR\]\t{TIMESTAMP}\trid-1\tmulti", lines[2])
    assert lines[3:5] == ["line", "Traceback (most recent call last):"]
    error_end = lines.index("ZeroDivisionError: division by zero")
    # The traceback ends its record: what follows starts on a line of its own.
    assert lines[error_end + 1 : error_end + 3] == ["via context", "printed"]
    assert b"debug" not in runtime.stdout
    assert b"info rid-1" not in runtime.stdout
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
    # Text format, no level set: the plain text type, without level bits, as awslambdaric.
    assert kinds == [0xA55A0003] * 4
    error = received[2][1].decode()
    assert error.startswith("[ERROR]\t")
    assert error.endswith("ZeroDivisionError: division by zero\n")
    assert received[3][1] == b"via context\n"
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


LEVELS_APP = """
import logging

# Records of this logger reach the root's handler whatever the root's level:
# what their frames are called can be compared at every level.
app = logging.getLogger("app")
app.setLevel(1)

def handler(event, context):
    for level in (5, 10, 15, 20, 25, 30, 40, 50, 60):
        app.log(level, "level %d", level)
    logging.getLogger("library").info("a library's info")
    logging.getLogger("library").warning("a library's warning")
    context.log("via context\\n")
    return "ok"
"""
SETTINGS = {
    "text": {},
    "text-debug": {"AWS_LAMBDA_LOG_LEVEL": "DEBUG"},
    "text-error": {"AWS_LAMBDA_LOG_LEVEL": "ERROR"},
    "json": {"AWS_LAMBDA_LOG_FORMAT": "JSON"},
    "json-debug": {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "DEBUG"},
}


def frame_types(
    api: ScriptedRuntimeApi, root: Path, command: list[str], env: dict[str, str]
) -> dict[str, tuple[int, str | None]]:
    """The frame type of each record the runtime wrote, and a JSON record's level, by message."""
    frames = Frames()
    script(api, "rid-1")
    env = {**env, "_LAMBDA_TELEMETRY_LOG_FD": str(frames.write), **REFERENCE_ENV}
    runtime = RuntimeProcess(command, lambda_env(api.address, root, **env), root, (frames.write,))
    reached = api.parked.wait(30)
    runtime.stop()
    assert reached, runtime.stderr
    types = {}
    for kind, payload in frames.close():
        text = payload.decode()
        if text.startswith("{"):
            record = json.loads(text)
            types[record["message"]] = (kind, record["level"])
        else:
            types[text.split("\t")[-1].strip()] = (kind, None)
    api.release.set()
    api.server.clear()
    api.parked.clear()
    api.release.clear()
    return types


REFERENCE_ENV = {"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_frame_types_match_awslambdaric(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, setting: str
) -> None:
    pytest.importorskip("awslambdaric")
    task_root.write("levels.py", LEVELS_APP)
    env = SETTINGS[setting]
    ours = frame_types(runtime_api, task_root.path, ric_command("levels.handler"), env)
    theirs = frame_types(runtime_api, task_root.path, awslambdaric_command("levels.handler"), env)
    if setting == "json":
        # The one difference, on purpose: with JSON and no level, Lambda's
        # default application level is INFO; awslambdaric leaves WARNING.
        assert ours.pop("a library's info") == (0xA55A000E, "INFO")
    assert ours == theirs
    assert "level 15" in ours


def test_text_format_without_a_level_leaves_the_root_at_warning(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot
) -> None:
    task_root.write("levels.py", LEVELS_APP)
    script(runtime_api, "rid-1")
    runtime = serve(runtime_api, task_root.path, "levels.handler")
    text = output(runtime)
    assert "a library's warning" in text
    assert "a library's info" not in text
