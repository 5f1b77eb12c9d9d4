"""``ric.on_init``: hooks run once during init, before the first ``GET /next``."""

from __future__ import annotations

import json

from tests.conftest import TaskRoot
from tests.integration.runtime_api import (
    RuntimeProcess,
    ScriptedRuntimeApi,
    lambda_env,
    ric_command,
)
from tests.integration.test_runtime import serve

HOOKS = """
import asyncio

import ric

# What the hooks did, in order: the handler answers with it.
DONE = []


@ric.on_init
def first():
    DONE.append("sync")


async def opened():
    await asyncio.sleep(0)
    DONE.append(("async", asyncio.get_running_loop()))


ric.on_init(opened)


async def handler(event, context):
    (kind, loop) = DONE[1]
    return [DONE[0], kind, loop is asyncio.get_running_loop()]


def sync_handler(event, context):
    return [DONE[0], DONE[1][0]]
"""


def test_sync_and_async_hooks_run_once_in_order_on_the_handlers_loop(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot
) -> None:
    task_root.write("hooks.py", HOOKS)
    for request_id in ("r1", "r2"):
        runtime_api.event(request_id)
        runtime_api.post(f"invocation/{request_id}/response")
    runtime_api.park()
    serve(runtime_api, task_root.path, "hooks.handler").stop()
    # Once: the second invocation sees the same two entries.
    assert [json.loads(p.body) for p in runtime_api.posts()] == [["sync", "async", True]] * 2


def test_hooks_run_before_the_first_next(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot
) -> None:
    task_root.write("hooks.py", HOOKS)
    runtime_api.event("r1")
    runtime_api.post("invocation/r1/response")
    runtime_api.park()
    serve(runtime_api, task_root.path, "hooks.sync_handler").stop()
    assert [p.body for p in runtime_api.posts()] == [b'["sync","async"]']


FAILING = """
import ric


@ric.on_init
async def connect():
    raise ConnectionError("no database")


def handler(event, context):
    return "never"
"""


def test_a_failing_hook_is_an_init_error(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot
) -> None:
    path = task_root.write("failing.py", FAILING)
    runtime_api.post("init/error")
    runtime = RuntimeProcess(
        ric_command("failing.handler"),
        lambda_env(runtime_api.address, task_root.path),
        task_root.path,
    )
    assert runtime.wait() == 1
    (post,) = runtime_api.posts()
    assert post.path.endswith("/runtime/init/error")
    assert post.headers["lambda-runtime-function-error-type"] == "ConnectionError"
    body = json.loads(post.body)
    assert (body["errorType"], body["errorMessage"], body["requestId"]) == (
        "ConnectionError",
        "no database",
        "",
    )
    # The hook's frame only: none of the runtime's nor the event loop's.
    assert body["stackTrace"] == [
        f'  File "{path}", line 7, in connect\n    raise ConnectionError("no database")\n'
    ]
    assert runtime.stdout.startswith(b"[ERROR] ConnectionError: no database\r")
    assert runtime.stderr == b""


SNAPPED = """
import os

import ric
from ric import snapstart


def note(line):
    with open(os.environ["HOOK_LOG"], "a") as log:
        log.write(line + "\\n")


snapstart.register_before_snapshot(note, "before-snapshot")


@ric.on_init
async def opened():
    note("on-init")


def handler(event, context):
    return "served"
"""


def test_hooks_run_before_the_snapshot(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot
) -> None:
    task_root.write("snapped.py", SNAPPED)
    log = task_root.path / "hooks.log"
    at_restore_next: list[str] = []
    runtime_api.restore_next(on_request=lambda: at_restore_next.extend(log.read_text().split()))
    runtime_api.event("r1")
    runtime_api.post("invocation/r1/response")
    runtime_api.park()
    env = lambda_env(
        runtime_api.address,
        task_root.path,
        HOOK_LOG=str(log),
        AWS_LAMBDA_INITIALIZATION_TYPE="snap-start",
    )
    runtime = RuntimeProcess(ric_command("snapped.handler"), env, task_root.path)
    assert runtime_api.parked.wait(30)
    runtime.stop()
    # The snapshot is taken once restore/next is sent: both hooks ran by then, ours first.
    assert at_restore_next == ["on-init", "before-snapshot"]
    assert runtime_api.posts()[0].body == b'"served"'
