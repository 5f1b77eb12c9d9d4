"""ric.asgi against Mangum (from PyPI): the same app and event give the same result.

A Starlette app (with a lifespan whose state the requests read) and raw apps
that fail at each point of a response go through Mangum and through ric's
bridge, for every sample event format. Mangum runs its own loop per call;
ours runs on the test's loop.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from mangum import Mangum
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ric.web.asgi import Bridge
from ric.web.lifespan import Lifespan
from tests.unit.test_web_events import CONTEXT, SAMPLES, sample

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # Mangum runs the current loop
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


async def echo(request: Request) -> Response:
    response = JSONResponse(
        {
            "method": request.method,
            "url": str(request.url),
            "path": request.url.path,
            "query": [list(pair) for pair in request.query_params.multi_items()],
            "cookies": request.cookies,
            "header2": request.headers.getlist("header2"),
            "client": list(request.client or ()),
            "body": (await request.body()).decode(),
            "state": request.state.opened,
        }
    )
    response.set_cookie("a", "1")
    response.set_cookie("b", "2", httponly=True)
    return response


async def png(request: Request) -> Response:
    return Response(PNG, media_type="image/png")


async def upload(request: Request) -> Response:
    return Response((await request.body())[::-1], media_type="application/octet-stream")


async def multi(request: Request) -> Response:
    response = PlainTextResponse("café", status_code=207)
    response.headers.append("X-Many", "1")
    response.headers.append("X-Many", "2")
    return response


async def gzipped(request: Request) -> Response:
    return Response(b"\x1f\x8b\x08", headers={"Content-Encoding": "gzip"}, media_type="text/html")


async def boom(request: Request) -> Response:
    raise ValueError("boom")


def make_starlette() -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        yield {"opened": "pool"}

    routes = [
        Route("/echo", echo, methods=["GET", "POST"]),
        Route("/png", png, methods=["GET", "POST"]),
        Route("/upload", upload, methods=["GET", "POST"]),
        Route("/multi", multi, methods=["GET", "POST"]),
        Route("/gzip", gzipped, methods=["GET", "POST"]),
        Route("/boom", boom, methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def at(name: str, path: str, data: bytes | None = None) -> dict[str, Any]:
    event = sample(name)
    if "rawPath" in event:
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
    else:
        event["path"] = path
    if data is not None:
        event["body"], event["isBase64Encoded"] = base64.b64encode(data).decode(), True
    return event


def both(loop: asyncio.AbstractEventLoop, app: Any, event: dict[str, Any], mode: str) -> Any:
    theirs = Mangum(app, lifespan=mode)(event, CONTEXT)  # type: ignore[arg-type]
    bridge = Bridge(app, Lifespan(app, mode))
    ours = loop.run_until_complete(bridge.handle(event, CONTEXT))
    loop.run_until_complete(bridge.lifespan.stop())
    return ours, theirs


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("path", ["/echo", "/png", "/multi", "/gzip", "/boom", "/a%20b"])
def test_a_starlette_app_answers_as_under_mangum(
    loop: asyncio.AbstractEventLoop, name: str, path: str
) -> None:
    ours, theirs = both(loop, make_starlette(), at(name, path), "auto")
    assert ours == theirs


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_binary_body_goes_both_ways_as_under_mangum(
    loop: asyncio.AbstractEventLoop, name: str
) -> None:
    ours, theirs = both(loop, make_starlette(), at(name, "/upload", PNG), "on")
    assert ours == theirs
    assert ours["isBase64Encoded"] is True
    assert base64.b64decode(ours["body"]) == PNG[::-1]


def test_the_echo_reads_what_the_event_holds(loop: asyncio.AbstractEventLoop) -> None:
    ours, _ = both(loop, make_starlette(), at("rest", "/echo"), "auto")
    assert ours["body"].startswith(
        '{"method":"GET","url":"https://abc123.execute-api.us-east-1.amazonaws.com/echo?'
        'parameter1=value1&parameter1=value2&parameter2=a+b%26c",'
    )
    assert '"header2":["value1, value2"]' in ours["body"]
    assert '"state":"pool"' in ours["body"]
    assert ours["multiValueHeaders"]["set-cookie"][1] == "b=2; HttpOnly; Path=/; SameSite=lax"


def failing(where: str) -> Any:
    async def app(scope: Message, receive: Receive, send: Send) -> None:
        start = {"type": "http.response.start", "status": 202, "headers": [(b"x-from", b"app")]}
        if where != "before the start":
            await send(start)
            more = where != "after the response"
            await send({"type": "http.response.body", "body": b"partial", "more_body": more})
        raise ValueError("boom")

    return app


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("where", ["before the start", "in the body", "after the response"])
def test_an_app_error_is_answered_as_under_mangum(
    loop: asyncio.AbstractEventLoop, name: str, where: str
) -> None:
    ours, theirs = both(loop, failing(where), at(name, "/"), "off")
    assert ours == theirs
    assert ours["statusCode"] == (202 if where == "after the response" else 500)
