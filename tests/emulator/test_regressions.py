"""Faults found in review, each kept fixed: hangs, wedged slots, refused headers."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx

from tests.emulator.harness import EmulatorProcess, containing

APP = """
import os, subprocess

def crash_with_child(event, context):
    # The child keeps the runtime's output pipes open after the runtime dies.
    child = subprocess.Popen(["sleep", "30"], start_new_session=True)
    with open("child.pid", "w") as f:
        f.write(str(child.pid))
    os._exit(3)

def client_context(event, context):
    return context.client_context.custom
"""
LAZY = """
import http.client, os, time
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
connection = http.client.HTTPConnection(host, int(port))
connection.request("GET", "/2018-06-01/runtime/invocation/next")
event = connection.getresponse(); event.read()
request_id = event.headers["Lambda-Runtime-Aws-Request-Id"]
connection.request("POST", f"/2018-06-01/runtime/invocation/{request_id}/response", b'"one"')
connection.getresponse().read()
time.sleep(60)  # answered, but never asks for the next event
"""


def invoke(
    emulator: EmulatorProcess, name: str, payload: bytes = b"{}", **headers: str
) -> httpx.Response:
    url = f"{emulator.url}/2015-03-31/functions/{name}/invocations"
    return httpx.post(url, content=payload, headers=headers, timeout=30)


def test_a_crash_is_reported_even_when_a_child_holds_the_output(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    args = ["--port", "0", "--timeout", "20", "--code-dir", str(tmp_path), "app.crash_with_child"]
    try:
        with EmulatorProcess(args, cwd=tmp_path) as emulator:
            response = invoke(emulator, "function")
            report = emulator.wait_for_line(containing("REPORT RequestId"))
    finally:
        os.kill(int((tmp_path / "child.pid").read_text()), signal.SIGKILL)
    assert json.loads(response.content)["errorType"] == "Runtime.ExitError"
    # Measured while the runtime lived: a Python runtime uses more than 1 MB.
    assert int(report.split("Max Memory Used: ")[1].split(" MB")[0]) > 1


def test_a_runtime_that_never_comes_back_is_timed_out_and_replaced(tmp_path: Path) -> None:
    (tmp_path / "lazy.py").write_text(LAZY)
    args = ["--port", "0", "--timeout", "2", "--concurrency", "1", "--", sys.executable, "lazy.py"]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        first = invoke(emulator, "function")
        busy = invoke(emulator, "function")
        deadline = time.monotonic() + 10
        while (later := invoke(emulator, "function")).status_code == 429:
            assert time.monotonic() < deadline, "the function stayed throttled"
            time.sleep(0.2)
    assert first.content == b'"one"'
    assert busy.status_code == 429  # busy with the first until it times out, 2 s in
    assert later.content == b'"one"'  # a fresh environment


def test_a_pretty_printed_client_context_is_delivered(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    context = base64.b64encode(b'{\n  "custom": {"a": 1}\n}\n').decode()
    args = ["--port", "0", "--code-dir", str(tmp_path), "app.client_context"]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        response = invoke(emulator, "function", b"{}", **{"X-Amz-Client-Context": context})
    assert response.json() == {"a": 1}


def test_a_deeply_nested_payload_is_a_400(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    args = ["--port", "0", "--code-dir", str(tmp_path), "app.client_context"]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        response = invoke(emulator, "function", b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"] == "InvalidRequestContentException"


def test_expect_100_continue_is_answered_before_the_body(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    args = ["--port", "0", "--code-dir", str(tmp_path), "app.client_context"]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        host, port = emulator.url.removeprefix("http://").split(":")
        head = "POST /2015-03-31/functions/{}/invocations HTTP/1.1\r\nHost: x\r\n"
        head += "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(head.format("function").encode())
            interim = sock.recv(4096)
            sock.sendall(b"{}")
            final = sock.recv(4096)
        # A request that is refused anyway gets its final answer without the body.
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(head.format("nope").encode())
            refused = sock.recv(4096)
    assert interim.startswith(b"HTTP/1.1 100 ")
    assert final.startswith(b"HTTP/1.1 200 ")
    assert refused.startswith(b"HTTP/1.1 404 ")
