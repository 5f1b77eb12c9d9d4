"""The function log: runtime output and the platform's START / END / REPORT lines.

Lines go to the emulator's output prefixed with the function name, and are
kept per invocation for ``X-Amz-Log-Type: Tail`` (the last 4 KB, base64), as
"Working with Lambda function logs" describes
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-logs.html).
"""

from __future__ import annotations

import base64
import math
import sys
import threading
from typing import TextIO

from emulator.state import Invocation

__all__ = ["TAIL_BYTES", "LogSink", "end_line", "report_line", "start_line", "tail"]

TAIL_BYTES = 4096


class LogSink:
    """Writes whole lines, prefixed with the function name, to one stream."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()

    def write(self, function: str, record: str) -> None:
        """One record; each line of a multi-line record gets the prefix."""
        text = "".join(f"[{function}] {line}\n" for line in record.split("\n"))
        with self._lock:
            self._stream.write(text)
            self._stream.flush()


def start_line(invocation: Invocation, version: str) -> str:
    return f"START RequestId: {invocation.request_id} Version: {version}"


def end_line(invocation: Invocation) -> str:
    return f"END RequestId: {invocation.request_id}"


def report_line(
    invocation: Invocation, memory_mb: int, max_used_mb: int, init_ms: float | None
) -> str:
    duration = invocation.duration_ms
    fields = [
        f"REPORT RequestId: {invocation.request_id}",
        f"Duration: {duration:.2f} ms",
        # Billed in whole milliseconds, rounded up.
        f"Billed Duration: {max(1, math.ceil(duration))} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_used_mb} MB",
    ]
    if init_ms is not None:
        fields.append(f"Init Duration: {init_ms:.2f} ms")
    return "\t".join(fields)


def tail(lines: list[str]) -> str:
    """The last 4 KB of an invocation's log, base64 (``X-Amz-Log-Result``)."""
    text = "".join(f"{line}\n" for line in lines).encode("utf-8", "replace")
    return base64.b64encode(text[-TAIL_BYTES:]).decode("ascii")
