"""Request framing the server must refuse, and HEAD: bytes on the wire."""

from __future__ import annotations

from emulator.http import Request, Response
from tests.unit_emulator.http.serving import Served, read_until_closed, responses


async def hello(request: Request) -> Response:
    return Response(200, [("Content-Type", "text/plain")], b"hello")


def test_head_is_the_head_of_a_get_and_keeps_the_connection() -> None:
    with Served(hello) as served, served.connect(5) as sock:
        sock.sendall(
            b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        data = read_until_closed(sock)
        assert served.errors == []
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"content-length: 5" in head.lower()
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n")  # no body after the HEAD answer
    assert rest.endswith(b"\r\n\r\nhello")


def test_content_length_with_transfer_encoding_is_a_400_and_closes() -> None:
    smuggled = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    with Served(hello) as served, served.connect(5) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled
        )
        data = read_until_closed(sock)
    assert responses(data) == [b"HTTP/1.1 400 Bad Request"]
    assert b"connection: close" in data.lower()
