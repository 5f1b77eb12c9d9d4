"""ric.applog: the function's logging records, text and JSON, under threads and tasks."""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ric.applog import DEFAULT_JSON_LEVEL, JsonFormatter, SinkHandler, TextFormatter, install
from ric.config import RuntimeConfig
from ric.context import CURRENT, LambdaContext, Scope, make_context
from ric.log import LogSink
from ric.protocol import parse_invocation
from ric.wire import Response

CONFIG = RuntimeConfig("127.0.0.1:9001", "app.handler", "/var/task", {})
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def context(request_id: str, **headers: str) -> LambdaContext:
    headers = {"lambda-runtime-aws-request-id": request_id, **headers}
    return make_context(parse_invocation(Response(200, headers, b"{}")), CONFIG)


class Captured:
    def __init__(self, json_format: bool) -> None:
        self.stream = io.StringIO()
        self.scope = Scope()
        sink = LogSink(json=json_format, stream=self.stream)
        self.handler = SinkHandler(sink)
        formatter = JsonFormatter if json_format else TextFormatter
        self.handler.setFormatter(formatter(self.scope.current))
        self.logger = logging.getLogger(f"ric-test-{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)
        self.logger.addHandler(self.handler)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def objects(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines()]


@pytest.fixture
def text_log() -> Iterator[Captured]:
    captured = Captured(json_format=False)
    yield captured
    captured.logger.removeHandler(captured.handler)


@pytest.fixture
def json_log() -> Iterator[Captured]:
    captured = Captured(json_format=True)
    yield captured
    captured.logger.removeHandler(captured.handler)


def in_invocation(request_id: str, action: Any, **headers: str) -> None:
    token = CURRENT.set(context(request_id, **headers))
    try:
        action()
    finally:
        CURRENT.reset(token)


def test_text_line(text_log: Captured) -> None:
    in_invocation("rid-1", lambda: text_log.logger.warning("hello %s", "you"))
    assert re.fullmatch(rf"\[WARNING\]\t{TIMESTAMP}\trid-1\thello you\n", text_log.text)


def test_text_line_during_init_has_an_empty_request_id(text_log: Captured) -> None:
    text_log.logger.info("init")
    assert re.fullmatch(rf"\[INFO\]\t{TIMESTAMP}\t\tinit\n", text_log.text)


def test_text_exception_is_one_record_ending_with_a_newline(text_log: Captured) -> None:
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        text_log.logger.exception("failed")
    text_log.logger.info("next")
    first, second = text_log.text.split("[INFO]")
    assert first.startswith("[ERROR]\t")
    assert "\tfailed\nTraceback (most recent call last):\n" in first
    assert first.endswith("ZeroDivisionError: division by zero\n")
    assert second.endswith("\tnext\n")


def test_one_frame_per_record_with_a_traceback(tmp_path: Any) -> None:
    import os

    read, write = os.pipe()
    logger = logging.getLogger("ric-test-frames")
    handler = SinkHandler(LogSink(write))
    handler.setFormatter(TextFormatter(Scope().current))
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise KeyError("k")
        except KeyError:
            logger.error("multi\nline", exc_info=True)
    finally:
        logger.removeHandler(handler)
        os.close(write)
    data = os.read(read, 65536)
    os.close(read)
    assert data[:4] == b"\xa5\x5a\x00\x17"
    assert int.from_bytes(data[4:8], "big") == len(data) - 16
    assert data[16:].decode().endswith("KeyError: 'k'\n")


def test_json_record_fields(json_log: Captured) -> None:
    in_invocation("rid-2", lambda: json_log.logger.warning("w %d", 1, extra={"order": 7}))
    [record] = json_log.objects()
    assert re.fullmatch(TIMESTAMP, record.pop("timestamp"))
    assert record == {
        "level": "WARNING",
        "message": "w 1",
        "logger": json_log.logger.name,
        "requestId": "rid-2",
        "order": 7,
    }


def test_json_dict_message_stays_an_object_and_tenant_is_shown(json_log: Captured) -> None:
    headers = {"lambda-runtime-aws-tenant-id": "tenant-a"}
    in_invocation("rid-3", lambda: json_log.logger.info({"a": [1, 2]}), **headers)
    [record] = json_log.objects()
    assert record["message"] == {"a": [1, 2]}
    assert record["tenantId"] == "tenant-a"


def test_json_exception_fields(json_log: Captured) -> None:
    def fail() -> None:
        raise ValueError("bad")

    try:
        fail()
    except ValueError:
        json_log.logger.exception("caught")
    [record] = json_log.objects()
    assert (record["errorType"], record["errorMessage"]) == ("ValueError", "bad")
    assert 'raise ValueError("bad")' in record["stackTrace"][-1]
    path, function, line = record["location"].rsplit(":", 2)
    assert (path, function, line.isdigit()) == (__file__, "test_json_exception_fields", True)


def test_json_unserialisable_values_never_break_logging(json_log: Captured) -> None:
    class Opaque:
        def __str__(self) -> str:
            return "opaque!"

    circular: list[Any] = []
    circular.append(circular)
    json_log.logger.warning("x", extra={"thing": Opaque(), "items": {1, 2} - {1}})
    json_log.logger.warning("y", extra={"loop": circular})
    first, second = json_log.objects()
    assert (first["thing"], first["items"]) == ("opaque!", "{2}")
    assert (second["message"], second["loop"]) == ("y", "[[...]]")


def test_request_ids_under_threads(text_log: Captured) -> None:
    barrier = threading.Barrier(2)

    def work(request_id: str) -> None:
        def log() -> None:
            barrier.wait()
            text_log.logger.warning("from %s", request_id)

        in_invocation(request_id, log)

    threads = [threading.Thread(target=work, args=(rid,)) for rid in ("t-1", "t-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = text_log.text.splitlines()
    assert sorted(line.split("\t", 2)[2] for line in lines) == ["t-1\tfrom t-1", "t-2\tfrom t-2"]


def test_request_ids_under_asyncio_tasks(text_log: Captured) -> None:
    async def invocation(request_id: str, first: asyncio.Event, second: asyncio.Event) -> None:
        CURRENT.set(context(request_id))
        first.set()
        await second.wait()  # both tasks have set their own id before either logs
        text_log.logger.warning("from %s", request_id)

    async def main() -> None:
        one, two = asyncio.Event(), asyncio.Event()
        await asyncio.gather(invocation("a-1", one, two), invocation("a-2", two, one))

    contextvars.copy_context().run(asyncio.run, main())
    lines = text_log.text.splitlines()
    assert sorted(line.split("\t", 2)[2] for line in lines) == ["a-1\tfrom a-1", "a-2\tfrom a-2"]


def test_thread_without_context_gets_the_latest_invocation(text_log: Captured) -> None:
    text_log.scope.latest = context("latest")
    thread = threading.Thread(target=text_log.logger.warning, args=("bg",))
    thread.start()
    thread.join()
    assert "\tlatest\tbg\n" in text_log.text


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(
    ("json_format", "level", "root_level", "shown"),
    [
        (False, None, logging.WARNING, ["warning", "error"]),
        (True, None, DEFAULT_JSON_LEVEL, ["info", "warning", "error"]),
        (False, 40, 40, ["error"]),
        (True, 10, 10, ["debug", "info", "warning", "error"]),
    ],
    ids=["text", "json", "text-error", "json-debug"],
)
def test_install_sets_the_level(
    root_logger: logging.Logger,
    json_format: bool,
    level: int | None,
    root_level: int,
    shown: list[str],
) -> None:
    stream = io.StringIO()
    root_logger.handlers.clear()
    root_logger.setLevel(logging.WARNING)  # Python's own default
    install(LogSink(json=json_format, stream=stream), Scope().current, level)
    assert root_logger.level == root_level
    for name in ("debug", "info", "warning", "error"):
        getattr(logging.getLogger("ric-test-child"), name)(name)
    lines = stream.getvalue().splitlines()
    messages = [
        json.loads(line)["message"] if json_format else line.split("\t")[-1] for line in lines
    ]
    assert messages == shown


def test_basic_config_after_install_prints_nothing_twice(root_logger: logging.Logger) -> None:
    stream = io.StringIO()
    root_logger.handlers.clear()
    install(LogSink(stream=stream), Scope().current, None)
    logging.basicConfig(level=logging.INFO)
    logging.warning("once")
    assert stream.getvalue().count("once") == 1
    assert len(root_logger.handlers) == 1


def test_json_dict_message_with_keys_json_cannot_hold(json_log: Captured) -> None:
    json_log.logger.warning({(1, 2): "pair"})
    [record] = json_log.objects()
    assert record["message"] == "{(1, 2): 'pair'}"
    assert record["level"] == "WARNING"
