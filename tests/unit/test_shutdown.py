"""ric.shutdown and ric.extensions: hooks, and the extension's requests on the wire."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import ric
from ric.aio import LoopBusy
from ric.errors import MalformedResponse, UnexpectedStatus
from ric.extensions import ExtensionRequests, identifier
from ric.shutdown import HOOKS, Hooks
from ric.wire import Response


def test_register_request_bytes() -> None:
    head, body = ExtensionRequests("127.0.0.1:9001").register("ric-graceful-shutdown")
    assert head == (
        b"POST /2020-01-01/extension/register HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n"
        b"Lambda-Extension-Name: ric-graceful-shutdown\r\nContent-Type: application/json\r\n"
        b"Content-Length: 13\r\n\r\n"
    )
    assert body == b'{"events":[]}'


def test_next_event_request_bytes() -> None:
    assert ExtensionRequests("h:1").next_event("id-9") == (
        b"GET /2020-01-01/extension/event/next HTTP/1.1\r\nHost: h:1\r\n"
        b"Lambda-Extension-Identifier: id-9\r\n\r\n"
    )


def test_identifier_of_the_register_answer() -> None:
    answer = Response(200, {"lambda-extension-identifier": "id-1"}, b"{}")
    assert identifier(answer) == "id-1"
    with pytest.raises(MalformedResponse):
        identifier(Response(200, {}, b"{}"))
    with pytest.raises(UnexpectedStatus) as info:
        identifier(Response(404, {}, b"nope"))
    assert info.value.status == 404


def test_hooks_run_last_first_and_survive_a_failure() -> None:
    hooks = Hooks()
    ran: list[str] = []
    log: list[str] = []
    hooks.add(lambda: ran.append("first"))
    hooks.add(lambda: 1 / 0)
    hooks.add(lambda: ran.append("third"))
    hooks.run(log.append, never_awaited)
    assert ran == ["third", "first"]
    [line] = log
    assert line.endswith("<lambda> raised ZeroDivisionError('division by zero')\n")


def never_awaited(awaitable: object) -> object:
    raise AssertionError(f"no hook is async here: {awaitable!r}")


def test_what_an_async_hook_returns_is_awaited_and_a_loop_that_cannot_is_logged() -> None:
    hooks = Hooks()
    ran: list[str] = []
    log: list[str] = []

    async def closing() -> None:
        ran.append("closed")

    async def refused() -> None:
        raise AssertionError("never run")

    def awaited(awaitable: Any) -> object:
        if awaitable.__qualname__.endswith("refused"):
            awaitable.close()
            raise LoopBusy("SIGTERM came while an invocation ran on the event loop")
        return asyncio.run(awaitable)

    hooks.add(refused)
    hooks.add(closing)
    hooks.run(log.append, awaited)
    assert ran == ["closed"]
    (line,) = log
    assert line.endswith(
        "refused raised LoopBusy('SIGTERM came while an invocation ran on the event loop')\n"
    )


def test_hooks_refuse_what_cannot_be_called() -> None:
    with pytest.raises(TypeError, match="on_shutdown needs a callable, got int"):
        Hooks().add(5)  # type: ignore[arg-type]


def test_on_shutdown_is_reachable_from_the_package_and_is_a_decorator() -> None:
    before = bool(HOOKS)
    assert not before  # nothing else in the test process registers hooks

    def cleanup() -> None:
        pass

    try:
        assert ric.on_shutdown(cleanup) is cleanup
        assert HOOKS
    finally:
        HOOKS._hooks.clear()
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        ric.nothing  # noqa: B018


def test_snapstart_helpers_are_reachable_from_the_package() -> None:
    from ric import snapstart

    assert ric.register_before_snapshot is snapstart.register_before_snapshot
    assert ric.register_after_restore is snapstart.register_after_restore


class Unshowable(Exception):
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class Nameless:
    """A callable without a __qualname__ whose repr raises."""

    def __call__(self) -> None:
        raise Unshowable()

    def __getattribute__(self, name: str) -> object:
        if name == "__qualname__":
            raise AttributeError(name)
        return object.__getattribute__(self, name)

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_a_hook_whose_exception_cannot_be_shown_is_still_logged() -> None:
    hooks = Hooks()
    log: list[str] = []
    hooks.add(Nameless())
    hooks.run(log.append, never_awaited)
    (line,) = log
    assert line.endswith(
        "shutdown hook <Nameless object: repr() failed> raised <Unshowable object: repr() failed>\n"
    )
