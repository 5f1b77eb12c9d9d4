"""Function logs from the lifecycle events: lines on the emulator's output, and tails.

The lines are Lambda's ("Working with Lambda function logs":
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-logs.html): START, the
function's own lines, END and REPORT (with Init Duration on an environment's
first invocation), INIT_REPORT for a failed init. On the output each line is
prefixed with the function's name; ``X-Amz-Log-Type: Tail`` gets the last 4 KB
of an invocation's lines, base64, and never a line of another invocation.
"""

from __future__ import annotations

import base64
import collections
import math

from emulator.core.events import (
    Event,
    InitReport,
    InvokeEnded,
    InvokeStarted,
    LogLine,
    Notice,
)
from emulator.core.invocation import OutcomeKind
from emulator.observe.sink import LogSink

__all__ = [
    "TAIL_BYTES",
    "LogPrinter",
    "Tails",
    "end_line",
    "init_report_line",
    "lines",
    "report_line",
    "start_line",
]

TAIL_BYTES = 4096


def start_line(event: InvokeStarted) -> str:
    return f"START RequestId: {event.request_id} Version: {event.where.version}"


def end_line(event: InvokeEnded) -> str:
    return f"END RequestId: {event.request_id}"


def report_line(event: InvokeEnded) -> str:
    fields = [
        f"REPORT RequestId: {event.request_id}",
        f"Duration: {event.duration_ms:.2f} ms",
        # Billed in whole milliseconds, rounded up.
        f"Billed Duration: {max(1, math.ceil(event.duration_ms))} ms",
        f"Memory Size: {event.memory_mb} MB",
        f"Max Memory Used: {event.max_memory_used_mb} MB",
    ]
    if event.init_ms is not None:
        fields.append(f"Init Duration: {event.init_ms:.2f} ms")
    if event.outcome is OutcomeKind.TIMEOUT:
        fields.append("Status: timeout")
    elif event.error_type is not None:
        fields += ["Status: error", f"Error Type: {event.error_type}"]
    return "\t".join(fields)


def init_report_line(event: InitReport) -> str:
    duration = f"{event.duration_ms:.2f}"
    line = f"INIT_REPORT Init Duration: {duration} ms\tPhase: init\tStatus: {event.status}"
    if event.error_type is not None:
        line += f"\tError Type: {event.error_type}"
    return line


def lines(event: Event) -> list[str]:
    """The log lines an event makes."""
    if isinstance(event, InvokeStarted):
        return [start_line(event)]
    if isinstance(event, (LogLine, Notice)):
        return [event.text]
    if isinstance(event, InvokeEnded):
        return [end_line(event), report_line(event)]
    return [init_report_line(event)]


class LogPrinter:
    """Every event's lines on the emulator's output, prefixed ``[function] ``."""

    def __init__(self, sink: LogSink) -> None:
        self._sink = sink

    def __call__(self, event: Event) -> None:
        name = event.function if isinstance(event, Notice) else event.where.function
        text = "".join(f"[{name}] {part}\n" for line in lines(event) for part in line.split("\n"))
        self._sink.write(text)


class _Tail:
    """The last :data:`TAIL_BYTES` of one invocation's log, kept as it grows."""

    def __init__(self) -> None:
        self._parts: collections.deque[bytes] = collections.deque()
        self._size = 0

    def add(self, line: str) -> None:
        data = (line + "\n").encode("utf-8", "replace")[-TAIL_BYTES:]
        self._parts.append(data)
        self._size += len(data)
        while self._size - len(self._parts[0]) >= TAIL_BYTES:
            self._size -= len(self._parts.popleft())

    def text(self) -> str:
        return base64.b64encode(b"".join(self._parts)[-TAIL_BYTES:]).decode("ascii")


class Tails:
    """The log tails of the invocations whose callers asked for one."""

    def __init__(self) -> None:
        self._tails: dict[str, _Tail] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, InvokeStarted) and event.tail:
            self._tails[event.request_id] = _Tail()
        request_id = getattr(event, "request_id", None)
        tail = self._tails.get(request_id) if request_id else None
        if tail is not None:
            for line in lines(event):
                tail.add(line)

    def take(self, request_id: str) -> str:
        """``X-Amz-Log-Result``: the invocation's tail, base64; forgotten once taken."""
        tail = self._tails.pop(request_id, None)
        return tail.text() if tail is not None else ""
