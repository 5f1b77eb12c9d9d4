"""A streamed response on its way from an environment to the one caller waiting for it."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["StreamRelay"]

_WINDOW = 256 * 1024


class StreamRelay:
    """Chunks of one streamed response, handed over as the runtime sends them.

    The environment's driver :meth:`begin`s it when the runtime's streamed
    ``/response`` arrives, :meth:`put`s each chunk as it comes (waiting while
    the caller holds more than ``window`` bytes unread, so a slow caller slows
    the runtime down instead of filling memory) and :meth:`close`s it when the
    stream ends, however it ends. The caller waits for :attr:`began` or for the
    invocation's outcome (a runtime that answers buffered never begins it),
    reads :meth:`chunks`, and :meth:`leave`s if it hangs up: what comes after
    is dropped, and the runtime is never held up by a caller that has gone.
    """

    def __init__(self, window: int = _WINDOW) -> None:
        self._window = window
        self.began: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._chunks: deque[bytes] = deque()
        self._held = 0
        self._closed = False
        self._left = False
        self._data: asyncio.Future[None] | None = None
        self._space: asyncio.Future[None] | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    async def opened(self, run: asyncio.Future[Any]) -> bool:
        """Wait until the stream begins or ``run``, the invocation, ends first (it
        answered buffered, or never ran): True when it began. A caller cancelled
        meanwhile (it hung up) leaves."""
        try:
            await asyncio.wait((run, self.began), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            self.leave()
            raise
        return self.began.done()

    def begin(self, content_type: str) -> None:
        if not self.began.done():
            self.began.set_result(content_type)

    async def put(self, chunk: bytes) -> None:
        """Hand ``chunk`` over; returns once the caller holds at most ``window`` bytes."""
        if self._left or self._closed or not chunk:
            return
        self._chunks.append(chunk)
        self._held += len(chunk)
        _wake(self._data)
        while self._held > self._window and not (self._left or self._closed):
            self._space = asyncio.get_running_loop().create_future()
            await self._space

    def close(self) -> None:
        """No more chunks: the caller reads what is held, then the end."""
        self._closed = True
        _wake(self._data)
        _wake(self._space)

    def leave(self) -> None:
        """The caller has gone: nothing more is held for it."""
        self._left = True
        self._chunks.clear()
        self._held = 0
        _wake(self._space)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The chunks in order, as they come, until :meth:`close`."""
        while True:
            while not self._chunks:
                if self._closed:
                    return
                self._data = asyncio.get_running_loop().create_future()
                await self._data
            chunk = self._chunks.popleft()
            self._held -= len(chunk)
            if self._held <= self._window:
                _wake(self._space)
            yield chunk


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
