"""The emulator in the test's own process: port 0, an event loop on a thread of its own.

Beside the subprocess tests (which see what a user sees), this one lets a test
read the lifecycle events themselves, and fails it when anything went wrong on
the server side: an exception the loop saw, or an error the emulator logged.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

from emulator.app import Emulator
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.core.events import Event
from emulator.core.lifecycle import Clock
from emulator.core.streaming import StreamLimits
from emulator.observe.sink import LogSink

__all__ = ["InProcessEmulator"]

T = TypeVar("T")
START_LIMIT_S = 30.0


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


class InProcessEmulator:
    """``with InProcessEmulator(functions) as emulator:``; ``emulator.url`` is its Invoke API."""

    def __init__(
        self,
        functions: tuple[FunctionConfig, ...],
        streaming: StreamLimits | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = EmulatorConfig(functions, port=0, streaming=streaming or StreamLimits())
        self.output = io.StringIO()
        self.events: list[Event] = []
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(self._loop_error)
        self._failures: list[str] = []
        self._errors = _Errors()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._emulator: Emulator | None = None
        self._clock = clock

    def __enter__(self) -> InProcessEmulator:
        logging.getLogger("emulator").addHandler(self._errors)
        self._thread.start()
        self.call(self._start).result(START_LIMIT_S)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._emulator is not None:
                self.call(self._emulator.stop).result(START_LIMIT_S)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(START_LIMIT_S)
            self._loop.close()
            logging.getLogger("emulator").removeHandler(self._errors)
        problems = self._failures + self._errors.records
        if problems and exc_type is None:
            raise AssertionError("the emulator failed on the server side:\n" + "\n".join(problems))

    @property
    def url(self) -> str:
        assert self._emulator is not None
        return self._emulator.url

    @property
    def function_urls(self) -> dict[str, str]:
        assert self._emulator is not None
        return self._emulator.function_urls

    def call(self, work: Callable[[], Any]) -> Future[Any]:
        """Run coroutine function ``work`` on the emulator's loop."""
        return asyncio.run_coroutine_threadsafe(work(), self._loop)

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 10.0) -> Event:
        """The first lifecycle event that satisfies ``predicate``, waiting for it if need be."""
        with self._changed:
            found: list[Event] = []

            def seen() -> bool:
                found[:] = [e for e in self.events if predicate(e)][:1]
                return bool(found)

            if not self._changed.wait_for(seen, timeout):
                raise AssertionError(f"no such event; the last ones: {self.events[-10:]}")
            return found[0]

    @property
    def counters(self) -> dict[str, int]:
        assert self._emulator is not None
        return self._emulator.counters

    async def _start(self) -> None:
        sink = LogSink(self.output)
        self._emulator = Emulator(self.config, sink, (self._record,), self._clock)
        await self._emulator.start()

    def _record(self, event: Event) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self._failures.append(f"{context.get('message')}: {context.get('exception')!r}")
