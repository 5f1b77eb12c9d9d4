"""The command line: the invoke client, the RIE and zero-config forms, help, bad
command lines, and shutdown on SIGTERM / SIGINT. Each form runs its own emulator.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.emulator.conftest import HERE
from tests.emulator.harness import (
    EmulatorProcess,
    HeldInvoke,
    invoke_path,
    process_gone,
    wait_until,
)

EMULATOR = [sys.executable, "-m", "emulator"]
RIE_APP = """\
import os


def handler(event, context):
    if event.get("fail"):
        raise ValueError("rie boom")
    return {"event": event, "task_root": os.environ["LAMBDA_TASK_ROOT"], "cwd": os.getcwd()}
"""


def run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EMULATOR, *args], check=False, capture_output=True, text=True, cwd=cwd, timeout=60
    )


@pytest.mark.parametrize(
    ("name", "options", "status", "printed", "on_stderr"),
    [
        ("echo", ["--payload", '{"a": 1}'], 0, {"event": {"a": 1}}, None),
        ("echo", ["--tail"], 0, {"event": {}}, "echo says {}"),
        ("boom", [], 1, {"errorType": "ValueError", "errorMessage": "boom"}, None),
        ("echo", ["--dry-run"], 0, None, None),
        ("nosuchfunction", [], 2, {"Type": "User"}, "404 ResourceNotFoundException"),
        ("echo", ["--qualifier", "$LATEST"], 0, {"event": {}}, None),
        ("echo", ["--qualifier", "7"], 2, {"Type": "User"}, "404 ResourceNotFoundException"),
    ],
    ids=["result", "tail", "function-error", "dry-run", "unknown", "latest", "no-version-7"],
)
def test_the_invoke_client(
    emulator: EmulatorProcess,
    name: str,
    options: list[str],
    status: int,
    printed: dict[str, object] | None,
    on_stderr: str | None,
) -> None:
    done = run(["invoke", name, *options, "--url", emulator.url])
    assert done.returncode == status, done.stderr
    if printed is None:
        assert done.stdout == ""
    else:
        body = json.loads(done.stdout)
        assert {key: body.get(key) for key in printed} == printed
    if on_stderr is not None:
        assert on_stderr in done.stderr


def test_the_invoke_client_reads_a_payload_file(emulator: EmulatorProcess, tmp_path: Path) -> None:
    (tmp_path / "event.json").write_text('{"from": "file"}')
    done = run(
        ["invoke", "echo", "--payload", f"@{tmp_path / 'event.json'}", "--url", emulator.url]
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["event"] == {"from": "file"}


def test_the_invoke_client_sends_an_event(emulator: EmulatorProcess, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    payload = json.dumps({"runs": str(runs)})
    done = run(["invoke", "record", "--event", "--payload", payload, "--url", emulator.url])
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert wait_until(lambda: runs.exists() and any(runs.iterdir())), "the event never ran"


@pytest.mark.parametrize("runtime", ["ric", "awslambdaric"])
def test_the_rie_form_serves_a_runtime_command(tmp_path: Path, runtime: str) -> None:
    pytest.importorskip(runtime)
    (tmp_path / "app.py").write_text(RIE_APP)
    command = [sys.executable, "-m", runtime, "app.handler"]
    args = ["--port", "0", "--function-name", "rie", "--", *command]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        assert emulator.functions == ["rie"]
        url = emulator.url + invoke_path("rie")
        ok = httpx.post(url, json={"n": 1}, timeout=30)
        assert ok.status_code == 200, ok.text
        assert "x-amz-function-error" not in ok.headers
        body = ok.json()
        assert body["event"] == {"n": 1}
        # The code directory defaults to the current one.
        assert Path(body["task_root"]).resolve() == tmp_path.resolve()
        assert Path(body["cwd"]).resolve() == tmp_path.resolve()
        error = httpx.post(url, json={"fail": True}, timeout=30)
        assert error.status_code == 200
        assert error.headers["x-amz-function-error"] == "Unhandled"
        body = error.json()
        assert (body["errorType"], body["errorMessage"]) == ("ValueError", "rie boom")
        assert isinstance(body["stackTrace"], list)
        assert emulator.stop() == 0


def test_the_zero_config_form_honours_ries_variables(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    shutil.copy(HERE / "handlers.py", code)
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_LAMBDA_FUNCTION_NAME": "zero",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "1",
    }
    args = ["--port", "0", "handlers.misbehave", "--code-dir", str(code)]
    with EmulatorProcess(args, cwd=tmp_path, env=env) as emulator:
        assert emulator.functions == ["zero"]
        url = emulator.url + invoke_path("zero")
        ok = httpx.post(url, json={}, headers={"X-Amz-Log-Type": "Tail"}, timeout=30)
        assert ok.status_code == 200
        assert (
            "\tMemory Size: 512 MB\t" in base64.b64decode(ok.headers["x-amz-log-result"]).decode()
        )
        event = {"action": "hang", "pids": str(tmp_path / "pids")}
        timed_out = httpx.post(url, json=event, timeout=30).json()
        assert timed_out["errorType"] == "Sandbox.Timedout"
        assert "Task timed out after 1.00 seconds" in timed_out["errorMessage"]
        assert emulator.stop() == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_emulator_and_every_runtime(tmp_path: Path, signum: int) -> None:
    code = tmp_path / "code"
    code.mkdir()
    shutil.copy(HERE / "handlers.py", code)
    args = ["--port", "0", "--timeout", "30", "handlers.hold", "--code-dir", str(code)]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        held = HeldInvoke(emulator.url, "function", tmp_path)
        with held:
            # An invocation in flight: shutdown must not wait for it to end.
            assert emulator.stop(signum) == 0
            assert wait_until(lambda: process_gone(held.pid)), "the runtime outlived the emulator"
            with contextlib.suppress(httpx.TransportError):
                held.release()  # an answer or a closed connection; never a hang
    assert "emulator: shutting down" in emulator.lines


@pytest.mark.parametrize("args", [["--help"], ["invoke", "--help"]], ids=["serve", "invoke"])
def test_help(args: list[str]) -> None:
    done = run(args)
    assert done.returncode == 0
    assert done.stderr == ""
    options = ["--port", "--timeout", "--concurrency", "--config"]
    if args[0] == "invoke":
        options = ["--payload", "--event", "--dry-run", "--tail", "--url"]
    assert [option for option in options if option not in done.stdout] == []


def refused(args: list[str], cwd: Path) -> str:
    """Runs the emulator on a bad command line: it must exit 2; its stderr.

    If it starts serving instead, it is stopped and the test fails.
    """
    process = subprocess.Popen(
        [*EMULATOR, "--port", "0", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = process.stdout.readline() if process.stdout else ""  # a line, or "" at exit
    if first:
        process.terminate()
        process.communicate(timeout=15)
        pytest.fail(f"the emulator accepted {args}: {first!r}")
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 2, stderr
    assert stdout == ""
    return stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["handlers.echo", "--", sys.executable, "-m", "ric", "x"], "give exactly one of"),
        ([], "give exactly one of"),
        (["handlers.echo", "--config", "functions.toml"], "give exactly one of"),
        (["--env", "NOEQUALS", "handlers.echo"], "--env expects K=V"),
        (["--memory", "64", "handlers.echo"], "memory must be 128 to 10240 MB"),
        (["--timeout", "901", "handlers.echo"], "timeout must be"),
        (["--concurrency", "-1", "handlers.echo"], "concurrency must be at least 1"),
        (["--config", "no-such-file.toml"], "no-such-file.toml"),
        (["--config", "functions.toml"], "unknown keys ['colour']"),
        (["--concurrency", "0", "handlers.echo"], "concurrency"),
        (["--timeout", "0", "handlers.echo"], "timeout"),
        (["--memory", "0", "handlers.echo"], "memory"),
    ],
    ids=[
        "handler-and-command",
        "nothing",
        "handler-and-config",
        "env",
        "memory",
        "timeout",
        "concurrency",
        "missing-config",
        "unknown-key",
        "concurrency-0",
        "timeout-0",
        "memory-0",
    ],
)
def test_a_bad_command_line_exits_2_with_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "functions.toml").write_text('[functions.f]\nhandler = "h.f"\ncolour = "red"\n')
    stderr = refused(args, tmp_path)
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("emulator: error: ")
    assert message in stderr


def test_an_option_argparse_rejects_exits_2(tmp_path: Path) -> None:
    # argparse's own wording: a usage line, then "python -m emulator: error: ...".
    stderr = refused(["--port", "not-a-number", "handlers.echo"], tmp_path)
    assert stderr.splitlines()[-1].endswith(
        "emulator: error: argument --port: invalid int value: 'not-a-number'"
    )
