"""A request body between the connection that receives it and the handler that reads it."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

__all__ = ["BodyQueue"]


class BodyQueue:
    """Chunks of one request body, in arrival order.

    ``size`` (bytes queued, not yet taken) is what the connection weighs to
    pause reading; ``on_taken`` tells it a chunk left. A reader that waits
    longer than ``timeout_s`` for the next chunk calls ``on_timeout`` (the
    connection is closed) and gets a :class:`TimeoutError`.
    """

    def __init__(
        self,
        timeout_s: float,
        on_taken: Callable[[], None],
        on_timeout: Callable[[], None],
        on_start: Callable[[], None],
    ) -> None:
        self._timeout_s = timeout_s
        self._on_taken = on_taken
        self._on_timeout = on_timeout
        self._on_start = on_start
        self._chunks: deque[bytes] = deque()
        self._waiter: asyncio.Future[bool] | None = None  # True: more came; False: timed out
        self.size = 0
        self.ended = False
        self.trailers: dict[str, str] = {}

    def put(self, data: bytes) -> None:
        self._chunks.append(data)
        self.size += len(data)
        self._wake()

    def end(self, trailers: dict[str, str]) -> None:
        self.ended = True
        self.trailers = trailers
        self._wake()

    def start(self) -> None:
        """The handler begins to read: a client waiting for 100 Continue gets it now."""
        self._on_start()

    async def get(self) -> bytes | None:
        """The next chunk, or None at the end of the body."""
        while not self._chunks:
            if self.ended:
                return None
            await self._wait()
        chunk = self._chunks.popleft()
        self.size -= len(chunk)
        self._on_taken()
        return chunk

    async def _wait(self) -> None:
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(self._timeout_s, self._expire, waiter)
        try:
            if not await waiter:
                self._on_timeout()
                raise TimeoutError(f"no request body bytes for {self._timeout_s} s")
        finally:
            timer.cancel()
            self._waiter = None

    @staticmethod
    def _expire(waiter: asyncio.Future[bool]) -> None:
        if not waiter.done():
            waiter.set_result(False)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(True)
