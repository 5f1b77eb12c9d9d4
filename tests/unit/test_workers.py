"""ric.workers: the log-descriptor provider protocol, over a real Unix socket."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ric.workers import log_descriptor, redirect_output


class Provider:
    """A provider socket that keeps what each connection sends, in order of connection."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.received: list[bytes] = []
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(8)

    def accept_and_read(self) -> bytes:
        """Accept one connection and read it to its end; what it sent, with no fd passed."""
        connection, _ = self._listener.accept()
        with connection:
            data = b""
            while True:
                chunk, ancillary, _, _ = connection.recvmsg(4096, socket.CMSG_SPACE(4))
                assert ancillary == []
                if not chunk:
                    return data
                data += chunk

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def provider() -> Iterator[Provider]:
    # Unix socket paths are limited to ~107 bytes: pytest's tmp_path can be longer.
    with tempfile.TemporaryDirectory(prefix="ric-") as directory:
        provider = Provider(os.path.join(directory, "fd.sock"))
        yield provider
        provider.close()


def test_the_descriptor_is_the_connected_socket(provider: Provider) -> None:
    fd = log_descriptor(provider.path)
    os.write(fd, b"hello\n")
    os.close(fd)
    assert provider.accept_and_read() == b"hello\n"


def test_nothing_is_sent_on_connecting(provider: Provider) -> None:
    fd = log_descriptor(provider.path)
    os.close(fd)
    assert provider.accept_and_read() == b""


def test_redirect_output_gives_each_target_its_own_connection(
    provider: Provider, tmp_path: Path
) -> None:
    targets = [os.open(tmp_path / name, os.O_WRONLY | os.O_CREAT) for name in ("out", "err")]
    redirect_output(provider.path, targets)
    reads: list[bytes] = []
    reader = threading.Thread(
        target=lambda: reads.extend(provider.accept_and_read() for _ in targets)
    )
    reader.start()
    os.write(targets[0], b"to stdout\n")
    os.write(targets[1], b"to stderr\n")
    for fd in targets:
        os.close(fd)
    reader.join(10)
    assert reads == [b"to stdout\n", b"to stderr\n"]
    assert (tmp_path / "out").read_bytes() == b""


def test_a_missing_provider_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        log_descriptor(str(tmp_path / "absent.sock"))
