"""`python -m ric` serving ``async def`` handlers on its one event loop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TaskRoot
from tests.integration.raw_api import ACCEPTED, Signal
from tests.integration.runtime_api import RuntimeProcess, ScriptedRuntimeApi
from tests.integration.test_runtime import serve
from tests.integration.test_streaming import serve_next, streaming

APP = """
import asyncio
import contextvars
import logging
import threading

import ric

# What one invocation leaves for the next: the test's record of warm state.
STATE = {}


async def echo(event, context):
    await asyncio.sleep(0)
    logging.getLogger("app").warning("async %s", event["n"])
    return {
        "event": event,
        "id": context.aws_request_id,
        "trace": context.trace_id,
        "remaining_is_int": isinstance(context.get_remaining_time_in_millis(), int),
        "current": ric.current_context() is context,
    }


async def loop(event, context):
    running = asyncio.get_running_loop()
    first = STATE.setdefault("loop", running)
    return {"same": first is running, "module": type(running).__module__}


async def bound(event, context):
    if "task" not in STATE:
        STATE["lock"] = asyncio.Lock()
        STATE["jobs"] = asyncio.Queue()
        STATE["answers"] = asyncio.Queue()
        STATE["task"] = asyncio.create_task(double())
        return "started"
    async with STATE["lock"]:
        await STATE["jobs"].put(event["n"])
        return await STATE["answers"].get()


async def double():
    while True:
        n = await STATE["jobs"].get()
        await STATE["answers"].put(n * 2)


async def pooled(event, context):
    # An HTTP server and an httpx.AsyncClient, both bound to the loop, made in
    # the first invocation; the next ones reuse the client's pooled connection.
    import httpx

    if "client" not in STATE:
        STATE["connections"] = 0

        async def serve(reader, writer):
            STATE["connections"] += 1
            while await reader.readuntil(b"\\r\\n\\r\\n"):
                writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
                await writer.drain()

        STATE["server"] = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = STATE["server"].sockets[0].getsockname()[1]
        STATE["client"] = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")
    response = await STATE["client"].get("/")
    return [response.text, STATE["connections"]]


async def cancelled(event, context):
    if event.get("cancel"):
        asyncio.current_task().cancel()
        await asyncio.sleep(0)
    return "served"


async def fail(event, context):
    await asyncio.sleep(0)
    raise ValueError("async bad")


def awaitable(event, context):
    async def later():
        return "awaited"

    return later()


async def tasks(event, context):
    async def seen():
        await asyncio.sleep(0)
        return ric.current_context() is context

    copied, plain = [], []
    copy = contextvars.copy_context()
    threads = [
        threading.Thread(target=copy.run, args=(lambda: copied.append(ric.current_context()),)),
        threading.Thread(target=lambda: plain.append(ric.current_context())),
    ]
    for thread in threads:
        thread.start()
        thread.join()
    return {
        "tasks": await asyncio.gather(*(seen() for _ in range(3))),
        "copied": copied[0] is context,
        "plain": plain[0],
    }
"""

RESPONSE = "invocation/{}/response"


@pytest.fixture
def app(task_root: TaskRoot) -> Path:
    return task_root.write("app.py", APP).parent


def answers(
    api: ScriptedRuntimeApi, task_root: Path, handler: str, *events: bytes, **env: str
) -> tuple[list[Any], RuntimeProcess]:
    """What the runtime posted for ``events``, and the stopped runtime."""
    for n, event in enumerate(events):
        api.event(f"r{n}", event, **{"Lambda-Runtime-Trace-Id": f"Root=1-{n}"})
        api.post(RESPONSE.format(f"r{n}"))
    api.park()
    runtime = serve(api, task_root, handler, **env)
    runtime.stop()
    return [json.loads(post.body) for post in api.posts()], runtime


def test_an_async_handler_gets_its_event_context_and_logging(
    runtime_api: ScriptedRuntimeApi, app: Path
) -> None:
    posted, runtime = answers(runtime_api, app, "app.echo", b'{"n": 1}', b'{"n": 2}')
    assert posted == [
        {
            "event": {"n": n + 1},
            "id": f"r{n}",
            "trace": f"Root=1-{n}",
            "remaining_is_int": True,
            "current": True,
        }
        for n in range(2)
    ]
    assert b"\tr0\tasync 1\n" in runtime.stdout
    assert b"\tr1\tasync 2\n" in runtime.stdout
    assert runtime.stderr == b""


@pytest.mark.parametrize(
    ("env", "module"),
    [({}, "uvloop"), ({"RIC_EVENT_LOOP": "asyncio"}, "asyncio.unix_events")],
    ids=["uvloop", "asyncio"],
)
def test_every_invocation_runs_on_the_same_loop(
    runtime_api: ScriptedRuntimeApi, app: Path, env: dict[str, str], module: str
) -> None:
    posted, _ = answers(runtime_api, app, "app.loop", b"{}", b"{}", b"{}", **env)
    assert posted == [{"same": True, "module": module}] * 3


def test_a_lock_queue_and_task_of_one_invocation_work_in_the_next(
    runtime_api: ScriptedRuntimeApi, app: Path
) -> None:
    posted, runtime = answers(runtime_api, app, "app.bound", b"{}", b'{"n": 2}', b'{"n": 5}')
    assert posted == ["started", 4, 10]
    assert runtime.stderr == b""


def test_an_httpx_client_of_one_invocation_works_in_the_next(
    runtime_api: ScriptedRuntimeApi, app: Path
) -> None:
    posted, runtime = answers(runtime_api, app, "app.pooled", b"{}", b"{}", b"{}")
    # One connection for the three: the pool's connection outlived its invocation.
    assert posted == [["ok", 1]] * 3
    assert runtime.stderr == b""


def test_a_sync_handler_returning_an_awaitable_has_it_awaited(
    runtime_api: ScriptedRuntimeApi, app: Path
) -> None:
    posted, _ = answers(runtime_api, app, "app.awaitable", b"{}")
    assert posted == ["awaited"]


def test_the_context_is_current_in_tasks_and_copied_threads(
    runtime_api: ScriptedRuntimeApi, app: Path
) -> None:
    posted, _ = answers(runtime_api, app, "app.tasks", b"{}")
    assert posted == [{"tasks": [True, True, True], "copied": True, "plain": None}]


def test_a_cancelled_handler_is_an_error_and_the_next_is_served(
    runtime_api: ScriptedRuntimeApi, app: Path
) -> None:
    runtime_api.event("r-c", b'{"cancel": true}')
    runtime_api.post("invocation/r-c/error")
    runtime_api.event("r-2")
    runtime_api.post("invocation/r-2/response")
    runtime_api.park()
    serve(runtime_api, app, "app.cancelled").stop()
    error, served = runtime_api.posts()
    assert json.loads(error.body)["errorType"] == "CancelledError"
    assert served.body == b'"served"'


def test_an_async_error_is_posted_and_logged_as_a_sync_one(
    runtime_api: ScriptedRuntimeApi, app: Path
) -> None:
    runtime_api.event("r-e")
    runtime_api.post("invocation/r-e/error")
    runtime_api.park()
    runtime: RuntimeProcess = serve(runtime_api, app, "app.fail")
    runtime.stop()
    (post,) = runtime_api.posts()
    body = json.loads(post.body)
    assert (body["errorType"], body["errorMessage"], body["requestId"]) == (
        "ValueError",
        "async bad",
        "r-e",
    )
    # The user's frames only: none of the runtime's nor the event loop's.
    (frame,) = body["stackTrace"]
    assert frame.endswith(', in fail\n    raise ValueError("async bad")\n')
    assert post.headers["lambda-runtime-function-error-type"] == "ValueError"
    assert runtime.stdout.startswith(
        b"[ERROR] ValueError: async bad\rTraceback (most recent call last):\r"
    )


STREAMS = """
import asyncio
import os

import ric

SIGNAL = os.open(os.environ["STREAM_SIGNAL"], os.O_RDWR)


async def wait():
    # The FIFO read, off the loop: the loop stays free while the test decides.
    await asyncio.get_running_loop().run_in_executor(None, os.read, SIGNAL, 1)


async def counted(event, context):
    for n in range(3):
        yield f"chunk {n};"
        await wait()
    print("counted: done", ric.current_context() is context)


async def page(event, context):
    async def body():
        yield "<h1>"
        await wait()
        yield "hi</h1>"
        raise KeyError("gone")

    return ric.HttpStream(body(), 201, {"Content-Type": "text/html"})


async def closed(event, context):
    try:
        yield b"first"
        await wait()
        yield bytes(8 * 1024 * 1024)  # more than the socket buffers hold
        yield b"never"
    finally:
        print("closed: aclose ran")
"""


@pytest.fixture
def streams(task_root: TaskRoot) -> Path:
    task_root.write("streams.py", STREAMS)
    return task_root.path


def test_an_async_generator_streams_each_chunk_before_the_next(
    streams: Path, signal: Signal
) -> None:
    with streaming(streams, signal, "streams.counted") as session:
        server, peer = session.server, session.peer
        assert b"\r\nContent-Type: application/octet-stream\r\n" in peer.read_head()
        for n in range(3):
            # The generator is waiting for this signal before it makes chunk n + 1.
            assert peer.read_chunk() == f"chunk {n};".encode()
            signal.send()
        assert peer.read_chunk() is None
        assert peer.read_trailers() == []
        peer.send(ACCEPTED)
        serve_next(server).close()
    assert b"counted: done True\n" in session.runtime.stdout
    assert session.runtime.stderr == b""


def test_an_async_http_stream_puts_a_late_error_in_the_trailers(
    streams: Path, signal: Signal
) -> None:
    with streaming(streams, signal, "streams.page") as session:
        server, peer = session.server, session.peer
        peer.read_head()
        prelude = peer.read_chunk()
        assert peer.read_chunk() == b"<h1>"
        signal.send()
        assert peer.read_chunk() == b"hi</h1>"
        assert peer.read_chunk() is None
        trailers = dict(peer.read_trailers())
        peer.send(ACCEPTED)
        serve_next(server).close()
    assert prelude is not None
    assert json.loads(prelude[:-8])["statusCode"] == 201
    assert trailers["Lambda-Runtime-Function-Error-Type"] == "KeyError"


def test_an_async_generator_ended_early_is_closed(streams: Path, signal: Signal) -> None:
    with streaming(streams, signal, "streams.closed") as session:
        server, peer = session.server, session.peer
        peer.read_head()
        assert peer.read_chunk() == b"first"
        peer.send(b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\n\r\n")
        peer.close()
        signal.send()
        serve_next(server).close()
    assert b"closed: aclose ran\n" in session.runtime.stdout
