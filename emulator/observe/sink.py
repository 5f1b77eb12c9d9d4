"""The emulator's output stream, written from a thread of its own.

The event loop never writes to standard output itself: a reader that stops
reading (a full pipe) would block it, and with it every caller and every
timeout. Lines wait in a bounded buffer instead; past ``limit`` bytes they are
dropped and counted, and a line says so once the output moves again. A closed
or broken output is survived: what cannot be written is discarded.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

__all__ = ["LogSink"]

# The writer gathers what comes in this long before it writes: a wake-up of its
# thread per line would cost the emulator more than the writing does.
_GATHER_S = 0.005


class LogSink:
    """Writes text to ``stream`` (standard output by default) from a writer thread."""

    def __init__(self, stream: TextIO | None = None, limit: int = 4 * 1024 * 1024) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._limit = limit
        self._pending: list[str] = []
        self._size = 0
        self._dropped = 0
        self._writing = False
        self._waiting = False  # the writer sleeps until something is queued
        self._broken = False
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="emulator-log", daemon=True)
        self._thread.start()

    def write(self, text: str) -> None:
        """Queue ``text``; never blocks on the stream."""
        with self._changed:
            if self._broken or self._closed:
                return
            if self._size + len(text) > self._limit:
                self._dropped += text.count("\n") or 1
                return
            if self._dropped:
                self._queue(
                    f"emulator: {self._dropped} log lines dropped: the output was not read\n"
                )
                self._dropped = 0
            self._queue(text)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until what was queued is written (or ``timeout``); False if it was not."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._broken or not (self._pending or self._writing), timeout
            )

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (for ``timeout`` at most), then stop the writer."""
        self.flush(timeout)
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join(timeout)

    def _queue(self, text: str) -> None:
        self._pending.append(text)
        self._size += len(text)
        if self._waiting:
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._waiting = True
                self._changed.wait_for(lambda: self._pending or self._closed)
                self._waiting = False
                closed = self._closed
            if not closed:
                time.sleep(_GATHER_S)
            with self._changed:
                if not self._pending:
                    return
                batch, self._pending, self._size = "".join(self._pending), [], 0
                self._writing = True
            self._write(batch)
            with self._changed:
                self._writing = False
                self._changed.notify_all()

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except UnicodeEncodeError:  # a lone surrogate must not lose the rest
            self._write(text.encode("ascii", "backslashreplace").decode("ascii"))
        except (OSError, ValueError):  # a closed or broken output: keep going without it
            with self._changed:
                self._broken = True
                self._pending, self._size = [], 0
