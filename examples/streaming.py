"""Example streaming functions: a generator of words, and a web page for a function URL.

    python -m emulator streaming.words --code-dir examples --stream-rate 0
    python -m emulator streaming.page --code-dir examples --function-url RESPONSE_STREAM

Each chunk reaches the caller as soon as it is yielded: the pauses show it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import ric


def words(event: dict[str, Any], context: Any) -> Iterator[str]:
    """Streamed as ``application/octet-stream``: each word as it is yielded."""
    for word in event.get("text", "streamed by ric one word at a time").split():
        yield word + "\n"
        time.sleep(float(event.get("pause", 0.3)))


def page(event: dict[str, Any], context: Any) -> ric.HttpStream:
    """A function URL's answer: status, headers and cookies first, then the page as it is made."""

    def body() -> Iterator[str]:
        yield f"<!doctype html><title>ric</title><h1>{event.get('rawPath', '/')}</h1><ol>"
        for n in range(1, 4):
            time.sleep(0.5)
            yield f"<li>chunk {n}, {time.strftime('%H:%M:%S')}</li>\n"
        yield "</ol>"

    return ric.HttpStream(
        body(), headers={"Content-Type": "text/html; charset=utf-8"}, cookies=["visited=1"]
    )
