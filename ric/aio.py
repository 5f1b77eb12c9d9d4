"""The process's one event loop, for ``async def`` handlers and async generators.

A handler that is a coroutine function, or returns an awaitable, has it run
to completion on :class:`EventLoop`'s loop; an async generator result (or a
``ric.Stream`` over an async iterable) streams through :class:`AsyncChunks`,
each ``__anext__`` run on that loop. The loop is made once and never closed
while the runtime serves: the same object on every invocation, so what is
bound to it (an ``httpx.AsyncClient``, a connection pool, a lock, a queue, a
background task) keeps working on the next warm invocation, where
``asyncio.run`` per invocation would have closed it. Between invocations the
loop does not run: a background task goes on when the next invocation runs
the loop again, as everything in the environment is frozen by Lambda between
invocations anyway.

The loop is uvloop's when uvloop is installed, unless ``RIC_EVENT_LOOP`` is
``asyncio`` (read once, in :class:`~ric.config.RuntimeConfig`). This module,
and asyncio with it, is imported only when an awaitable or an async iterator
first shows up: a sync handler never pays for it.
"""

from __future__ import annotations

import asyncio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
    from typing import Any

__all__ = ["AsyncChunks", "CancelledError", "EventLoop", "LoopBusy", "cancelled_error", "new_loop"]


class CancelledError(Exception):
    """What the handler awaited was cancelled: its error, under asyncio's name.

    asyncio's ``CancelledError`` is a ``BaseException``, which would pass the
    runtime's ``except Exception`` and end the process (and the environment
    with it); as an ``Exception`` it is posted as any handler error is, with
    the user's frames, and the next invocation is served.
    """


class LoopBusy(Exception):
    """A shutdown hook's coroutine cannot run: SIGTERM interrupted the loop itself."""


def cancelled_error(exc: asyncio.CancelledError) -> CancelledError:
    """What an awaited thing's cancellation is to the handler: an ``Exception``, same frames."""
    return CancelledError(*exc.args).with_traceback(exc.__traceback__)


def new_loop(choice: str) -> asyncio.AbstractEventLoop:
    """A new loop: uvloop's if ``choice`` is ``auto`` and uvloop imports, else asyncio's."""
    if choice == "auto":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


async def _settled(awaitable: Awaitable[Any]) -> tuple[bool, Any]:
    """``(True, value)`` or ``(False, exception)``.

    Caught here, what the awaitable raised carries a traceback that begins in
    this frame (the runtime's, left out of reports), then the user's frames:
    not the loop's own frames, which differ between asyncio and uvloop.
    """
    try:
        return True, await awaitable
    except (Exception, asyncio.CancelledError) as exc:
        return False, exc


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class EventLoop:
    """The persistent loop; :meth:`run` runs one awaitable on it to completion."""

    __slots__ = ("loop",)

    def __init__(self, choice: str) -> None:
        self.loop = new_loop(choice)
        # The thread's current loop too: code that asks for it outside a
        # coroutine (asyncio.get_event_loop()) gets this one, not a new one.
        asyncio.set_event_loop(self.loop)

    def run(self, awaitable: Awaitable[Any]) -> Any:
        """The awaitable's value; what it raised is raised here.

        The task copies the caller's ``contextvars`` context, so the invocation's
        context (``ric.current_context()``) and request id are seen inside.
        """
        ok, value = self.loop.run_until_complete(_settled(awaitable))
        if ok:
            return value
        if isinstance(value, asyncio.CancelledError):
            raise cancelled_error(value) from None
        raise value

    def run_for_hook(self, awaitable: Awaitable[Any], loop_runs_on: bool) -> Any:
        """From the shutdown hooks' thread: ``awaitable`` run on this loop, its value.

        ``loop_runs_on``: the loop goes on running in the main thread (async
        concurrency mode takes SIGTERM on the loop), so the coroutine is
        handed to it. Otherwise the main thread waits in the signal handler:
        an idle loop is run from here (nothing else can touch it until the
        hooks are done), a running one cannot make progress, so LoopBusy.
        """
        if loop_runs_on:
            return asyncio.run_coroutine_threadsafe(_awaited(awaitable), self.loop).result()
        if self.loop.is_running():
            close = getattr(awaitable, "close", None)
            if close is not None:
                close()  # never awaited: no "was never awaited" warning for it
            raise LoopBusy("SIGTERM came while an invocation ran on the event loop")
        return self.run(awaitable)

    def iterate(self, source: AsyncIterator[object]) -> AsyncChunks:
        """``source`` as an iterator, each step run on the loop."""
        return AsyncChunks(self, source)

    def close(self) -> None:
        """Close the loop (tests; the runtime keeps it until the process ends)."""
        asyncio.set_event_loop(None)
        self.loop.close()


class AsyncChunks:
    """An async iterator as a sync one: ``next`` runs ``__anext__`` on the loop.

    ``close`` runs ``aclose()`` (an async generator's ``finally`` blocks), as
    the stream closes a generator it ends early.
    """

    __slots__ = ("_loop", "_source")

    def __init__(self, loop: EventLoop, source: AsyncIterator[object]) -> None:
        self._loop = loop
        self._source = source

    def __iter__(self) -> AsyncChunks:
        return self

    def __next__(self) -> object:
        try:
            return self._loop.run(self._source.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        aclose: Callable[[], Coroutine[Any, Any, object]] | None
        aclose = getattr(self._source, "aclose", None)
        if aclose is not None:
            self._loop.run(aclose())
