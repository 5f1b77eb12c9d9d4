"""ric.web.lifespan: startup once, state into each request, shutdown from the SIGTERM thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ric.aio import EventLoop, LoopBusy
from ric.errors import UserInitError
from ric.oninit import InitHooks
from ric.web.asgi import Bridge
from ric.web.lifespan import Lifespan, LifespanStartupFailed
from tests.unit.test_web_events import CONTEXT, sample

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@pytest.fixture(params=["auto", "asyncio"])
def loop(request: pytest.FixtureRequest) -> Iterator[EventLoop]:
    """The runtime's persistent loop, uvloop's and asyncio's."""
    loop = EventLoop(request.param)
    yield loop
    loop.close()


def starlette_app(log: list[Any]) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        log.append(("startup", asyncio.get_running_loop()))
        yield {"opened": "pool", "hits": []}
        log.append(("shutdown", asyncio.get_running_loop(), threading.current_thread().name))

    async def hit(request: Request) -> JSONResponse:
        request.state.hits.append(1)
        request.state.mine = "request-only"
        return JSONResponse({"opened": request.state.opened, "hits": len(request.state.hits)})

    return Starlette(routes=[Route("/my/path", hit, methods=["GET", "POST"])], lifespan=lifespan)


def test_startup_once_then_state_in_every_request_then_shutdown(loop: EventLoop) -> None:
    log: list[Any] = []
    app = starlette_app(log)
    lifespan = Lifespan(app)
    hooks = InitHooks()
    hooks.add(lifespan.startup)
    hooks.run(loop.run)  # as the runtime runs on_init hooks
    assert (lifespan.phase, log) == ("running", [("startup", loop.loop)])
    bridge = Bridge(app, lifespan)
    for hits in (1, 2):
        result = loop.run(bridge.handle(sample("http-api"), CONTEXT))
        assert result["body"] == f'{{"opened":"pool","hits":{hits}}}'
    assert "mine" not in lifespan.state  # each request's state is a copy
    assert shut_down(loop, lifespan) == []
    assert log[1:] == [("shutdown", loop.loop, "ric-shutdown")]
    assert lifespan.phase == "stopped"
    assert shut_down(loop, lifespan) == []  # once only
    assert len(log) == 2


def test_a_request_starts_the_lifespan_when_init_did_not(loop: EventLoop) -> None:
    log: list[Any] = []
    app = starlette_app(log)
    bridge = Bridge(app, Lifespan(app, "on"))

    async def two_at_once() -> list[Any]:
        return list(
            await asyncio.gather(
                bridge.handle(sample("rest"), CONTEXT), bridge.handle(sample("alb"), CONTEXT)
            )
        )

    results = loop.run(two_at_once())
    assert [entry[0] for entry in log] == ["startup"]
    assert sorted(result["body"] for result in results) == [
        '{"opened":"pool","hits":1}',
        '{"opened":"pool","hits":2}',
    ]
    loop.run(bridge.lifespan.stop())
    assert [entry[0] for entry in log] == ["startup", "shutdown"]


def raw(*steps: str) -> Any:
    """An app whose lifespan receives, sends or raises, step by step."""

    async def app(scope: Message, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        for step in steps:
            if step == "receive":
                await receive()
            elif step == "raise":
                raise ValueError("no lifespan here")
            else:
                await send({"type": step, "message": "db down"})

    return app


@pytest.mark.parametrize(
    "steps",
    [("raise",), (), ("lifespan.startup.complete",), ("receive", "raise")],
    ids=["raises", "returns", "sends first", "raises after receiving"],
)
def test_auto_takes_an_app_that_does_not_answer_for_one_without_lifespan(
    loop: EventLoop, steps: tuple[str, ...], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "ric.web")
    lifespan = Lifespan(raw(*steps), "auto")
    loop.run(lifespan.startup())
    assert lifespan.phase == "unsupported"
    assert "ASGI lifespan unsupported by the app" in caplog.text
    assert shut_down(loop, lifespan) == []  # nothing to shut down


@pytest.mark.parametrize(
    ("mode", "steps", "message"),
    [
        ("on", ("raise",), "raised ValueError"),
        ("on", (), "ended before it answered"),
        ("on", ("lifespan.startup.complete",), "sent before lifespan.startup"),
        ("auto", ("receive", "lifespan.startup.failed"), "db down"),
        ("on", ("receive", "lifespan.startup.failed"), "db down"),
        ("auto", ("receive", "lifespan.shutdown.complete"), "unexpected ASGI lifespan message"),
    ],
)
def test_a_startup_that_fails(
    loop: EventLoop, mode: str, steps: tuple[str, ...], message: str
) -> None:
    lifespan = Lifespan(raw(*steps), mode)
    with pytest.raises(LifespanStartupFailed, match=message):
        loop.run(lifespan.startup())
    assert lifespan.phase == "failed"


def test_a_failed_startup_in_an_init_hook_is_an_init_error_of_its_name(loop: EventLoop) -> None:
    hooks = InitHooks()
    hooks.add(Lifespan(raw("receive", "lifespan.startup.failed")).startup)
    with pytest.raises(UserInitError) as raised:
        hooks.run(loop.run)
    assert raised.value.error_type == "LifespanStartupFailed"
    assert raised.value.message == "db down"


@pytest.mark.parametrize(
    ("steps", "logged"),
    [
        (("lifespan.shutdown.failed",), "ASGI lifespan shutdown failed: db down"),
        ((), "ASGI lifespan shutdown failed: the app's lifespan ended before it answered"),
    ],
)
def test_a_failed_shutdown_is_logged(
    loop: EventLoop, steps: tuple[str, ...], logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    lifespan = Lifespan(raw("receive", "lifespan.startup.complete", "receive", *steps))
    loop.run(lifespan.startup())
    assert shut_down(loop, lifespan) == []
    assert [r.getMessage() for r in caplog.records] == [logged]


def test_shutdown_is_skipped_when_sigterm_came_while_the_loop_ran(loop: EventLoop) -> None:
    log: list[Any] = []
    lifespan = Lifespan(starlette_app(log))
    loop.run(lifespan.startup())

    async def interrupted() -> list[BaseException]:
        # The main thread is held in the SIGTERM handler while the hook's thread runs.
        return shut_down(loop, lifespan)

    (raised,) = loop.run(interrupted())
    assert isinstance(raised, LoopBusy)
    assert "SIGTERM came while an invocation ran on the event loop" in str(raised)
    assert lifespan.phase == "running"
    assert [entry[0] for entry in log] == ["startup"]
    loop.run(lifespan.stop())


def test_shutdown_runs_on_a_loop_that_runs_on(loop: EventLoop) -> None:
    log: list[Any] = []
    lifespan = Lifespan(starlette_app(log))
    loop.run(lifespan.startup())

    async def serving() -> list[BaseException]:
        # Async concurrency mode: the loop goes on while the hook's thread waits.
        thread = asyncio.get_running_loop().run_in_executor(
            None, lambda: loop.run_for_hook(lifespan.stop(), True)
        )
        await thread
        return []

    assert loop.run(serving()) == []
    assert [entry[0] for entry in log] == ["startup", "shutdown"]
    assert lifespan.phase == "stopped"


def shut_down(loop: EventLoop, lifespan: Lifespan) -> list[BaseException]:
    """What the SIGTERM hooks' thread does with the lifespan's async hook; what it raised."""
    raised: list[BaseException] = []

    def hook() -> None:
        try:
            loop.run_for_hook(lifespan.stop(), False)
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=hook, name="ric-shutdown")
    thread.start()
    thread.join()
    return raised


def test_off_never_calls_the_app_and_modes_are_checked(loop: EventLoop) -> None:
    lifespan = Lifespan(raw("raise"), "off")
    loop.run(lifespan.ready())
    assert lifespan.phase == "unsupported"
    with pytest.raises(ValueError, match="lifespan must be one of auto, on, off"):
        Lifespan(raw(), "yes")
