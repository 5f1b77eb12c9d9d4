"""Start-up: init errors reported to /runtime/init/error, the command line, bootstrap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TaskRoot
from tests.integration.runtime_api import (
    REPO,
    RuntimeProcess,
    ScriptedRuntimeApi,
    lambda_env,
    ric_command,
)

INIT_ERRORS = [
    # (handler, module source or None, errorType, errorMessage)
    (
        "nodot",
        None,
        "Runtime.MalformedHandlerName",
        "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)",
    ),
    (
        "missing.handler",
        None,
        "Runtime.ImportModuleError",
        "Unable to import module 'missing': No module named 'missing'",
    ),
    (
        "app.handler",
        "import nonexistent_pkg\n",
        "Runtime.ImportModuleError",
        "Unable to import module 'app': No module named 'nonexistent_pkg'",
    ),
    (
        "app.handler",
        "def handler(event, context):\n    return 1 +\n",
        "Runtime.UserCodeSyntaxError",
        "Syntax error in module 'app': invalid syntax (app.py, line 2)",
    ),
    (
        "app.nothere",
        "def handler(event, context):\n    return 1\n",
        "Runtime.HandlerNotFound",
        "Handler 'nothere' missing on module 'app'",
    ),
    (
        "sys.handler",
        None,
        "Runtime.BuiltInModuleConflict",
        "Cannot use built-in module sys as a handler module",
    ),
    ("app.handler", "raise ValueError('boom')\n", "ValueError", "boom"),
]


@pytest.mark.parametrize(("handler", "source", "error_type", "message"), INIT_ERRORS)
def test_init_error_is_posted_and_exits_1(
    runtime_api: ScriptedRuntimeApi,
    task_root: TaskRoot,
    tmp_path: Path,
    handler: str,
    source: str | None,
    error_type: str,
    message: str,
) -> None:
    if source is not None:
        task_root.write("app.py", source)
    runtime_api.post("init/error")
    runtime = RuntimeProcess(
        ric_command(handler), lambda_env(runtime_api.address, tmp_path), tmp_path
    )
    assert runtime.wait() == 1
    (post,) = runtime_api.posts()
    assert post.headers["lambda-runtime-function-error-type"] == error_type
    body = json.loads(post.body)
    assert list(body) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert (body["errorMessage"], body["errorType"], body["requestId"]) == (message, error_type, "")
    assert runtime.stdout.startswith(f"[ERROR] {error_type}: {message}\r".encode())
    assert runtime.stderr == b""


def test_exception_at_import_reports_the_users_frames(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path
) -> None:
    task_root.write("app.py", "def f():\n    raise ValueError('boom')\n\nf()\n")
    runtime_api.post("init/error")
    runtime = RuntimeProcess(
        ric_command("app.handler"), lambda_env(runtime_api.address, tmp_path), tmp_path
    )
    assert runtime.wait() == 1
    stack = json.loads(runtime_api.posts()[0].body)["stackTrace"]
    assert stack[-2:] == [
        f'  File "{tmp_path}/app.py", line 4, in <module>\n    f()\n',
        f"  File \"{tmp_path}/app.py\", line 2, in f\n    raise ValueError('boom')\n",
    ]
    assert not any("/ric/" in entry for entry in stack)


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, check=False, env=env, cwd=cwd, capture_output=True, text=True, timeout=30
    )


def test_help_and_version(tmp_path: Path) -> None:
    env = lambda_env("127.0.0.1:9", tmp_path)
    helped = run([sys.executable, "-m", "ric", "--help"], env, tmp_path)
    assert helped.returncode == 0
    assert "AWS_LAMBDA_RUNTIME_API" in helped.stdout
    versioned = run([sys.executable, "-m", "ric", "--version"], env, tmp_path)
    assert (versioned.returncode, versioned.stdout) == (0, "ric 0.1.0\n")


def test_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "ric"
    done = run([str(script), "--version"], lambda_env("127.0.0.1:9", tmp_path), tmp_path)
    assert (done.returncode, done.stdout) == (0, "ric 0.1.0\n")


@pytest.mark.parametrize(
    ("args", "drop", "message"),
    [
        (["app.handler"], "AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_RUNTIME_API is not set"),
        ([], None, "no handler"),
        (["a.b", "c.d"], None, "unexpected arguments"),
    ],
)
def test_bad_start_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], drop: str | None, message: str
) -> None:
    env = lambda_env("127.0.0.1:9", tmp_path)
    if drop:
        del env[drop]
    done = run([sys.executable, "-m", "ric", *args], env, tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"ric: error: {message}")
    assert done.stderr.count("\n") == 1


def test_handler_falls_back_to_underscore_handler(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path
) -> None:
    task_root.write("app.py", "def handler(event, context):\n    return 'hi'\n")
    runtime_api.event("req-1")
    runtime_api.post("invocation/req-1/response")
    runtime_api.park()
    env = lambda_env(runtime_api.address, tmp_path, _HANDLER="app.handler")
    runtime = RuntimeProcess([sys.executable, "-m", "ric"], env, tmp_path)
    assert runtime_api.parked.wait(30)
    runtime.stop()
    assert runtime_api.posts()[0].body == b'"hi"'


def test_bootstrap_execs_ric_with_the_handler(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path
) -> None:
    task_root.write("app.py", "def handler(event, context):\n    return 'via bootstrap'\n")
    runtime_api.event("req-1")
    runtime_api.post("invocation/req-1/response")
    runtime_api.park()
    env = lambda_env(
        runtime_api.address, tmp_path, _HANDLER="app.handler", RIC_PYTHON=sys.executable
    )
    runtime = RuntimeProcess([str(REPO / "bootstrap")], env, tmp_path)
    assert runtime_api.parked.wait(30)
    # exec: the process we started is Python itself, not a shell around it.
    assert Path(f"/proc/{runtime.process.pid}/exe").resolve().name.startswith("python")
    runtime.stop()
    assert runtime_api.posts()[0].body == b'"via bootstrap"'


def test_bootstrap_without_handler_fails_clearly(tmp_path: Path) -> None:
    env = lambda_env("127.0.0.1:9", tmp_path)
    done = run([str(REPO / "bootstrap")], env, tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "bootstrap: error: no handler: pass MODULE.FUNCTION as the first argument or set _HANDLER\n"
    )


def test_unreachable_runtime_api_is_retried_then_exits_1(tmp_path: Path) -> None:
    # Port 9 (discard) on loopback: nothing listens, every connect is refused.
    env = lambda_env("127.0.0.1:9", tmp_path)
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 1\n")
    done = run([sys.executable, "-m", "ric", "app.handler"], env, tmp_path)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert (
        sum("invocation/next failed (cannot connect to 127.0.0.1:9" in line for line in lines) == 7
    )
    assert "LAMBDA_RUNTIME invocation/next failed 8 times, giving up" in lines[-1]


def test_an_init_exception_whose_str_raises_is_reported(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path
) -> None:
    task_root.write(
        "app.py",
        "class Unprintable(Exception):\n"
        "    def __str__(self):\n"
        "        raise RuntimeError('no str')\n\n"
        "raise Unprintable()\n",
    )
    runtime_api.post("init/error")
    runtime = RuntimeProcess(
        ric_command("app.handler"), lambda_env(runtime_api.address, tmp_path), tmp_path
    )
    assert runtime.wait() == 1
    (post,) = runtime_api.posts()
    body = json.loads(post.body)
    assert (body["errorType"], body["errorMessage"]) == ("Unprintable", "<exception str() failed>")
    assert runtime.stderr == b""
