"""A streamed response's limits and endings, with an in-process emulator of small limits."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from emulator.config import FunctionConfig, UrlConfig, bootstrap_command
from emulator.core.events import InvokeEnded, LogLine
from emulator.core.invocation import OutcomeKind
from emulator.core.streaming import StreamLimits
from emulator.http import Limits
from tests.emulator.inprocess import InProcessEmulator

# botocore (a dev dependency, without type hints) reads the frames back.
botocore_eventstream = pytest.importorskip("botocore.eventstream")
RUNTIME = Path(__file__).resolve().parent / "streaming_runtime.py"
STREAM_PATH = "/2021-11-15/functions/fn/response-streaming-invocations"
INVOKE_PATH = "/2015-03-31/functions/fn/invocations"


def function(tmp_path: Path) -> FunctionConfig:
    return FunctionConfig(
        name="fn",
        command=(sys.executable, str(RUNTIME)),
        code_dir=str(tmp_path),
        timeout_s=30,
        concurrency=1,
    )


def frames(data: bytes) -> list[tuple[str, bytes]]:
    """(event type, payload) of each event-stream message in ``data``."""
    buffer = botocore_eventstream.EventStreamBuffer()
    buffer.add_data(data)
    return [(str(m.headers[":event-type"]), bytes(m.payload)) for m in buffer]


def event(**fields: object) -> bytes:
    return json.dumps({"style": "node", **fields}).encode()


def test_a_stream_past_the_limit_is_cut_off_there(tmp_path: Path) -> None:
    limits = StreamLimits(limit=10)
    with InProcessEmulator((function(tmp_path),), streaming=limits) as emulator:
        body = event(chunks=["12345", "67890", "abcde"])
        response = httpx.post(emulator.url + STREAM_PATH, content=body, timeout=30)
    chunks = frames(response.content)
    sent = b"".join(payload for kind, payload in chunks if kind == "PayloadChunk")
    assert sent == b"1234567890"
    kind, complete = chunks[-1]
    assert kind == "InvokeComplete"
    assert json.loads(complete)["ErrorCode"] == "Function.ResponseSizeTooLarge"


def test_past_the_burst_chunks_are_held_back_but_all_arrive(tmp_path: Path) -> None:
    limits = StreamLimits(burst=1, rate=1e9)
    with InProcessEmulator((function(tmp_path),), streaming=limits) as emulator:
        body = event(chunks=["a", "b", "c"])
        response = httpx.post(emulator.url + STREAM_PATH, content=body, timeout=30)
    assert [payload for _, payload in frames(response.content)] == [b"a", b"b", b"c", b"{}"]


def test_a_caller_that_hangs_up_mid_stream_leaves_the_environment_serving(
    tmp_path: Path,
) -> None:
    with InProcessEmulator((function(tmp_path),)) as emulator:
        body = event(chunks=["first", "second"], gate=str(tmp_path))
        with httpx.stream("POST", emulator.url + STREAM_PATH, content=body, timeout=30) as stream:
            first = next(stream.iter_raw())
            assert frames(first) == [("PayloadChunk", b"first")]
        (tmp_path / "1").touch()  # the runtime sends the rest to a caller that has gone
        ended = emulator.wait_for(lambda e: isinstance(e, InvokeEnded))
        assert isinstance(ended, InvokeEnded) and ended.outcome is OutcomeKind.RESPONSE
        again = httpx.post(emulator.url + STREAM_PATH, content=event(chunks=["x"]), timeout=30)
    assert frames(again.content) == [("PayloadChunk", b"x"), ("InvokeComplete", b"{}")]


@pytest.mark.parametrize("path", [STREAM_PATH, INVOKE_PATH])
def test_a_stream_that_outlives_its_timeout_is_refused_and_its_worker_comes_back(
    tmp_path: Path, path: str
) -> None:
    # With max_concurrency above 1 a timeout fails only the invocation: its worker,
    # still streaming, must be told (410) so that it comes back for the next event
    # before the environment gives up on it and ends it with those beside it.
    lmi = replace(function(tmp_path), timeout_s=2, max_concurrency=2)
    with InProcessEmulator((lmi,)) as emulator:
        body = event(chunks=["begun", "on"], gate=str(tmp_path), endless="on")
        response = httpx.post(emulator.url + path, content=body, timeout=30)
        if path == STREAM_PATH:
            kind, complete = frames(response.content)[-1]
            assert kind == "InvokeComplete"
            assert json.loads(complete)["ErrorCode"] == "Sandbox.Timedout"
        else:  # the classic Invoke API, which collects the stream
            assert response.json()["errorType"] == "Sandbox.Timedout"
        (tmp_path / "1").touch()  # only now does the runtime stream on, and on
        answered = emulator.wait_for(
            lambda e: isinstance(e, LogLine) and e.text.startswith("stream answered")
        )
        assert isinstance(answered, LogLine) and "stream answered 410" in answered.text
        again = httpx.post(emulator.url + STREAM_PATH, content=event(chunks=["x"]), timeout=30)
        assert frames(again.content) == [("PayloadChunk", b"x"), ("InvokeComplete", b"{}")]
        ends = [e for e in emulator.events if isinstance(e, InvokeEnded)]
    assert [e.where.environment for e in ends] == [1, 1]


BIG_PAGE = """
import ric

def page(event, context):
    status = int(event.get("queryStringParameters", {}).get("status", "200"))
    return ric.HttpStream((b"x" * 65536 for _ in range(16)), status_code=status)
"""


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("GET", 204)])
def test_a_url_answer_without_a_body_never_holds_the_stream_up(
    tmp_path: Path, method: str, status: int
) -> None:
    # The answer has no body to send (a HEAD request, a 204): the function's
    # 1 MiB stream, more than the relay holds for a caller, must still end.
    (tmp_path / "app.py").write_text(BIG_PAGE)
    url = UrlConfig(0, "RESPONSE_STREAM")
    page = FunctionConfig(
        name="page",
        command=bootstrap_command("app.page"),
        code_dir=str(tmp_path),
        timeout_s=30,
        url=url,
    )
    with InProcessEmulator((page,)) as emulator:
        address = emulator.function_urls["page"]
        response = httpx.request(method, f"{address}?status={status}", timeout=30)
        assert (response.status_code, response.content) == (status, b"")
        ended = emulator.wait_for(lambda e: isinstance(e, InvokeEnded))
    assert isinstance(ended, InvokeEnded) and ended.outcome is OutcomeKind.RESPONSE


@pytest.mark.slow
def test_a_stream_may_pause_longer_than_the_http_servers_timeouts(tmp_path: Path) -> None:
    # Only the function's timeout bounds a pause in a stream (an agent's long tool
    # call between two updates), as in Lambda; not the 120 s body timeout of HTTP.
    patient = replace(function(tmp_path), timeout_s=300)
    with InProcessEmulator((patient,)) as emulator:
        body = event(chunks=["first", "second"], gate=str(tmp_path), patience=300)
        with httpx.stream("POST", emulator.url + STREAM_PATH, content=body, timeout=300) as stream:
            raw = stream.iter_raw()
            assert frames(next(raw)) == [("PayloadChunk", b"first")]
            time.sleep(Limits().body_timeout_s + 5)  # the pause itself is what is tested
            (tmp_path / "1").touch()
            rest = b"".join(raw)
    assert frames(rest) == [("PayloadChunk", b"second"), ("InvokeComplete", b"{}")]
