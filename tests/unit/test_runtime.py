"""ric.runtime.Runtime: init, then serve, over FakeTransport with a real handler module."""

from __future__ import annotations

import gc
import io
import json
import logging
from collections.abc import Iterator

import pytest

from ric.client import Retry, RuntimeClient
from ric.config import RuntimeConfig
from ric.log import LogSink
from ric.protocol import RequestBuilder
from ric.runtime import Runtime
from ric.transport import FakeTransport
from ric.wire import Response
from tests.conftest import TaskRoot

ACCEPTED = Response(202, {}, b'{"status":"OK"}')
EVENT = Response(
    200,
    {"lambda-runtime-aws-request-id": "r1", "content-type": "application/json"},
    b'{"n": 1}',
)


@pytest.fixture(autouse=True)
def root_logger() -> Iterator[None]:
    """init() gives the root logger its handler (logging is imported here): taken back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def runtime(
    task_root: TaskRoot, handler: str, *script: Response
) -> tuple[Runtime, FakeTransport, io.StringIO]:
    transport = FakeTransport(script)
    out = io.StringIO()
    sink = LogSink(stream=out)
    requests = RequestBuilder("127.0.0.1:9001", "ua")
    client = RuntimeClient(transport, requests, sink.text, Retry(attempts=1))
    config = RuntimeConfig("127.0.0.1:9001", handler, task_root.root, {})
    return Runtime(config, client, sink, {}, "/cwd"), transport, out


def test_init_then_serve(task_root: TaskRoot) -> None:
    task_root.write(
        f"{task_root.name}.py", "def handler(event, context):\n    return event['n'] + 1\n"
    )
    served, transport, out = runtime(task_root, f"{task_root.name}.handler", EVENT, ACCEPTED)
    assert served.init() is None
    assert served.serve(max_invocations=1) == 0
    assert transport.sent[-1].endswith(b"\r\n\r\n2")
    assert out.getvalue() == ""


def test_init_failure_is_reported_with_the_given_status(task_root: TaskRoot) -> None:
    failing, transport, out = runtime(task_root, f"{task_root.name}_missing.handler", ACCEPTED)
    assert failing.run(init_failed=78) == 78
    (posted,) = transport.sent
    assert posted.startswith(b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\n")
    body = json.loads(posted.partition(b"\r\n\r\n")[2])
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert out.getvalue().startswith("[ERROR] Runtime.ImportModuleError: Unable to import module")


def test_serve_ends_with_1_when_the_runtime_api_fails(task_root: TaskRoot) -> None:
    task_root.write(f"{task_root.name}.py", "def handler(event, context):\n    return 1\n")
    served, _, out = runtime(task_root, f"{task_root.name}.handler")
    assert served.run() == 1
    assert "LAMBDA_RUNTIME invocation/next failed 1 times, giving up" in out.getvalue()


def test_serve_needs_init(task_root: TaskRoot) -> None:
    served, _, _ = runtime(task_root, "x.handler")
    with pytest.raises(RuntimeError, match="init"):
        served.serve()


@pytest.fixture(autouse=True)
def collector() -> Iterator[None]:
    """init() freezes what the process holds: the test's objects are given back to the collector."""
    yield
    gc.unfreeze()
    gc.enable()


def test_the_handler_is_imported_without_collections_then_frozen(task_root: TaskRoot) -> None:
    task_root.write(
        f"{task_root.name}.py",
        """
        import gc

        collections = []
        gc.callbacks.append(lambda phase, info: collections.append(phase))
        # As an application's imports do: objects by the ten thousand, all kept.
        KEPT = [{"n": [n]} for n in range(50_000)]
        gc.callbacks.pop()

        def handler(event, context):
            return len(collections)
        """,
    )
    served, transport, _ = runtime(task_root, f"{task_root.name}.handler", EVENT, ACCEPTED)
    before = gc.get_freeze_count()
    assert served.init() is None
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + 50_000  # init's objects, out of the collector's way
    assert served.serve(max_invocations=1) == 0
    assert transport.sent[-1].endswith(b"\r\n\r\n0")  # no collection ran during the import
