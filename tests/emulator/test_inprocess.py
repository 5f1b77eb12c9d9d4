"""The emulator in the test's own process: its lifecycle events, one stream for all."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from emulator.config import FunctionConfig, bootstrap_command
from emulator.core.events import InvokeEnded, InvokeStarted, LogLine
from emulator.core.invocation import OutcomeKind
from tests.emulator.harness import invoke_path
from tests.emulator.inprocess import InProcessEmulator

APP = """
def handler(event, context):
    print("hello from", context.aws_request_id)
    if event.get("fail"):
        raise ValueError("no")
    return event
"""


@pytest.fixture
def function(tmp_path: Path) -> FunctionConfig:
    (tmp_path / "app.py").write_text(APP)
    return FunctionConfig(
        name="fn", command=bootstrap_command("app.handler"), code_dir=str(tmp_path)
    )


def test_an_invocation_is_started_logged_and_ended_in_the_event_stream(
    function: FunctionConfig,
) -> None:
    with InProcessEmulator((function,)) as emulator:
        response = httpx.post(emulator.url + invoke_path("fn"), json={"a": 1}, timeout=30)
        request_id = response.headers["x-amzn-requestid"]
        emulator.wait_for(lambda e: isinstance(e, InvokeEnded))
        mine = [e for e in emulator.events if getattr(e, "request_id", None) == request_id]
    assert response.json() == {"a": 1}
    assert [type(e) for e in mine] == [InvokeStarted, LogLine, InvokeEnded]
    line = mine[1]
    assert isinstance(line, LogLine) and line.text == f"hello from {request_id}"
    ended = mine[2]
    assert isinstance(ended, InvokeEnded)
    assert (ended.outcome, ended.where.function, ended.init_ms is not None) == (
        OutcomeKind.RESPONSE,
        "fn",
        True,
    )
    assert f"[fn] END RequestId: {request_id}\n" in emulator.output.getvalue()


def test_a_function_error_is_an_error_outcome(function: FunctionConfig) -> None:
    with InProcessEmulator((function,)) as emulator:
        response = httpx.post(emulator.url + invoke_path("fn"), json={"fail": 1}, timeout=30)
        ended = emulator.wait_for(lambda e: isinstance(e, InvokeEnded))
    assert response.headers["x-amz-function-error"] == "Unhandled"
    assert isinstance(ended, InvokeEnded) and ended.outcome is OutcomeKind.ERROR


def test_an_error_on_the_server_side_fails_the_test(function: FunctionConfig) -> None:
    with pytest.raises(AssertionError, match="the emulator failed on the server side"):  # noqa: SIM117
        with InProcessEmulator((function,)) as emulator:
            emulator.call(_fail).result(10)


async def _fail() -> None:
    # As the HTTP server reports a handler that raised.
    logging.getLogger("emulator.http").error("error answering POST /x")
