"""Requests as handlers see them: head fields, bodies whole or streamed, trailers, 100 Continue."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from emulator.http import BodyTooLarge, Limits, Request, Response
from tests.unit_emulator.http.serving import Served, read_until, read_until_closed, responses


async def describe(request: Request) -> Response:
    body = await request.read()
    again = await request.read()
    seen = {
        "method": request.method,
        "target": request.target,
        "path": request.path,
        "query": request.query,
        "version": request.http_version,
        "headers": request.headers,
        "trailers": request.trailers,
        "peer_port": request.peer[1] if request.peer else None,
        "content_length": request.content_length,
        "body": body.decode(),
        "same": again is body,
    }
    return Response(200, [], json.dumps(seen).encode())


def seen(data: bytes) -> dict[str, object]:
    value: dict[str, object] = json.loads(data.partition(b"\r\n\r\n")[2])
    return value


def test_head_fields_as_a_handler_sees_them(loop: str) -> None:
    with Served(describe, loop=loop) as served, served.connect() as sock:
        sock.sendall(
            b"POST /a%20b/c?x=1&y=2&x=3 HTTP/1.1\r\nHost: x\r\nX-Many: 1\r\nx-many: 2\r\n"
            b"Content-Length: 3\r\nConnection: close\r\n\r\nabc"
        )
        port = sock.getsockname()[1]
        answer = seen(read_until_closed(sock))
    assert answer["path"] == "/a b/c"
    assert answer["target"] == "/a%20b/c?x=1&y=2&x=3"
    assert answer["query"] == {"x": "3", "y": "2"}
    assert answer["version"] == "1.1"
    assert answer["headers"] == {
        "host": "x",
        "x-many": "1, 2",
        "content-length": "3",
        "connection": "close",
    }
    assert (answer["peer_port"], answer["content_length"]) == (port, 3)
    assert (answer["body"], answer["same"]) == ("abc", True)


def test_a_chunked_body_keeps_its_trailers(loop: str) -> None:
    with Served(describe, loop=loop) as served, served.connect() as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
            b"\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Checksum: 1\r\nX-Checksum: 2\r\n\r\n"
        )
        answer = seen(read_until_closed(sock))
    assert answer["body"] == "abcde"
    assert answer["trailers"] == {"x-checksum": "1, 2"}
    assert answer["content_length"] is None


def test_a_body_is_streamed_as_it_arrives(loop: str) -> None:
    arrived: list[bytes] = []
    first = threading.Event()

    async def handler(request: Request) -> Response:
        async for chunk in request.stream():
            arrived.append(chunk)
            first.set()
        return Response(200, [], b"".join(arrived))

    with Served(handler, loop=loop) as served, served.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
        assert first.wait(10)  # the handler has the first half before the rest is sent
        assert arrived == [b"hello"]
        sock.sendall(b"world")
        data = read_until(sock, b"helloworld")
    assert responses(data) == [b"HTTP/1.1 200 OK"]


def test_100_continue_is_sent_when_the_handler_reads(loop: str) -> None:
    with Served(describe, loop=loop) as served, served.connect() as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n"
            b"Connection: close\r\n\r\n"
        )
        interim = read_until(sock, b"\r\n\r\n")
        sock.sendall(b"ok")
        final = read_until_closed(sock)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert seen(final)["body"] == "ok"


def test_no_100_continue_for_a_body_refused_by_its_length(loop: str) -> None:
    async def refuse(request: Request) -> Response:
        try:
            await request.read(limit=10)
        except BodyTooLarge as exc:
            return Response(413, [], f"{exc.limit} {exc.size}".encode())
        return Response(200)

    with Served(refuse, loop=loop) as served, served.connect() as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"
        )
        data = read_until_closed(sock)  # closed: the body was never read
    assert responses(data) == [b"HTTP/1.1 413 Request Entity Too Large"]
    assert data.endswith(b"\r\n\r\n10 11")


def test_read_without_a_limit_is_capped_by_max_body() -> None:
    async def reads(request: Request) -> Response:
        await request.read()
        return Response(200)

    with Served(reads, limits=Limits(max_body=10)) as served, served.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n")
        data = read_until_closed(sock)
        assert served.errors == []  # a refusal, not a handler bug
    assert responses(data) == [b"HTTP/1.1 413 Request Entity Too Large"]
    assert b'"errorType": "RequestEntityTooLarge"' in data


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", b"400 Bad Request"),
        (b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n", b"400 Bad Request"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2048 + b"\r\n\r\n", b"431 "),
    ],
    ids=["garbage", "non-ascii-target", "head-too-large"],
)
def test_a_request_that_cannot_be_served_is_refused_and_closed(raw: bytes, status: bytes) -> None:
    with Served(describe, limits=Limits(max_head=1024)) as served, served.connect() as sock:
        sock.sendall(raw)
        data = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 " + status)
    assert b"connection: close" in data.lower()


def test_a_body_taken_twice_is_refused() -> None:
    async def twice(request: Request) -> Response:
        async for _ in request.stream():
            pass
        try:
            await request.read()
        except RuntimeError as exc:
            return Response(200, [], str(exc).encode())
        return Response(500)

    with Served(twice) as served, served.connect() as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\n!"
        )
        data = read_until_closed(sock)
    assert data.endswith(b"the request body was already taken")


def test_a_request_built_by_a_test_holds_its_body() -> None:
    async def scenario() -> tuple[bytes, list[bytes]]:
        request = Request("POST", "/p?q=1", {"x": "y"}, b"body")
        with pytest.raises(BodyTooLarge) as info:
            await request.read(limit=3)
        assert (info.value.limit, info.value.size) == (3, 4)
        return await request.read(), [chunk async for chunk in request.stream()]

    assert asyncio.run(scenario()) == (b"body", [b"body"])
