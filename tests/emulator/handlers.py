"""The test functions' code: copied into the emulator's code directory as ``handlers.py``.

It runs inside the runtime started by the emulator, never in the test process.
Files named in the event (absolute paths in the test's ``tmp_path``) let a test
see what a handler did and hold it running, without relying on timing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ric

__all__ = [
    "barrier",
    "big_response",
    "boom",
    "context_info",
    "echo",
    "environ",
    "hold",
    "length",
    "misbehave",
    "nap",
    "partial",
    "record",
    "stream_page",
    "stream_words",
    "web",
]

# A handler waits this long at most for a file a test creates, then gives up.
WAIT_LIMIT_S = 10.0


def _publish(path: str, text: str) -> None:
    """Writes ``path`` at once: a test polling for it sees no file or all of it."""
    draft = Path(f"{path}.{uuid.uuid4().hex}.draft")
    draft.write_text(text)
    os.replace(draft, path)


def _wait_for(condition: Any) -> bool:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(condition())


def echo(event: Any, context: Any) -> dict[str, Any]:
    print(f"echo says {json.dumps(event)}", flush=True)
    return {"event": event, "request_id": context.aws_request_id, "pid": os.getpid()}


def stream_words(event: Any, context: Any) -> Iterator[str]:
    """Streams ``words``; each after the first once the file ``{gate}/{i}`` exists.

    With ``fail``, a KeyError after the last word (after the first bytes went).
    """
    for index, word in enumerate(event["words"]):
        gate = event.get("gate")
        if index and gate:
            _wait_for(lambda: os.path.exists(os.path.join(gate, str(index))))  # noqa: B023
        yield word
    if "fail" in event:
        raise KeyError(event["fail"])


def stream_page(event: Any, context: Any) -> ric.HttpStream:
    """A function URL's streamed answer; the request's body names the words."""
    words = json.loads(event["body"])["words"] if event.get("body") else []

    def body() -> Iterator[str]:
        yield f"{event['rawPath']}: "
        yield from words

    return ric.HttpStream(
        body(), status_code=202, headers={"Content-Type": "text/plain"}, cookies=["c=1"]
    )


def web(event: Any, context: Any) -> dict[str, Any]:
    """A function URL's answer: its request echoed in the body, with status and cookies."""
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Path": event["rawPath"]},
        "cookies": ["seen=1; Path=/", "theme=dark"],
        "body": json.dumps(event),
    }


def boom(event: Any, context: Any) -> None:
    raise ValueError("boom")


def environ(event: Any, context: Any) -> dict[str, str]:
    return dict(os.environ)


def context_info(event: Any, context: Any) -> dict[str, Any]:
    """What the context holds of the caller's headers; also written to ``event["file"]``."""
    client_context = context.client_context
    client = client_context.client if client_context else None
    info = {
        "custom": client_context.custom if client_context else None,
        "env": client_context.env if client_context else None,
        "app_title": client.app_title if client else None,
        "tenant_id": context.tenant_id,
        "invoked_function_arn": context.invoked_function_arn,
        "function_name": context.function_name,
        "memory_limit_in_mb": str(context.memory_limit_in_mb),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
    }
    if isinstance(event, dict) and "file" in event:
        _publish(event["file"], json.dumps(info))
    return info


def partial(event: Any, context: Any) -> None:
    """Output without a final newline, as ``context.log`` writes it."""
    sys.stdout.write(f"no newline for {context.aws_request_id}")
    sys.stdout.flush()


def length(event: Any, context: Any) -> int:
    return len(event)


def record(event: Any, context: Any) -> dict[str, bool]:
    """Leaves an empty file named after its request id in ``event["runs"]``, then
    fails if ``event["fail"]``. Empty: a test never reads half a file."""
    folder = Path(event["runs"])
    folder.mkdir(exist_ok=True)
    (folder / f"{context.aws_request_id}.{uuid.uuid4().hex}").touch(exist_ok=False)
    if event.get("fail"):
        raise RuntimeError("recorded, then failed")
    return {"recorded": True}


def hold(event: Any, context: Any) -> dict[str, Any]:
    """Writes its pid to ``running``, then holds its environment until ``release`` exists."""
    _publish(event["running"], str(os.getpid()))
    released = _wait_for(Path(event["release"]).exists)
    if event.get("done"):
        _publish(event["done"], context.aws_request_id)
    return {"pid": os.getpid(), "released": released}


def barrier(event: Any, context: Any) -> dict[str, Any]:
    """Arrives in ``dir`` and waits until ``parties`` invocations have arrived."""
    folder = Path(event["dir"])
    (folder / context.aws_request_id).touch()
    met = _wait_for(lambda: len(list(folder.iterdir())) >= event["parties"])
    return {"pid": os.getpid(), "met": met}


def nap(event: Any, context: Any) -> dict[str, int]:
    time.sleep(event.get("seconds", 0.2))
    return {"pid": os.getpid()}


def misbehave(event: Any, context: Any) -> dict[str, int]:
    """``exit`` now or ``exit_when`` told, ``kill`` itself, or ``hang`` with a child."""
    action = event.get("action")
    if action == "exit":
        os._exit(event["status"])
    if action == "kill":
        if event["signal"] != signal.SIGKILL:
            signal.signal(event["signal"], signal.SIG_DFL)  # no faulthandler: die of it
        os.kill(os.getpid(), event["signal"])
    if action == "exit_when":  # after this invocation, once told to

        def exit_when_told() -> None:
            if _wait_for(Path(event["file"]).exists):
                os._exit(5)

        threading.Thread(target=exit_when_told, daemon=True).start()
    if action == "hang":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        _publish(event["pids"], f"{os.getpid()} {child.pid}")
        time.sleep(60)
    return {"pid": os.getpid()}


def big_response(event: Any, context: Any) -> str:
    return "x" * (7 * 1024 * 1024)
