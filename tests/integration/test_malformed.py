"""`python -m ric` against a Runtime API played byte by byte: malformed and closing answers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import TaskRoot
from tests.integration.raw_api import ACCEPTED, Peer, RawServer, ok, raw_server
from tests.integration.runtime_api import RuntimeProcess, lambda_env

APP = "def handler(event, context):\n    return event\n"
NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n"
EVENT = {"Lambda_Runtime_Aws_Request_Id": "r1", "Content_Type": "application/json"}


def start(server: RawServer, root: Path) -> RuntimeProcess:
    env = lambda_env(server.address, root)
    return RuntimeProcess([sys.executable, "-m", "ric", "app.handler"], env, root)


def next_request(peer: Peer) -> bytes:
    request = peer.read_request()
    assert request.startswith(NEXT), request
    return request


@pytest.fixture
def app(task_root: TaskRoot, tmp_path: Path) -> Path:
    task_root.write("app.py", APP)
    return tmp_path


BAD_ANSWERS = {
    "content-length-5000-digits": (
        b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: bad\r\n"
        b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n{}"
    ),
    "status-superscript-digits": b"HTTP/1.1 \xb2\xb2\xb2 OK\r\nContent-Length: 2\r\n\r\n{}",
    "status-arabic-indic-digits": ("HTTP/1.1 ٢٠٠ OK\r\nContent-Length: 2\r\n\r\n{}".encode()),
}


@pytest.mark.parametrize("answer", BAD_ANSWERS.values(), ids=list(BAD_ANSWERS))
def test_a_malformed_next_answer_is_logged_and_retried(app: Path, answer: bytes) -> None:
    with raw_server() as server:
        runtime = start(server, app)
        try:
            first = server.accept()
            next_request(first)
            first.send(answer)
            # The runtime drops that connection, says why, and asks again on a new one.
            second = server.accept()
            next_request(second)
            second.send(ok(b'{"n": 1}', **EVENT))
            post = second.read_request()
            assert post.startswith(b"POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\n")
            assert post.endswith(b'\r\n\r\n{"n":1}')
            second.send(ACCEPTED)
            first.close()
            second.close()
        finally:
            runtime.stop()
    assert b"LAMBDA_RUNTIME invocation/next failed (" in runtime.stdout
    assert b"retry in" in runtime.stdout
    assert runtime.stderr == b""


def test_a_huge_deadline_is_no_deadline(app: Path) -> None:
    with raw_server() as server:
        runtime = start(server, app)
        try:
            peer = server.accept()
            next_request(peer)
            peer.send(ok(b"{}", Lambda_Runtime_Deadline_Ms="1" * 5000, **EVENT))
            post = peer.read_request()
            assert post.startswith(b"POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\n")
            peer.send(ACCEPTED)
            peer.close()
        finally:
            runtime.stop()
    assert runtime.stderr == b""


def test_the_result_after_an_event_framed_by_close_is_delivered(app: Path) -> None:
    with raw_server() as server:
        runtime = start(server, app)
        try:
            first = server.accept()
            next_request(first)
            # No Content-Length: the event ends where the connection does.
            first.send(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\n"
                       b"Content-Type: application/json\r\n\r\n{\"closed\": true}")  # fmt: skip
            first.close()
            second = server.accept()
            post = second.read_request()
            assert post.startswith(b"POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\n")
            assert post.endswith(b'\r\n\r\n{"closed":true}')
            second.send(ACCEPTED)
            next_request(second)
            second.close()
        finally:
            runtime.stop()
    assert b"not delivered" not in runtime.stdout
