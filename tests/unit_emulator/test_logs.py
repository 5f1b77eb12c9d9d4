"""emulator.logs: the platform's log lines and the Tail."""

from __future__ import annotations

import base64
import io

from emulator.logs import TAIL_BYTES, LogSink, end_line, report_line, start_line, tail
from emulator.state import Invocation


def test_start_end_report_lines() -> None:
    invocation = Invocation(b"{}", request_id="req-1")
    invocation.start(3.0)
    invocation.started_ns -= 12_345_678  # 12.35 ms ago
    invocation.ended_ns = invocation.started_ns + 12_345_678
    assert start_line(invocation, "$LATEST") == "START RequestId: req-1 Version: $LATEST"
    assert end_line(invocation) == "END RequestId: req-1"
    assert report_line(invocation, 128, 42, None) == (
        "REPORT RequestId: req-1\tDuration: 12.35 ms\tBilled Duration: 13 ms"
        "\tMemory Size: 128 MB\tMax Memory Used: 42 MB"
    )
    assert report_line(invocation, 128, 42, 101.5).endswith("\tInit Duration: 101.50 ms")


def test_tail_keeps_the_last_4_kb() -> None:
    lines = [f"line {i:05d}" for i in range(1000)]
    decoded = base64.b64decode(tail(lines))
    assert len(decoded) == TAIL_BYTES
    assert decoded.endswith(b"line 00999\n")


def test_sink_prefixes_the_function_name() -> None:
    stream = io.StringIO()
    LogSink(stream).write("fn", "hello")
    LogSink(stream).write("fn", "[ERROR] boom\nTraceback")
    assert stream.getvalue() == "[fn] hello\n[fn] [ERROR] boom\n[fn] Traceback\n"
