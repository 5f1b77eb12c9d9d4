"""ric.asgi behind the emulator's function URLs: a Starlette app in real processes.

The app's lifespan opens its state once, at init, on the runtime's loop:
an ``asyncio.Lock`` and a counter that every warm invocation uses. The
stream's incrementality is proven with gates, never with timing: the app
sends event ``i`` only once the file ``{gate}/{i}`` exists, and the test
creates it only after it has read event ``i - 1``.
"""

from __future__ import annotations

import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.emulator.harness import (
    EmulatorProcess,
    gated_events,
    non_http_error,
    url_of,
    web_app_emulator,
)

APP = textwrap.dedent(
    """
    import asyncio
    import contextlib
    import os
    import pathlib

    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    import ric


    @contextlib.asynccontextmanager
    async def lifespan(app):
        loop = asyncio.get_running_loop()
        yield {"pid": os.getpid(), "loop": loop, "lock": asyncio.Lock(), "count": [0]}


    async def count(request):
        async with request.state.lock:  # made during init, on the same loop
            request.state.count[0] += 1
        same_loop = request.state.loop is asyncio.get_running_loop()
        body = {
            "count": request.state.count[0],
            "pid": request.state.pid,
            "same_loop": same_loop,
            "path": request.url.path,
            "query": request.url.query,
            "cookies": request.cookies,
            "body": (await request.body()).decode(),
        }
        response = JSONResponse(body, status_code=201, headers={"X-Many": "1"})
        response.headers.append("X-Many", "2")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response


    async def events(request):
        gate = pathlib.Path(request.query_params["gate"])

        async def stream():
            for index in range(3):
                while not (gate / str(index)).exists():
                    await asyncio.sleep(0.005)
                yield f"data: {index}\\n\\n"

        return StreamingResponse(stream(), media_type="text/event-stream")


    app = Starlette(
        routes=[Route("/events", events), Route("/{path:path}", count, methods=["GET", "POST"])],
        lifespan=lifespan,
    )
    buffered = ric.asgi(app)
    streamed = ric.asgi(app, streaming=True)
    """
)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with web_app_emulator(tmp_path_factory.mktemp("asgi"), "asgiapp", APP) as emulator:
        yield emulator


@pytest.mark.parametrize("name", ["flat", "live"])
def test_the_lifespans_state_lives_across_warm_invocations(
    emulator: EmulatorProcess, name: str
) -> None:
    seen = []
    for _ in range(3):
        response = httpx.post(
            url_of(emulator, name) + "a%20b/c?x=1&x=2",
            content=b"hello",
            headers={"Cookie": "k=v; k2=v2"},
            timeout=30,
        )
        assert response.status_code == 201
        assert response.headers.get_list("set-cookie") == [
            "a=1; Path=/; SameSite=lax",
            "b=2; Path=/; SameSite=lax",
        ]
        assert response.headers["x-many"] == "1,2"
        seen.append(response.json())
    assert [answer["count"] for answer in seen] == [1, 2, 3]
    assert len({answer["pid"] for answer in seen}) == 1
    assert all(answer["same_loop"] for answer in seen)
    assert seen[0] | {"count": 0, "pid": 0} == {
        "count": 0,
        "pid": 0,
        "same_loop": True,
        "path": "/a b/c",
        "query": "x=1&x=2",
        "cookies": {"k": "v", "k2": "v2"},
        "body": "hello",
    }


def test_server_sent_events_stream_as_the_app_sends_them(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    assert gated_events(emulator, tmp_path) == "text/event-stream; charset=utf-8"


def test_a_non_http_event_is_a_function_error(emulator: EmulatorProcess) -> None:
    assert "NotAnHttpEvent" in non_http_error(emulator)


def test_the_example_app_streams_and_shuts_its_lifespan_down() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    args = ["--code-dir", str(examples), "--function-url", "RESPONSE_STREAM", "--url-port", "0"]
    emulator = EmulatorProcess(["--port", "0", *args, "asgi_app.handler"], cwd=examples)
    try:
        url = url_of(emulator, "function")
        served = [httpx.get(url + "hello?name=ric", timeout=30).json() for _ in range(2)]
        ticks = httpx.get(url + "ticks?pause=0", timeout=30)
    finally:
        status = emulator.stop(signal.SIGTERM)
    assert status == 0, emulator.stderr
    assert served == [{"hello": "ric", "served": 1}, {"hello": "ric", "served": 2}]
    assert ticks.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert ticks.text == "data: tick 1\n\ndata: tick 2\n\ndata: tick 3\n\n"
    assert "lifespan: shut down" in emulator.function_lines("function")
