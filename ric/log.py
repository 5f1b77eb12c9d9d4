"""Where the runtime's records go, and their shapes, as the managed runtime writes them.

Two sinks (the managed Python runtime's, observed with awslambdaric 4.2.2):

- standard output, flushed at once so a record is never lost when the process
  is frozen or killed; an uncaught error is one line, its trace joined by ``\\r``
  so CloudWatch keeps it as one event;
- the telemetry log descriptor (``_LAMBDA_TELEMETRY_LOG_FD``), where each record
  is one frame: a 4-byte type ``0xa55a00TT``, a 4-byte length, an 8-byte
  timestamp in microseconds, all big-endian, then the UTF-8 payload. The type's
  low byte says the format (3 text, 2 JSON) and the level (bits 2-4), so a
  multi-line record stays one record. As awslambdaric writes them, records in
  Text format carry level bits only when ``AWS_LAMBDA_LOG_LEVEL`` is set, and
  uncaught errors always do.

Application records (``logging``) are formatted in :mod:`ric.applog`, which is
imported only once the function imports ``logging``; uncaught errors in
:mod:`ric.records`, imported when one happens. Neither is on the way to the
first ``GET /next``.
"""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any, TextIO

    from ric.records import ErrorLog

__all__ = [
    "FRAME_MAGIC",
    "LogSink",
    "flush_output",
    "frame",
    "level_bits",
    "runtime_line",
    "when_imported",
    "write",
]

FRAME_MAGIC = 0xA55A0000
_TEXT = 0x03
_JSON = 0x02
# The level variants of the frame type: Python's levels, in steps of 10, map to
# DEBUG 0x08, INFO 0x0C, WARN 0x10, ERROR 0x14, FATAL 0x18.
_LEVEL_STEP = 4
_ERROR_BITS = 0x14


def level_bits(levelno: int) -> int:
    """The frame type's level bits for a ``logging`` level number (none below DEBUG)."""
    if levelno < 10:
        return 0
    return (min(levelno // 10, 5) + 1) * _LEVEL_STEP


def frame(kind: int, payload: bytes, micros: int) -> bytes:
    """One telemetry frame around ``payload``."""
    header = (kind & 0xFFFFFFFF).to_bytes(4, "big") + len(payload).to_bytes(4, "big")
    return header + micros.to_bytes(8, "big") + payload


class LogSink:
    """Standard output, or the telemetry descriptor in frames; one per process."""

    __slots__ = ("_fd", "_json", "_levels", "_lock", "_stream")

    def __init__(
        self,
        fd: int | None = None,
        json: bool = False,
        stream: TextIO | None = None,
        *,
        levels: bool = True,
    ) -> None:
        """``levels``: whether text records' frames say their level (JSON ones always do)."""
        import _thread  # built in: frames from several threads must not interleave

        self._fd = fd
        self._json = json
        self._levels = levels or json
        self._stream = stream
        self._lock = _thread.allocate_lock()
        if fd is not None:
            import os

            # A child forked while another thread held the lock must not hang.
            os.register_at_fork(after_in_child=self._new_lock)

    def _new_lock(self) -> None:
        import _thread

        self._lock = _thread.allocate_lock()

    @property
    def json(self) -> bool:
        return self._json

    def text(self, text: str) -> None:
        """Text of the runtime's own (and ``context.log``): no level, no format."""
        if self._fd is None:
            self._write(text)
        else:
            self._frame(_TEXT, text)

    def record(self, payload: str, levelno: int) -> None:
        """An application record, already formatted."""
        if self._fd is None:
            self._write(payload)
        else:
            bits = level_bits(levelno) if self._levels else 0
            self._frame(bits | (_JSON if self._json else _TEXT), payload)

    def error(self, entry: ErrorLog) -> None:
        """An uncaught error of the handler or of init."""
        from ric.records import error_json, error_text

        if self._json:
            payload = error_json(entry, time.time())
            if self._fd is None:
                self._write(payload + "\n")
            else:
                self._frame(_ERROR_BITS | _JSON, payload)
        elif self._fd is None:
            self._write(error_text(entry))
        else:
            self._frame(_ERROR_BITS | _TEXT, error_text(entry, "\n", ""))

    def _write(self, text: str) -> None:
        stream = self._stream or sys.stdout
        try:
            stream.write(text)
        except UnicodeEncodeError:  # a lone surrogate must not lose the record
            stream.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))
        stream.flush()

    def _frame(self, kind: int, text: str) -> None:
        import os

        # A lone surrogate in a message must not make the log write itself fail.
        payload = text.encode("utf-8", "backslashreplace")
        data = frame(FRAME_MAGIC | kind, payload, time.time_ns() // 1000)
        with self._lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]  # type: ignore[arg-type]


def write(text: str) -> None:
    """Write ``text`` to standard output and flush it."""
    stream = sys.stdout
    stream.write(text)
    stream.flush()


def runtime_line(level: str, message: str) -> str:
    """A message of the runtime's own, e.g. ``[WARNING] [1700000000000] LAMBDA_RUNTIME ...``."""
    return f"[{level}] [{int(time.time() * 1000)}] LAMBDA_RUNTIME {message}\n"


def when_imported(name: str, callback: Callable[[ModuleType], None]) -> None:
    """Call ``callback(module)`` once module ``name`` is imported, now if it is already.

    A finder at the head of ``sys.meta_path`` waits for ``name``, lets the
    other finders find it, and wraps the loader so ``callback`` runs right
    after the module's code: before the importing code goes on.
    """
    module = sys.modules.get(name)
    if module is not None:
        callback(module)
    else:
        sys.meta_path.insert(0, _Watch(name, callback))


class _Watch:
    __slots__ = ("_callback", "_name")

    def __init__(self, name: str, callback: Callable[[ModuleType], None]) -> None:
        self._name = name
        self._callback = callback

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != self._name:
            return None
        spec: ModuleSpec | None = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)  # old finders have only find_module
            if finder is not self and find is not None:
                spec = find(name, path, target)
                if spec is not None:
                    break
        loader = spec.loader if spec is not None else None
        if loader is not None and hasattr(loader, "exec_module"):
            loader.exec_module = self._wrap(loader.exec_module, loader)  # type: ignore[method-assign]
        return spec

    def _wrap(self, run_module: Callable[[ModuleType], None], loader: Any) -> Any:
        # The watch ends when the module has run, not when it was looked up
        # (importlib.util.find_spec alone imports nothing); a reload runs it bare.
        def exec_module(module: ModuleType) -> None:
            del loader.exec_module
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            run_module(module)
            self._callback(module)

        return exec_module


def flush_output() -> None:
    """The function's standard output and error, flushed before its result is posted.

    A line written without its newline (``sys.stdout.write("partial")``) stays
    in the text layer's buffer: it would show after the invocation's END, glued
    to the next invocation's first line. awslambdaric flushes after every write.
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # replaced, broken or closed by the user
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                continue
