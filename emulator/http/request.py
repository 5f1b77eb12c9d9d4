"""A request as a handler sees it: the head at once, the body as it arrives."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import cached_property
from urllib.parse import parse_qs, unquote, urlsplit

from emulator.http.body import BodyQueue
from emulator.http.messages import BodyTooLarge

__all__ = ["Request"]


class Request:
    """One request. Built by the connection with a body ``source``, or by a test with ``body``.

    ``headers`` has lower-cased names, repeated fields joined with ", "
    (RFC 9110 section 5.3); ``trailers`` likewise, once the body was read to
    its end. The body is read whole with :meth:`read` or chunk by chunk with
    :meth:`stream`, once: a second :meth:`read` returns the same bytes.
    """

    def __init__(
        self,
        method: str,
        target: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        *,
        http_version: str = "1.1",
        peer: tuple[str, int] | None = None,
        source: BodyQueue | None = None,
        max_body: int | None = None,
    ) -> None:
        self.method = method
        self.target = target
        self.http_version = http_version
        self.headers = {} if headers is None else headers
        self.peer = peer
        length = self.headers.get("content-length")
        self.content_length = int(length) if length is not None else None
        self.trailers: dict[str, str] = {}
        self._source = source
        self._max_body = max_body
        self._body = body if source is None else None
        self._taken = False  # stream() or read() began on the source
        self.peer_gone = False
        self._when_gone: list[Callable[[], None]] = []

    def when_peer_gone(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once the peer's side of the connection ends (now, if it has).

        HTTP lets a client half-close and still read its answers; a long poll's
        client never does, so for it the end of its input means it has gone.
        """
        if self.peer_gone:
            callback()
        else:
            self._when_gone.append(callback)

    def peer_ended(self) -> None:
        """The connection saw the end of the peer's input, or lost the peer."""
        if not self.peer_gone:
            self.peer_gone = True
            callbacks, self._when_gone = self._when_gone, []
            for callback in callbacks:
                callback()

    @cached_property
    def path(self) -> str:
        """The target's path, percent-decoded."""
        return unquote(urlsplit(self.target).path)

    @cached_property
    def query(self) -> dict[str, str]:
        """The target's query; a name given twice has its last value."""
        items = parse_qs(urlsplit(self.target).query).items()
        return {key: values[-1] for key, values in items}

    async def read(self, limit: int | None = None) -> bytes:
        """The whole body; past ``limit`` (default: the server's max_body) BodyTooLarge.

        A declared Content-Length above the limit raises at once: nothing is
        read and no 100 Continue is sent. A chunked body raises as soon as
        more than ``limit`` bytes have arrived.
        """
        if self._body is not None:
            if limit is not None and len(self._body) > limit:
                raise BodyTooLarge(limit, len(self._body))
            return self._body
        cap = limit if limit is not None else self._max_body
        if cap is not None and self.content_length is not None and self.content_length > cap:
            raise BodyTooLarge(cap, self.content_length)
        source = self._take()
        chunks: list[bytes] = []
        size = 0
        while (chunk := await source.get()) is not None:
            size += len(chunk)
            if cap is not None and size > cap:
                raise BodyTooLarge(cap, size)
            chunks.append(chunk)
        self.trailers = source.trailers
        self._body = b"".join(chunks)
        return self._body

    async def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives; while it is not taken, the connection stops reading."""
        if self._body is not None:
            if self._body:
                yield self._body
            return
        source = self._take()
        while (chunk := await source.get()) is not None:
            yield chunk
        self.trailers = source.trailers

    def _take(self) -> BodyQueue:
        if self._source is None or self._taken:
            raise RuntimeError("the request body was already taken")
        self._taken = True
        self._source.start()
        return self._source

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.target}>"
