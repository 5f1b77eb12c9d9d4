"""What users hit and the emulator now survives: a stalled output, huge outputs and
bodies, memory overruns, shutdown with callers waiting, strangers on the Runtime API.
Each test starts an emulator of its own.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.emulator.harness import EmulatorProcess, invoke_path, process_gone, wait_until

APP = """
import os, subprocess, sys, time

def loud(event, context):
    line = "x" * 1023 + "\\n"
    for _ in range(event["kib"]):
        sys.stdout.write(line)
    sys.stdout.flush()
    return "done"

def no_newlines(event, context):
    for _ in range(event["mib"]):
        sys.stdout.write("y" * (1024 * 1024))
    sys.stdout.flush()
    return "done"

def hog(event, context):
    hold = b"m" * (event["mb"] * 1024 * 1024)  # written, so resident
    time.sleep(60)
    return len(hold)

def where(event, context):
    return os.environ["AWS_LAMBDA_RUNTIME_API"]

def partial_then_hang(event, context):
    sys.stdout.write("written without a newline")
    sys.stdout.flush()
    time.sleep(60)

def daemon(event, context):
    child = subprocess.Popen(
        [sys.executable, "-c", "import os, time; os.setsid(); time.sleep(120)"]
    )
    with open(event["pid_file"], "w") as f:
        f.write(str(child.pid))
    with open(event["running"], "w") as f:
        f.write("1")
    time.sleep(60)
"""


@pytest.fixture
def code(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


def serve(code: Path, handler: str, *options: str) -> EmulatorProcess:
    args = ["--port", "0", "--code-dir", str(code), *options, f"app.{handler}"]
    return EmulatorProcess(args, cwd=code)


def invoke(url: str, payload: object, **headers: str) -> httpx.Response:
    return httpx.post(url + invoke_path("function"), json=payload, headers=headers, timeout=60)


def vm_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_an_output_nobody_reads_never_stalls_the_emulator(code: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "emulator", "--port", str(port), "--timeout", "5"]
    process = subprocess.Popen(
        [*command, "--code-dir", str(code), "app.loud"],
        cwd=code,
        stdout=subprocess.PIPE,  # never read: the pipe fills up
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: _listening(port), 30), "the emulator never listened"
        for _ in range(3):  # 2 MiB each, far beyond what a pipe holds
            assert invoke(url, {"kib": 2048}).json() == "done"
        dry = httpx.post(url + invoke_path("function"), headers={"X-Amz-Invocation-Type": "DryRun"})
        assert dry.status_code == 204
        assert process.stdout is not None
        process.stdout.close()  # and now nobody ever will: a closed output is survived
        assert invoke(url, {"kib": 64}).json() == "done"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_a_huge_output_leaves_the_emulators_memory_bounded(code: Path) -> None:
    with serve(code, "no_newlines", "--timeout", "60") as emulator:
        assert invoke(emulator.url, {"mib": 1}).json() == "done"  # warm, and the baseline
        before = vm_kib(emulator.process.pid, "VmRSS:")
        # 100 MiB without a newline: lines of 256 KiB, the tail capped at 4 KB.
        response = invoke(emulator.url, {"mib": 100}, **{"X-Amz-Log-Type": "Tail"})
        assert response.json() == "done"
        assert len(base64.b64decode(response.headers["x-amz-log-result"])) == 4096
        peak = vm_kib(emulator.process.pid, "VmHWM:")
    assert peak - before < 40 * 1024, (before, peak)


def test_a_body_over_the_limit_is_refused_unread(code: Path) -> None:
    with serve(code, "where") as emulator:
        before = vm_kib(emulator.process.pid, "VmRSS:")
        host, port = emulator.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(
                b"POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\n"
                b"Content-Length: 62914560\r\n\r\n" + b"0" * 1024 * 1024
            )
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert b"RequestEntityTooLargeException" in answer
        after = vm_kib(emulator.process.pid, "VmHWM:")
    assert after - before < 16 * 1024


def test_a_function_over_its_memory_size_is_killed_as_lambda_kills_it(code: Path) -> None:
    with serve(code, "hog", "--memory", "128", "--timeout", "60") as emulator:
        response = invoke(emulator.url, {"mb": 400}, **{"X-Amz-Log-Type": "Tail"})
        request_id = response.headers["x-amzn-requestid"]
        report = emulator.wait_for_report("function", request_id)
    assert response.status_code == 200
    assert response.headers["x-amz-function-error"] == "Unhandled"
    assert response.json() == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed",
    }
    assert report.endswith("\tStatus: error\tError Type: Runtime.OutOfMemory")
    used = int(report.split("Max Memory Used: ")[1].split(" MB")[0])
    assert used > 128


def test_a_partial_line_is_forwarded_when_the_runtime_is_killed_at_a_timeout(code: Path) -> None:
    with serve(code, "partial_then_hang", "--timeout", "1") as emulator:
        response = invoke(emulator.url, {}, **{"X-Amz-Log-Type": "Tail"})
    tail = base64.b64decode(response.headers["x-amz-log-result"]).decode()
    lines = tail.splitlines()
    assert json.loads(response.content)["errorType"] == "Sandbox.Timedout"
    written = lines.index("written without a newline")
    assert lines[written + 1].endswith("Task timed out after 1.00 seconds")


def test_at_sigterm_a_waiting_caller_gets_an_answer_and_no_process_outlives_it(
    code: Path, tmp_path: Path
) -> None:
    event = {"pid_file": str(tmp_path / "daemon.pid"), "running": str(tmp_path / "running")}
    answers: list[httpx.Response] = []
    with serve(code, "daemon", "--timeout", "60") as emulator:
        caller = threading.Thread(target=lambda: answers.append(invoke(emulator.url, event)))
        caller.start()
        assert wait_until((tmp_path / "running").exists, 30)
        daemon = int((tmp_path / "daemon.pid").read_text())
        assert emulator.stop(signal.SIGTERM) == 0
        caller.join(30)
    (answer,) = answers
    assert answer.status_code == 503
    assert answer.headers["x-amzn-errortype"] == "ServiceException"
    assert wait_until(lambda: process_gone(daemon)), "a setsid() child outlived the emulator"


def test_only_the_environments_own_processes_may_use_its_runtime_api(code: Path) -> None:
    with serve(code, "where") as emulator:
        address = invoke(emulator.url, {}).json()
        host, port = address.split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _answer(sock) == b""  # closed, nothing answered
        refused = emulator.wait_for_line(lambda line: "refused a Runtime API connection" in line)
        assert invoke(emulator.url, {}).json() == address  # the runtime itself goes on
    assert refused.startswith("[function] refused a Runtime API connection from 127.0.0.1:")


def _answer(sock: socket.socket) -> bytes:
    try:
        return sock.recv(1024)
    except ConnectionResetError:  # aborted: the same as closed here
        return b""


def test_output_of_concurrent_invocations_stays_in_its_own_tail(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(CONCURRENT)
    args = ["--port", "0", "--code-dir", str(tmp_path), "--max-concurrency", "2"]
    with EmulatorProcess([*args, "app.handler"], cwd=tmp_path) as emulator:
        results: dict[str, httpx.Response] = {}
        threads = [
            threading.Thread(
                target=lambda tag=tag: results.__setitem__(
                    tag,
                    invoke(emulator.url, {"tag": tag, "dir": str(tmp_path)}, **TAIL),
                )
            )
            for tag in ("a", "b")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    for tag, other in (("a", "b"), ("b", "a")):
        tail = base64.b64decode(results[tag].headers["x-amz-log-result"]).decode()
        assert f"line from {tag}" in tail
        assert f"line from {other}" not in tail


TAIL = {"X-Amz-Log-Type": "Tail"}
# Both invocations run at once (each waits for the other's file), and print in turn.
CONCURRENT = """
import os, time

def handler(event, context):
    mine = os.path.join(event["dir"], event["tag"])
    other = os.path.join(event["dir"], "b" if event["tag"] == "a" else "a")
    open(mine, "w").close()
    deadline = time.monotonic() + 20
    while not os.path.exists(other) and time.monotonic() < deadline:
        time.sleep(0.01)
    for i in range(20):
        print(f"line from {event['tag']} {i}", flush=True)
        time.sleep(0.005)
    return event["tag"]
"""


WORKERS = """
import os, time

def handler(event, context):
    if event.get("dir"):  # both invocations at once: each waits for the other's file
        open(os.path.join(event["dir"], event["tag"]), "w").close()
        other = os.path.join(event["dir"], "b" if event["tag"] == "a" else "a")
        deadline = time.monotonic() + 20
        while not os.path.exists(other) and time.monotonic() < deadline:
            time.sleep(0.01)
    return {"pid": os.getpid(), "supervisor": os.getppid()}
"""


def test_an_event_never_goes_to_a_worker_that_died_waiting(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(WORKERS)
    args = ["--port", "0", "--code-dir", str(tmp_path), "--max-concurrency", "2"]
    with EmulatorProcess([*args, "--timeout", "20", "app.handler"], cwd=tmp_path) as emulator:
        answers: list[dict[str, int]] = []
        callers = [
            threading.Thread(
                target=lambda tag=tag: answers.append(
                    invoke(emulator.url, {"tag": tag, "dir": str(tmp_path)}).json()
                )
            )
            for tag in ("a", "b")
        ]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(60)
        # Both workers answered and went back to GET /next: kill them while they wait.
        workers = {answer["pid"] for answer in answers}
        assert len(workers) == 2
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        response = invoke(emulator.url, {})
    assert "x-amz-function-error" not in response.headers, response.content
    assert response.json()["pid"] not in workers  # a replacement served it
