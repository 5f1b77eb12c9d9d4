"""A small asyncio HTTP/1.1 server on h11: keep-alive, pipelining, long polls.

Requests on a connection are answered one at a time, in order (RFC 9112
section 9.3); a handler may wait as long as it likes (``GET /next`` does).
Each answer goes out in a single write on a ``TCP_NODELAY`` socket, so no
40 ms Nagle delay ever shows up in a latency. A peer that disconnects cancels
the handler in flight: handlers shield work that must outlive the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import cast
from urllib.parse import parse_qs, unquote, urlsplit

import h11

__all__ = ["Handler", "HttpServer", "Request", "Response", "json_response"]

logger = logging.getLogger(__name__)

# Lambda's X-Ray cause header may reach 1 MiB; h11's default head limit is 16 KiB.
_MAX_HEAD = 2 * 1024 * 1024
# Far beyond any Lambda payload limit: past it the connection is refused, not buffered.
MAX_BODY = 64 * 1024 * 1024


@dataclass
class Request:
    """A whole request: lower-cased header names, the body read to its end."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def path(self) -> str:
        return unquote(urlsplit(self.target).path)

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.target).query).items()}


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


Handler = Callable[[Request], Awaitable[Response]]


def json_response(status: int, body: bytes, *headers: tuple[str, str]) -> Response:
    return Response(status, [("Content-Type", "application/json"), *headers], body)


class HttpServer:
    """Serves ``handler`` on ``host:port`` (port 0: any free port) until stopped."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self._handler, self._connections), self._host, self._port
        )

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def address(self) -> str:
        return f"{self._host}:{self.port}"

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for connection in list(self._connections):
            connection.abort()
        await self._server.wait_closed()
        self._server = None


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


class _Connection(asyncio.Protocol):
    def __init__(self, handler: Handler, registry: set[_Connection]) -> None:
        self._handler = handler
        self._registry = registry
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_HEAD)
        self._transport: asyncio.Transport | None = None
        self._request: Request | None = None
        self._body: list[bytes] = []
        self._size = 0
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not derive from asyncio.Transport; they behave as one.
        self._transport = cast(asyncio.Transport, transport)
        self._registry.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self._h11.receive_data(data)
        self._pump()

    def eof_received(self) -> bool:
        self._h11.receive_data(b"")
        self._pump()
        return True  # half-closed: the answers owed still go out, then we close

    def connection_lost(self, exc: Exception | None) -> None:
        self._registry.discard(self)
        if self._task is not None:
            self._task.cancel()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _close(self) -> None:
        # close(), not abort(): what was written still goes out first.
        if self._transport is not None:
            self._transport.close()

    def _pump(self) -> None:
        while self._task is None:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._fail(exc.error_status_hint, f"bad request: {exc}")
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.ConnectionClosed):
                self._close()
                return
            self._take(event)

    def _take(self, event: object) -> None:
        if isinstance(event, h11.Request):
            headers: dict[str, str] = {}
            for name, value in event.headers:
                key = name.decode("latin-1")
                text = value.decode("utf-8", "replace")
                headers[key] = f"{headers[key]}, {text}" if key in headers else text
            self._request = Request(event.method.decode(), event.target.decode(), headers)
            self._body, self._size = [], 0
            if self._h11.they_are_waiting_for_100_continue:
                # curl sends "Expect: 100-continue" with large bodies, then waits 1 s.
                self._write(
                    self._h11.send(h11.InformationalResponse(status_code=100, headers=[])) or b""
                )
        elif isinstance(event, h11.Data):
            self._size += len(event.data)
            if self._size > MAX_BODY:
                self._fail(413, "request body too large")
                return
            self._body.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage) and self._request is not None:
            request, self._request = self._request, None
            request.body = b"".join(self._body)
            self._task = asyncio.ensure_future(self._answer(request))

    async def _answer(self, request: Request) -> None:
        try:
            response = await self._handler(request)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in a handler must not kill the connection
            logger.exception("error answering %s %s", request.method, request.target)
            response = _error(500, "ServiceException", f"{type(exc).__name__}: {exc}")
        try:
            self._send(response)
        except h11.LocalProtocolError as exc:  # e.g. a header value h11 refuses
            logger.exception("cannot send the answer to %s %s", request.method, request.target)
            self._send(_error(500, "ServiceException", f"invalid answer: {exc}"))
        self._task = None
        if self._h11.our_state is h11.MUST_CLOSE or self._h11.their_state is h11.MUST_CLOSE:
            self._close()
            return
        with contextlib.suppress(h11.LocalProtocolError):
            self._h11.start_next_cycle()
        self._pump()

    def _send(self, response: Response) -> None:
        headers = [(name.encode(), value.encode("utf-8")) for name, value in response.headers]
        body = response.body
        if response.status not in (204, 304):
            headers.append((b"Content-Length", str(len(body)).encode()))
        else:
            body = b""
        head = h11.Response(
            status_code=response.status, headers=headers, reason=_reason(response.status)
        )
        data = self._h11.send(head) or b""
        if body:
            data += self._h11.send(h11.Data(data=body)) or b""
        data += self._h11.send(h11.EndOfMessage()) or b""
        self._write(data)  # one write per answer

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def _fail(self, status: int, message: str) -> None:
        if self._h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            response = _error(status, "BadRequest", message)
            response.headers.append(("Connection", "close"))
            with contextlib.suppress(h11.LocalProtocolError):
                self._send(response)
        self._close()


def _error(status: int, error_type: str, message: str) -> Response:
    body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
    return json_response(status, body, ("X-Amzn-ErrorType", error_type))
