"""emulator.observe: the lines lifecycle events make, tails, and the output's writer."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import threading

from emulator.core.events import InitReport, InvokeEnded, InvokeStarted, LogLine, Notice, Where
from emulator.core.invocation import OutcomeKind
from emulator.observe.logs import TAIL_BYTES, LogPrinter, Tails, lines
from emulator.observe.sink import LogSink

WHERE = Where("fn", "$LATEST", 1)


def ended(request_id: str = "req-1", **fields: object) -> InvokeEnded:
    values: dict[str, object] = {
        "outcome": OutcomeKind.RESPONSE,
        "error_type": None,
        "duration_ms": 12.345678,
        "memory_mb": 128,
        "max_memory_used_mb": 42,
        "init_ms": None,
        **fields,
    }
    return InvokeEnded(WHERE, request_id, **values)  # type: ignore[arg-type]


def test_start_end_report_lines() -> None:
    assert lines(InvokeStarted(WHERE, "req-1", False)) == [
        "START RequestId: req-1 Version: $LATEST"
    ]
    assert lines(ended()) == [
        "END RequestId: req-1",
        "REPORT RequestId: req-1\tDuration: 12.35 ms\tBilled Duration: 13 ms"
        "\tMemory Size: 128 MB\tMax Memory Used: 42 MB",
    ]
    assert lines(ended(init_ms=101.5))[1].endswith("\tInit Duration: 101.50 ms")


def test_a_platform_failure_shows_its_status_in_the_report() -> None:
    timeout = ended(outcome=OutcomeKind.TIMEOUT, error_type="Sandbox.Timedout")
    assert lines(timeout)[1].endswith("\tStatus: timeout")
    oom = ended(outcome=OutcomeKind.OUT_OF_MEMORY, error_type="Runtime.OutOfMemory")
    assert lines(oom)[1].endswith("\tStatus: error\tError Type: Runtime.OutOfMemory")
    report = InitReport(WHERE, 12.5, "error", "Runtime.ImportModuleError")
    assert lines(report) == [
        "INIT_REPORT Init Duration: 12.50 ms\tPhase: init\tStatus: error"
        "\tError Type: Runtime.ImportModuleError"
    ]


def test_a_tail_holds_its_invocations_lines_only_and_the_last_4_kb() -> None:
    tails = Tails()
    tails(InvokeStarted(WHERE, "a", True))
    tails(InvokeStarted(WHERE, "b", False))
    for i in range(1000):
        tails(LogLine(WHERE, "a", f"line {i:05d}"))
        tails(LogLine(WHERE, "b", "not a's"))
        tails(LogLine(WHERE, None, "nobody's"))
    tails(ended("a"))
    decoded = base64.b64decode(tails.take("a"))
    assert len(decoded) == TAIL_BYTES
    assert b"not a's" not in decoded and b"nobody's" not in decoded
    assert decoded.endswith(b"END RequestId: a\n" + lines(ended("a"))[1].encode() + b"\n")
    assert tails.take("a") == "" and tails.take("b") == ""


def drained(sink: LogSink) -> None:
    assert sink.flush()


def test_the_printer_prefixes_every_line_with_the_function() -> None:
    stream = io.StringIO()
    sink = LogSink(stream)
    printer = LogPrinter(sink)
    printer(LogLine(WHERE, None, "hello"))
    printer(LogLine(WHERE, "r", "[ERROR] boom\nTraceback"))
    printer(Notice("other", "shutting down idle environment 1"))
    drained(sink)
    assert stream.getvalue() == (
        "[fn] hello\n[fn] [ERROR] boom\n[fn] Traceback\n[other] shutting down idle environment 1\n"
    )


class Blocked(io.StringIO):
    """A stream whose writes wait until the test lets them go, as a full pipe does."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()

    def write(self, text: str) -> int:
        self.go.wait(30)
        return super().write(text)


def test_a_stream_that_is_not_read_never_blocks_the_writer_and_loses_count_only() -> None:
    stream = Blocked()
    sink = LogSink(stream, limit=100)
    for i in range(1000):  # returns at once although nothing can be written
        sink.write(f"line {i}\n")
    stream.go.set()
    drained(sink)
    sink.write("after\n")
    drained(sink)
    text = stream.getvalue()
    assert text.startswith("line 0\n")
    assert "log lines dropped: the output was not read\nafter\n" in text


def test_a_closed_output_is_survived() -> None:
    read, write = os.pipe()
    os.close(read)
    stream = os.fdopen(write, "w")
    sink = LogSink(stream)
    sink.write("into a pipe nobody reads\n")  # EPIPE in the writer, not here
    assert sink.flush()
    sink.write("still fine\n")
    sink.close()
    with contextlib.suppress(BrokenPipeError):
        stream.close()
