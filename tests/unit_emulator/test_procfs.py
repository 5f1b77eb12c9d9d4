"""emulator.environments.procfs: which socket a connection's other end is (Linux only)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from emulator.environments import procfs
from emulator.environments.procfs import _table_inode

pytestmark = pytest.mark.skipif(not procfs.available(), reason="needs Linux's /proc")


@pytest.fixture(params=[(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def connected(request: pytest.FixtureRequest) -> Iterator[socket.socket]:
    """A client socket connected over loopback (IPv4, then IPv6 where there is one)."""
    family, host = request.param
    try:
        server = socket.socket(family)
        server.bind((host, 0))
    except OSError:
        pytest.skip(f"no {host} here")
    with server:
        server.listen()
        client = socket.create_connection(server.getsockname()[:2])
        accepted, _ = server.accept()
        with client, accepted:
            yield client


def ends(sock: socket.socket) -> tuple[tuple[str, int], tuple[str, int]]:
    local, remote = sock.getsockname(), sock.getpeername()
    return (local[0], local[1]), (remote[0], remote[1])


def test_the_socket_of_an_address_pair_is_found(connected: socket.socket) -> None:
    inode = os.fstat(connected.fileno()).st_ino
    local, remote = ends(connected)
    assert procfs.socket_inode(local, remote) == inode
    # The tables /proc/net/tcp{,6}, where netlink is refused, say the same.
    assert _table_inode(local, remote) == inode
    assert procfs.owner(inode, [os.getpid()]) == os.getpid()


def test_no_socket_for_a_pair_nobody_holds(connected: socket.socket) -> None:
    local, remote = ends(connected)
    nobody = (local[0], 1)
    assert procfs.socket_inode(nobody, remote) is None
    assert _table_inode(nobody, remote) is None
