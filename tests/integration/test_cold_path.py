"""What a plain sync handler's runtime imports before its first ``GET /next``.

Each module costs every cold start its import; these are the heavy ones the
path avoids (README, "Cold start"), asyncio and uvloop among them: only an
awaitable or async iterator result brings in the event loop (ric.aio). The runtime runs with ``-X importtime``
and its first ``GET /next`` parks: the modules listed on its standard error
by then are those imported before it. Coverage's variables are left out of
its environment: coverage.py would import many of them itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import TaskRoot
from tests.integration.runtime_api import RuntimeProcess, ScriptedRuntimeApi, lambda_env

# Heavy modules, and ric's own that only a feature or a failure needs.
AVOIDED = {
    "asyncio",
    "ast",
    "base64",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "inspect",
    "json",
    "logging",
    "orjson",
    "pathlib",
    "re",
    "selectors",
    "signal",
    "socket",
    "ssl",
    "string",
    "struct",
    "subprocess",
    "threading",
    "tokenize",
    "traceback",
    "typing",
    "uuid",
    "uvloop",
    "weakref",
    "ric.aio",
    "ric.applog",
    "ric.extensions",
    "ric.pool",
    "ric.records",
    "ric.report",
    "ric.shutdown",
    "ric.snapstart",
    "ric.stream",
    "ric.stream_client",
    "ric.workers",
}

PLAIN = """
def handler(event, context):
    return event
"""


def imported_before_first_next(api: ScriptedRuntimeApi, root: Path, **env: str) -> set[str]:
    api.park()
    environment = {
        k: v
        for k, v in lambda_env(api.address, root, **env).items()
        if not k.startswith("COVERAGE")
    }
    command = [sys.executable, "-X", "importtime", "-m", "ric", "plain.handler"]
    runtime = RuntimeProcess(command, environment, root)
    reached = api.parked.wait(30)
    runtime.stop()
    assert reached, runtime.stderr.decode()
    modules = set()
    for line in runtime.stderr.decode().splitlines():
        fields = line.split("|")
        if line.startswith("import time:") and len(fields) == 3 and fields[1].strip().isdigit():
            modules.add(fields[2].strip())
    return modules


@pytest.mark.parametrize(
    "env",
    [{}, {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "DEBUG"}],
    ids=["default", "json-debug"],
)
def test_the_plain_path_stays_light(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path, env: dict[str, str]
) -> None:
    task_root.write("plain.py", PLAIN)
    modules = imported_before_first_next(runtime_api, tmp_path, **env)
    # The list is real (the handler itself is missing from it: importlib.import_module
    # does not go through the import statement's timing).
    assert {"ric.runtime", "ric.client", "ric.outcome", "_socket", "_json"} <= modules
    assert modules & AVOIDED == set()


ASYNC = """
async def handler(event, context):
    return event
"""


def test_an_async_handler_has_its_loop_made_during_init(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path
) -> None:
    # Found at init, not at the first call: the loop's cost is in Init Duration.
    task_root.write("plain.py", ASYNC)
    modules = imported_before_first_next(runtime_api, tmp_path, RIC_EVENT_LOOP="asyncio")
    assert {"ric.aio", "asyncio"} <= modules
    assert "uvloop" not in modules
