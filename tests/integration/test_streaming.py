"""`python -m ric` streaming to a Runtime API played byte by byte on a raw socket.

The handlers wait on a FIFO between chunks, and the test writes to it only
after it has read the chunk before: each chunk is on the wire before the
handler makes the next one, with no timing involved.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import TaskRoot
from tests.integration.raw_api import ACCEPTED, Peer, RawServer, Signal, ok, raw_server
from tests.integration.runtime_api import RuntimeProcess, lambda_env

APP = """
import logging
import os
import ric

# Opened for reading and writing, a FIFO never blocks the open; each read of
# one byte waits for the test's signal.
SIGNAL = os.open(os.environ["STREAM_SIGNAL"], os.O_RDWR)


def wait():
    os.read(SIGNAL, 1)


def counted(event, context):
    for n in range(3):
        yield f"chunk {n};"
        wait()
    print("counted: done")


def raises(event, context):
    yield b"partial"
    logging.getLogger("app").warning("streaming %s", "on")
    raise KeyError("gone")


def page(event, context):
    def body():
        yield "<h1>"
        wait()
        yield "hi</h1>"

    return ric.HttpStream(body(), 201, {"Content-Type": "text/html"}, ["a=1; Secure"])


def empty_page(event, context):
    return ric.HttpStream([])


def late(event, context):
    wait()  # the handler's work before its first chunk
    yield b"late"


def big(event, context):
    if event.get("small"):
        return {"small": True}
    return big_body()


def big_body():
    try:
        yield b"first"
        wait()
        yield bytes(8 * 1024 * 1024)  # more than the socket buffers hold
        yield b"never"
    except GeneratorExit:
        print("big: closed early")
        raise
"""
NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n"
EVENT = {"Lambda_Runtime_Aws_Request_Id": "r1", "Content_Type": "application/json"}
SECOND = {"Lambda_Runtime_Aws_Request_Id": "r2", "Content_Type": "application/json"}


@pytest.fixture
def app(task_root: TaskRoot) -> Path:
    task_root.write("app.py", APP)
    return task_root.path


class Session:
    """A runtime serving one handler, and the connection its first stream comes on."""

    def __init__(self, server: RawServer, peer: Peer, runtime: RuntimeProcess) -> None:
        self.server = server
        self.peer = peer
        self.runtime = runtime


@contextmanager
def streaming(app: Path, signal: Signal, handler: str) -> Iterator[Session]:
    """A runtime serving ``handler``, given one event; stopped at the end."""
    with raw_server() as server:
        env = lambda_env(server.address, app, STREAM_SIGNAL=str(signal.path))
        runtime = RuntimeProcess([sys.executable, "-m", "ric", handler], env, app)
        try:
            peer = server.accept()
            assert peer.read_request().startswith(NEXT)
            peer.send(ok(b"{}", **EVENT))
            yield Session(server, peer, runtime)
        finally:
            runtime.stop()


def serve_next(server: RawServer, event: bytes = b"{}", **headers: str) -> Peer:
    """The new connection the runtime opens after a stream, its GET /next answered."""
    peer = server.accept()
    assert peer.read_request().startswith(NEXT)
    peer.send(ok(event, **(headers or SECOND)))
    return peer


def test_each_chunk_is_sent_before_the_next_is_made(app: Path, signal: Signal) -> None:
    with streaming(app, signal, "app.counted") as session:
        server, peer = session.server, session.peer
        head = peer.read_head().split(b"\r\n")
        assert head[0] == b"POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1"
        fields = [line for line in head[1:-2] if not line.startswith(b"User-Agent: ric/")]
        assert fields == [
            f"Host: {server.address}".encode(),
            b"Content-Type: application/octet-stream",
            b"Lambda-Runtime-Function-Response-Mode: streaming",
            b"Transfer-Encoding: chunked",
            b"Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
        ]
        for n in range(3):
            # The handler is waiting for this signal before it makes chunk n + 1.
            assert peer.read_chunk() == f"chunk {n};".encode()
            signal.send()
        assert peer.read_chunk() is None
        assert peer.read_trailers() == []
        peer.send(ACCEPTED)
        # As the docs ask, the connection is closed after the stream, and
        # GET /next comes on a new one.
        assert peer.read_until_closed() == b""
        serve_next(server).close()
    runtime = session.runtime
    assert b"counted: done\n" in runtime.stdout
    assert b"LAMBDA_RUNTIME" not in runtime.stdout
    assert runtime.stderr == b""


def test_an_error_mid_stream_goes_in_the_trailers(app: Path, signal: Signal) -> None:
    with streaming(app, signal, "app.raises") as session:
        server, peer = session.server, session.peer
        peer.read_head()
        assert peer.read_chunk() == b"partial"
        assert peer.read_chunk() is None
        trailers = dict(peer.read_trailers())
        assert list(trailers) == [
            "Lambda-Runtime-Function-Error-Type",
            "Lambda-Runtime-Function-Error-Body",
        ]
        assert trailers["Lambda-Runtime-Function-Error-Type"] == "KeyError"
        error = json.loads(base64.b64decode(trailers["Lambda-Runtime-Function-Error-Body"]))
        peer.send(ACCEPTED)
        serve_next(server).close()
    assert (error["errorType"], error["errorMessage"], error["requestId"]) == (
        "KeyError",
        "'gone'",
        "r1",
    )
    (frame,) = error["stackTrace"]
    assert frame.endswith(', in raises\n    raise KeyError("gone")\n')
    runtime = session.runtime
    # The body runs after the handler returned: its records still carry the request id.
    assert re.search(rb"^\[WARNING\]\t\S+Z\tr1\tstreaming on\n", runtime.stdout, re.MULTILINE)
    # Logged as an uncaught error is: one line, the trace joined by \r.
    logged = re.escape(frame.replace("\n", "\r").replace("  ", "\u00a0\u00a0").rstrip("\r"))
    assert re.search(
        rb"^\[ERROR\] KeyError: 'gone'\rTraceback \(most recent call last\):\r"
        + logged.encode()
        + rb"\n",
        runtime.stdout,
        re.MULTILINE,
    )
    assert runtime.stderr == b""


def test_an_http_stream_sends_its_prelude_then_the_body(app: Path, signal: Signal) -> None:
    with streaming(app, signal, "app.page") as session:
        server, peer = session.server, session.peer
        head = peer.read_head()
        assert b"\r\nContent-Type: application/vnd.awslambda.http-integration-response\r\n" in head
        prelude = peer.read_chunk()
        assert peer.read_chunk() == b"<h1>"
        signal.send()
        assert peer.read_chunk() == b"hi</h1>"
        assert peer.read_chunk() is None
        peer.read_trailers()
        peer.send(ACCEPTED)
        serve_next(server).close()
    assert prelude is not None
    assert prelude.endswith(b"\x00" * 8)
    assert json.loads(prelude[:-8]) == {
        "statusCode": 201,
        "headers": {"Content-Type": "text/html"},
        "cookies": ["a=1; Secure"],
    }


def test_an_http_stream_with_no_body_still_sends_its_prelude(app: Path, signal: Signal) -> None:
    with streaming(app, signal, "app.empty_page") as session:
        server, peer = session.server, session.peer
        peer.read_head()
        assert peer.read_chunk() == b'{"statusCode":200,"headers":{},"cookies":[]}' + bytes(8)
        assert peer.read_chunk() is None
        peer.read_trailers()
        peer.send(ACCEPTED)
        serve_next(server).close()


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\n\r\n",
            "the response is larger than the Runtime API accepts (413)",
        ),
        (
            b"HTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n",
            "the invocation had already ended (410 Gone, e.g. timed out)",
        ),
    ],
    ids=["413", "410"],
)
def test_a_stream_refused_mid_way_is_logged_and_the_next_is_served(
    app: Path, signal: Signal, answer: bytes, reason: str
) -> None:
    with streaming(app, signal, "app.big") as session:
        server, peer = session.server, session.peer
        peer.read_head()
        assert peer.read_chunk() == b"first"
        peer.send(answer)  # answered early, and closed: the next write fails
        peer.close()
        signal.send()
        second = serve_next(server, b'{"small": true}')
        assert second.read_request().endswith(b'\r\n\r\n{"small":true}')
        second.send(ACCEPTED)
    runtime = session.runtime
    warning = f"LAMBDA_RUNTIME invocation r1: response rejected: {reason}\n"
    assert warning.encode() in runtime.stdout
    assert b"big: closed early\n" in runtime.stdout
    assert runtime.stderr == b""


def test_a_stream_reset_mid_way_is_logged_and_the_next_is_served(app: Path, signal: Signal) -> None:
    with streaming(app, signal, "app.big") as session:
        server, peer = session.server, session.peer
        peer.read_head()
        assert peer.read_chunk() == b"first"
        # SO_LINGER of 0: close() resets the connection.
        peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        peer.close()
        signal.send()
        second = serve_next(server, b'{"small": true}')
        assert second.read_request().endswith(b'\r\n\r\n{"small":true}')
        second.send(ACCEPTED)
    runtime = session.runtime
    assert re.search(
        rb"LAMBDA_RUNTIME invocation r1: response not delivered: Runtime API at "
        rb"127\.0\.0\.1:\d+: \[Errno \d+\] (Connection reset by peer|Broken pipe)\n",
        runtime.stdout,
    )
    assert b"big: closed early\n" in runtime.stdout
    assert runtime.stderr == b""


def test_a_stream_begun_after_the_api_closed_the_idle_connection_is_delivered(
    app: Path, signal: Signal
) -> None:
    # A stream cannot be sent twice: a connection the Runtime API closed while
    # the handler worked (an idle timeout) must be found out before it begins.
    with streaming(app, signal, "app.late") as session:
        server, peer = session.server, session.peer
        peer.close()
        signal.send()
        fresh = server.accept()
        assert fresh.read_head().startswith(b"POST /2018-06-01/runtime/invocation/r1/response ")
        assert fresh.read_chunk() == b"late"
        assert fresh.read_chunk() is None
        assert fresh.read_trailers() == []
        fresh.send(ACCEPTED)
        serve_next(server).close()
    runtime = session.runtime
    assert b"LAMBDA_RUNTIME" not in runtime.stdout
    assert runtime.stderr == b""
