"""ric.transport.Connection against a raw socket: keep-alive, staleness, closing."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from ric.errors import StaleConnection, TransportError
from ric.transport import Connection
from tests.integration.raw_api import ACCEPTED, Peer, RawServer, raw_server

REQUEST = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"


@pytest.fixture
def server() -> Iterator[RawServer]:
    with raw_server() as raw:
        yield raw


@pytest.fixture
def connection(server: RawServer) -> Iterator[Connection]:
    client = Connection("127.0.0.1", server.port)
    yield client
    client.close()


def requested(server: RawServer, connection: Connection) -> Peer:
    """The connection sends REQUEST; the server's end of it, the request read."""
    connection.send([REQUEST])
    peer = server.accept()
    assert peer.read_request() == REQUEST
    return peer


def test_keep_alive_and_pipelining(server: RawServer, connection: Connection) -> None:
    peer = requested(server, connection)
    peer.send(ACCEPTED)
    assert connection.receive().status == 202
    connection.send([REQUEST, b"", REQUEST])  # two requests in one write
    assert [peer.read_request(), peer.read_request()] == [REQUEST, REQUEST]
    peer.send(ACCEPTED + ACCEPTED.replace(b"202 Accepted", b"200 OK"))
    assert [connection.receive().status, connection.receive().status] == [202, 200]
    connection.close()
    peer.close()


def test_idle_connection_closed_by_the_peer_is_stale(
    server: RawServer, connection: Connection
) -> None:
    peer = requested(server, connection)
    peer.send(ACCEPTED)
    connection.receive()
    peer.close()  # closed while idle, before the next request was read
    connection.send([REQUEST])
    with pytest.raises(StaleConnection):
        connection.receive()
    # The next send opens a new connection.
    connection.send([REQUEST])
    fresh = server.accept()
    assert fresh.read_request() == REQUEST
    fresh.send(ACCEPTED)
    assert connection.receive().status == 202
    fresh.close()


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
def test_close_if_stale_replaces_only_a_connection_the_peer_ended(
    server: RawServer, connection: Connection, reset: bool
) -> None:
    peer = requested(server, connection)
    peer.send(ACCEPTED)
    connection.receive()
    connection.close_if_stale()  # open and idle: kept
    connection.send([REQUEST])
    assert peer.read_request() == REQUEST
    peer.send(ACCEPTED)
    connection.receive()
    if reset:  # SO_LINGER of 0: close() resets the connection
        peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()
    connection.close_if_stale()
    connection.send([REQUEST])  # on a new connection
    fresh = server.accept()
    assert fresh.read_request() == REQUEST
    fresh.send(ACCEPTED)
    assert connection.receive().status == 202


def test_a_new_connection_closed_unanswered_is_not_stale(
    server: RawServer, connection: Connection
) -> None:
    peer = requested(server, connection)
    peer.close()
    with pytest.raises(TransportError) as info:
        connection.receive()
    assert type(info.value) is not StaleConnection


def test_closed_after_the_first_of_two_answers_is_not_stale(
    server: RawServer, connection: Connection
) -> None:
    peer = requested(server, connection)
    peer.send(ACCEPTED)
    connection.receive()
    connection.send([REQUEST, REQUEST])
    peer.read_request()
    peer.send(ACCEPTED)
    peer.close()
    assert connection.receive().status == 202
    with pytest.raises(TransportError) as info:
        connection.receive()
    assert type(info.value) is not StaleConnection


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\n\r\nok",  # framed by the end of the connection
    ],
    ids=["connection-close", "eof-framed"],
)
def test_a_closing_answer_closes_and_the_next_send_reconnects(
    server: RawServer, connection: Connection, answer: bytes
) -> None:
    peer = requested(server, connection)
    peer.send(answer)
    peer.close()
    assert connection.receive().body == b"ok"
    connection.send([REQUEST])
    fresh = server.accept()
    assert fresh.read_request() == REQUEST
    fresh.send(ACCEPTED)
    assert connection.receive().status == 202
    fresh.close()


def test_receive_without_a_connection() -> None:
    with pytest.raises(TransportError, match="closed before the response"):
        Connection("127.0.0.1", 9).receive()


def test_refused_connection() -> None:
    with pytest.raises(TransportError, match=r"cannot connect to 127\.0\.0\.1:9"):
        Connection("127.0.0.1", 9).send([REQUEST])


def test_large_write_is_sent_whole(server: RawServer, connection: Connection) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB: a scatter-gather write
    head = b"POST /big HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body)
    peer_box: list[bytes] = []

    def serve() -> None:
        peer = server.accept()
        peer_box.append(peer.read_request())
        peer.send(ACCEPTED)
        peer.close()

    thread = threading.Thread(target=serve)
    thread.start()
    connection.send([head, body])
    assert connection.receive().status == 202
    thread.join(30)
    assert peer_box == [head + body]


def test_an_early_answer_is_read_after_the_write_failed(
    server: RawServer, connection: Connection
) -> None:
    """A peer that answers 413 mid-body and closes: the send fails, the answer is still read."""
    head = b"POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    connection.send([head])
    peer = server.accept()
    assert peer.read_head() == head
    peer.send(b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 4\r\n\r\nbig!")
    peer.close()
    chunk = bytes(8 * 1024 * 1024)  # more than the socket buffers hold: the reset comes back
    with pytest.raises(TransportError, match=r"Runtime API at 127\.0\.0\.1:\d+: "):
        connection.send([b"%x\r\n" % len(chunk), chunk, b"\r\n"])
    assert not connection.connected
    answer = connection.receive()
    assert (answer.status, answer.body) == (413, b"big!")
    # The next send opens a new connection.
    connection.send([REQUEST])
    fresh = server.accept()
    assert fresh.read_request() == REQUEST
    fresh.send(ACCEPTED)
    assert connection.receive().status == 202
    assert connection.connected
