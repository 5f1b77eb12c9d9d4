"""ric.snapstart over FakeTransport: hook order around restore/next, failures, wire bytes."""

from __future__ import annotations

import io
import json
import re
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from ric.client import Retry, RuntimeClient
from ric.errors import TransportError
from ric.log import LogSink
from ric.protocol import ErrorReport, RequestBuilder
from ric.snapstart import (
    Hooks,
    package_hooks,
    register_after_restore,
    register_before_snapshot,
    registry,
    snapshot,
)
from ric.transport import FakeTransport
from ric.wire import Response

BUILDER = RequestBuilder("127.0.0.1:9001", "ua")
RESTORED = Response(200, {}, b"")
ACCEPTED = Response(202, {}, b'{"status":"OK"}')
# A registered hook, as ric.snapstart and snapshot_restore_py keep it.
Hook = tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]
RESTORE_NEXT = b"GET /2018-06-01/runtime/restore/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUser-Agent: ua\r\n\r\n"


class Timeline(FakeTransport):
    """A FakeTransport that also notes each request line in a shared timeline."""

    def __init__(self, script: list[Response | TransportError], events: list[str]) -> None:
        super().__init__(script)
        self.events = events

    def send(self, parts: Sequence[bytes]) -> None:
        self.events.append(parts[0].split(b" HTTP/1.1")[0].decode())
        super().send(parts)


class Lines(io.StringIO):
    """A text stream that keeps each write."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def write(self, text: str) -> int:
        self.lines.append(text)
        return len(text)


def sink_of(log: list[str]) -> LogSink:
    return LogSink(stream=Lines(log))


def make_client(
    *script: Response | TransportError,
) -> tuple[RuntimeClient, Timeline, list[str], list[str]]:
    events: list[str] = []
    transport = Timeline(list(script), events)
    log: list[str] = []
    client = RuntimeClient(transport, BUILDER, log.append, Retry(attempts=3, first_delay=0))
    return client, transport, events, log


def noting(events: list[str], name: str) -> Callable[..., None]:
    def hook(*args: object, **kwargs: object) -> None:
        events.append(f"{name}{args}{kwargs}" if args or kwargs else name)

    return hook


def boom() -> None:
    raise ValueError("boom")


def test_restore_next_bytes() -> None:
    assert BUILDER.restore_next == RESTORE_NEXT


def test_restore_error_bytes() -> None:
    report = ErrorReport("Runtime.AfterRestoreError", b'{"errorType": "X"}')
    assert b"".join(BUILDER.restore_error(report)) == (
        b"POST /2018-06-01/runtime/restore/error HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9001\r\nUser-Agent: ua\r\n"
        b"Lambda-Runtime-Function-Error-Type: Runtime.AfterRestoreError\r\n"
        b"Content-Type: application/json\r\nContent-Length: 18\r\n\r\n"
        b'{"errorType": "X"}'
    )


def test_hooks_run_in_order_around_restore_next() -> None:
    client, transport, events, log = make_client(RESTORED)
    hooks = Hooks()
    for name in ("b1", "b2", "b3"):
        hooks.register_before_snapshot(noting(events, name))
    for name in ("a1", "a2", "a3"):
        hooks.register_after_restore(noting(events, name))
    assert snapshot(client, sink_of(log), [hooks]) is None
    assert events == ["b3", "b2", "b1", "GET /2018-06-01/runtime/restore/next", "a1", "a2", "a3"]
    assert transport.sent == [RESTORE_NEXT]
    assert log == []


def test_two_registries_nest() -> None:
    client, _, events, log = make_client(RESTORED)
    package, own = Hooks(), Hooks()
    package.register_before_snapshot(noting(events, "pkg-b1"))
    package.register_before_snapshot(noting(events, "pkg-b2"))
    own.register_before_snapshot(noting(events, "ric-b1"))
    own.register_before_snapshot(noting(events, "ric-b2"))
    package.register_after_restore(noting(events, "pkg-a1"))
    own.register_after_restore(noting(events, "ric-a1"))
    package.register_after_restore(noting(events, "pkg-a2"))
    assert snapshot(client, sink_of(log), [package, own]) is None
    assert events == [
        *["ric-b2", "ric-b1", "pkg-b2", "pkg-b1"],
        "GET /2018-06-01/runtime/restore/next",
        *["pkg-a1", "pkg-a2", "ric-a1"],
    ]


def test_args_and_kwargs_are_passed_and_func_returned() -> None:
    client, _, events, log = make_client(RESTORED)
    hooks = Hooks()
    hook = noting(events, "b")
    assert hooks.register_before_snapshot(hook, 1, "two", key=3) is hook
    assert hooks.register_after_restore(noting(events, "a"), x=None) is not hook
    assert snapshot(client, sink_of(log), [hooks]) is None
    assert events == [
        "b(1, 'two'){'key': 3}",
        "GET /2018-06-01/runtime/restore/next",
        "a(){'x': None}",
    ]


def test_before_snapshot_failure_is_posted_to_init_error_and_exits_64() -> None:
    client, transport, events, log = make_client(ACCEPTED)
    hooks = Hooks()
    hooks.register_before_snapshot(noting(events, "never"))
    hooks.register_before_snapshot(boom)
    hooks.register_after_restore(noting(events, "never"))
    assert snapshot(client, sink_of(log), [hooks]) == 64
    assert events == ["POST /2018-06-01/runtime/init/error"]
    (request,) = transport.sent
    head, body = request.split(b"\r\n\r\n", 1)
    assert b"\r\nLambda-Runtime-Function-Error-Type: Runtime.BeforeSnapshotError\r\n" in head
    report = json.loads(body)
    assert list(report) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert (report["errorMessage"], report["errorType"], report["requestId"]) == (
        "boom",
        "ValueError",
        "",
    )
    # The user's frame only: the runtime's own frames are dropped.
    assert report["stackTrace"] == [
        f'  File "{__file__}", line {boom.__code__.co_firstlineno + 1}, in boom\n'
        '    raise ValueError("boom")\n'
    ]
    assert log == [
        "[ERROR] ValueError: boom\rTraceback (most recent call last):\r"
        f'\xa0\xa0File "{__file__}", line {boom.__code__.co_firstlineno + 1}, in boom\r'
        '\xa0\xa0\xa0\xa0raise ValueError("boom")\n'
    ]


def test_after_restore_failure_is_posted_to_restore_error_and_exits_65() -> None:
    client, transport, events, log = make_client(RESTORED, ACCEPTED)
    hooks = Hooks()
    hooks.register_after_restore(noting(events, "a1"))
    hooks.register_after_restore(lambda: 1 / 0)
    hooks.register_after_restore(noting(events, "never"))
    assert snapshot(client, sink_of(log), [hooks]) == 65
    assert events == [
        "GET /2018-06-01/runtime/restore/next",
        "a1",
        "POST /2018-06-01/runtime/restore/error",
    ]
    head, body = transport.sent[1].split(b"\r\n\r\n", 1)
    assert head.startswith(b"POST /2018-06-01/runtime/restore/error HTTP/1.1\r\n")
    assert b"\r\nLambda-Runtime-Function-Error-Type: Runtime.AfterRestoreError\r\n" in head
    report = json.loads(body)
    assert (report["errorType"], report["errorMessage"]) == (
        "ZeroDivisionError",
        "division by zero",
    )
    assert log[0].startswith("[ERROR] ZeroDivisionError: division by zero\rTraceback")


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (Response(500, {}, b"busy"), "restore/error answered HTTP 500: busy"),
        (TransportError("reset"), "reset"),
    ],
)
def test_undelivered_report_is_logged_and_the_exit_status_kept(
    failure: Response | TransportError, message: str
) -> None:
    client, _, _, log = make_client(RESTORED, failure)
    hooks = Hooks()
    hooks.register_after_restore(boom)
    assert snapshot(client, sink_of(log), [hooks]) == 65
    assert len(log) == 2
    assert re.fullmatch(
        rf"\[ERROR\] \[\d+\] LAMBDA_RUNTIME Runtime.AfterRestoreError not delivered: {message}\n",
        log[1],
    )


def test_restore_next_5xx_is_retried_then_exits_1() -> None:
    client, transport, events, log = make_client(
        Response(500, {}, b"a"), TransportError("reset"), Response(503, {}, b"busy")
    )
    hooks = Hooks()
    hooks.register_after_restore(noting(events, "never"))
    assert snapshot(client, sink_of(log), [hooks]) == 1
    assert transport.sent == [RESTORE_NEXT] * 3
    assert "never" not in events
    assert re.fullmatch(
        r"\[WARNING\] \[\d+\] LAMBDA_RUNTIME restore/next failed \(HTTP 500: a\); retry in 0 s\n",
        log[0],
    )
    assert re.fullmatch(
        r"\[ERROR\] \[\d+\] LAMBDA_RUNTIME restore/next failed 3 times, giving up: HTTP 503: busy\n",
        log[-1],
    )


def test_restore_next_4xx_is_not_retried() -> None:
    client, transport, _, log = make_client(Response(404, {}, b"nope"))
    assert snapshot(client, sink_of(log), [Hooks()]) == 1
    assert transport.sent == [RESTORE_NEXT]
    assert re.fullmatch(
        r"\[ERROR\] \[\d+\] LAMBDA_RUNTIME restore/next answered HTTP 404: nope\n", log[0]
    )


@pytest.fixture
def own_registry() -> Iterator[Hooks]:
    """The process-wide registry, emptied again after the test."""
    hooks = registry()
    yield hooks
    hooks.before_snapshot.clear()
    hooks.after_restore.clear()


def test_module_functions_fill_the_process_registry(own_registry: Hooks) -> None:
    @register_before_snapshot
    def before() -> None: ...

    def after(a: int, b: int = 0) -> None: ...

    assert register_after_restore(after, 1, b=2) is after
    assert own_registry.before_snapshot == [(before, (), {})]
    assert own_registry.after_restore == [(after, (1,), {"b": 2})]


def fake_package(before: list[Hook], after: list[Hook]) -> types.ModuleType:
    module = types.ModuleType("snapshot_restore_py")
    module.get_before_snapshot = lambda: before  # type: ignore[attr-defined]
    module.get_after_restore = lambda: after  # type: ignore[attr-defined]
    return module


def test_default_registries_are_the_package_then_ric(
    own_registry: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _, events, log = make_client(RESTORED)
    before: list[Hook] = [(noting(events, "pkg-b"), (), {})]
    after: list[Hook] = [(noting(events, "pkg-a"), (), {})]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake_package(before, after))
    register_before_snapshot(noting(events, "ric-b"))
    register_after_restore(noting(events, "ric-a"))
    assert snapshot(client, sink_of(log)) is None
    assert events == [
        "ric-b",
        "pkg-b",
        "GET /2018-06-01/runtime/restore/next",
        "pkg-a",
        "ric-a",
    ]


def test_package_hooks_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "snapshot_restore_py", raising=False)
    hooks = package_hooks()
    assert (hooks.before_snapshot, hooks.after_restore) == ([], [])
    assert "snapshot_restore_py" not in sys.modules  # looked up, never imported


def test_package_hooks_share_the_packages_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    before: list[Hook] = []
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake_package(before, []))
    hooks = package_hooks()
    later: Hook = (boom, (), {})
    before.append(later)
    assert hooks.before_snapshot == [later]
