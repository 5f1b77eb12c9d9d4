"""SnapStart with a real `python -m ric`: hooks around restore/next, and their failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TaskRoot
from tests.integration.runtime_api import (
    RuntimeProcess,
    ScriptedRuntimeApi,
    lambda_env,
    ric_command,
)

SNAP_START = {"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}

# Hooks through both registries, interleaved; each appends its name to HOOK_LOG.
HOOKED_APP = """\
import os

import snapshot_restore_py as srp
from ric import snapstart


def note(line):
    with open(os.environ["HOOK_LOG"], "a") as log:
        log.write(line + "\\n")


srp.register_before_snapshot(note, "srp-before-1")


@srp.register_before_snapshot
def srp_before_2():
    note("srp-before-2")


snapstart.register_before_snapshot(note, "ric-before-1")
snapstart.register_after_restore(note, "ric-after-1")
srp.register_after_restore(note, line="srp-after-1")
snapstart.register_before_snapshot(note, "ric-before-2")


@srp.register_after_restore
def srp_after_2():
    note("srp-after-2")


def handler(event, context):
    note("handler")
    return "served"
"""

BEFORE = ["ric-before-2", "ric-before-1", "srp-before-2", "srp-before-1"]
AFTER = ["srp-after-1", "srp-after-2", "ric-after-1"]


def start(api: ScriptedRuntimeApi, tmp_path: Path, **env: str) -> RuntimeProcess:
    environ = lambda_env(api.address, tmp_path, HOOK_LOG=str(tmp_path / "hooks.log"), **env)
    return RuntimeProcess(ric_command("app.handler"), environ, tmp_path)


def hook_lines(tmp_path: Path) -> list[str]:
    log = tmp_path / "hooks.log"
    return log.read_text().splitlines() if log.exists() else []


def test_hooks_run_around_restore_next_then_invocations_are_served(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path
) -> None:
    task_root.write("app.py", HOOKED_APP)
    at_restore_next: list[list[str]] = []
    runtime_api.restore_next(on_request=lambda: at_restore_next.append(hook_lines(tmp_path)))
    runtime_api.event("req-1")
    runtime_api.post("invocation/req-1/response")
    runtime_api.park()
    runtime = start(runtime_api, tmp_path, **SNAP_START)
    assert runtime_api.parked.wait(30)
    runtime.stop()
    assert at_restore_next == [BEFORE]
    assert hook_lines(tmp_path) == [*BEFORE, *AFTER, "handler"]
    assert runtime_api.paths() == [
        "GET restore/next",
        "GET invocation/next",
        "POST invocation/req-1/response",
    ]
    assert runtime_api.posts()[0].body == b'"served"'
    assert runtime.stderr == b""


def test_on_demand_never_runs_hooks_nor_sends_restore_next(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path
) -> None:
    task_root.write("app.py", HOOKED_APP)
    runtime_api.event("req-1")
    runtime_api.post("invocation/req-1/response")
    runtime_api.park()
    runtime = start(runtime_api, tmp_path)
    assert runtime_api.parked.wait(30)
    runtime.stop()
    assert hook_lines(tmp_path) == ["handler"]
    assert runtime_api.paths() == [
        "GET invocation/next",
        "POST invocation/req-1/response",
    ]


FAILING_APP = """\
from snapshot_restore_py import register_after_restore, register_before_snapshot
from ric.snapstart import {register}


def fine():
    pass


def bad():
    raise ValueError("hook failed")


{register}(fine)
{register}(bad)


def handler(event, context):
    return "never"
"""


@pytest.mark.parametrize(
    ("register", "script", "endpoint", "error_type", "status"),
    [
        ("register_before_snapshot", [], "init/error", "Runtime.BeforeSnapshotError", 64),
        (
            "register_after_restore",
            ["GET restore/next"],
            "restore/error",
            "Runtime.AfterRestoreError",
            65,
        ),
    ],
    ids=["before-snapshot", "after-restore"],
)
def test_failing_hook_is_reported_and_exits(
    runtime_api: ScriptedRuntimeApi,
    task_root: TaskRoot,
    tmp_path: Path,
    register: str,
    script: list[str],
    endpoint: str,
    error_type: str,
    status: int,
) -> None:
    task_root.write("app.py", FAILING_APP.format(register=register))
    if script:
        runtime_api.restore_next()
    runtime_api.post(endpoint)
    runtime = start(runtime_api, tmp_path, **SNAP_START)
    assert runtime.wait() == status
    assert runtime_api.paths() == [*script, f"POST {endpoint}"]
    (post,) = runtime_api.posts()
    assert post.headers["lambda-runtime-function-error-type"] == error_type
    frame = f'  File "{tmp_path}/app.py", line 10, in bad\n    raise ValueError("hook failed")\n'
    assert json.loads(post.body) == {
        "errorMessage": "hook failed",
        "errorType": "ValueError",
        "requestId": "",
        "stackTrace": [frame],
    }
    assert (
        runtime.stdout
        == (
            "[ERROR] ValueError: hook failed\rTraceback (most recent call last):\r"
            f'\xa0\xa0File "{tmp_path}/app.py", line 10, in bad\r'
            '\xa0\xa0\xa0\xa0raise ValueError("hook failed")\n'
        ).encode()
    )
    assert runtime.stderr == b""


def test_restore_next_rejected_exits_1(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path
) -> None:
    task_root.write("app.py", HOOKED_APP)
    runtime_api.restore_next(status=404)
    runtime = start(runtime_api, tmp_path, **SNAP_START)
    assert runtime.wait() == 1
    assert runtime_api.paths() == ["GET restore/next"]
    assert hook_lines(tmp_path) == BEFORE
    assert runtime.stdout.startswith(b"[ERROR] [")
    assert runtime.stdout.endswith(b"] LAMBDA_RUNTIME restore/next answered HTTP 404: \n")
    assert runtime.stderr == b""


def test_restore_next_5xx_is_retried(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path
) -> None:
    task_root.write("app.py", HOOKED_APP)
    runtime_api.restore_next(status=503)
    runtime_api.restore_next()
    runtime_api.park()
    runtime = start(runtime_api, tmp_path, **SNAP_START)
    assert runtime_api.parked.wait(30)
    runtime.stop()
    assert runtime_api.paths() == ["GET restore/next", "GET restore/next"]
    assert hook_lines(tmp_path) == [*BEFORE, *AFTER]
    assert b"LAMBDA_RUNTIME restore/next failed (HTTP 503: ); retry in 0.05 s\n" in runtime.stdout
