"""A container image's entrypoint run locally: no Runtime API around, so the emulator serves.

As AWS's base images run their bootstrap under the Runtime Interface Emulator
when ``AWS_LAMBDA_RUNTIME_API`` is not set: ``docker run -p 9000:8080 IMAGE``
then answers the Invoke API on the container's port 8080.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "command",
    [
        [str(REPO / "bootstrap"), "app.handler"],
        [sys.executable, "-m", "ric", "--local", "app.handler"],
    ],
    ids=["bootstrap", "python -m ric --local"],
)
def test_the_invoke_api_is_served_where_no_runtime_api_is(
    tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return {'local': event}\n")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_RUNTIME_API"}
    env.update(
        RIC_EMULATOR_PORT=str(port),
        LAMBDA_TASK_ROOT=str(tmp_path),
        RIC_PYTHON=sys.executable,
        XDG_STATE_HOME=str(tmp_path / ".state"),  # a dot-directory: not code
    )
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner == f"emulator: listening on http://0.0.0.0:{port} (functions: function)\n"
        answer = httpx.post(
            f"http://127.0.0.1:{port}/2015-03-31/functions/function/invocations",
            content=b'{"a": 1}',
            timeout=30,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert answer.json() == {"local": {"a": 1}}
    assert process.returncode == 0


def test_without_a_handler_local_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_LAMBDA_RUNTIME_API", "_HANDLER")}
    done = subprocess.run(
        [sys.executable, "-m", "ric", "--local"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (
        2,
        "ric: error: no handler: pass MODULE.FUNCTION or set _HANDLER\n",
    )
