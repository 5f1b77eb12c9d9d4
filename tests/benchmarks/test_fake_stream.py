"""The streaming fake API serves real runtimes and times what they stream.

Nothing here asserts a speed: only counts, framing and what was posted.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
import time
from pathlib import Path

import pytest
from clients import HERE, default_clients
from fake_stream import SO_TIMESTAMPNS, FakeStreamApi, StreamSpec, arrival_ns
from streaming import find_node_ric, ric_streams

pytestmark = pytest.mark.integration
RIC = default_clients()[0]
SPEC = StreamSpec(chunks=5, size=1000)


def test_a_buffered_answer_is_one_piece() -> None:
    run = FakeStreamApi(SPEC, invocations=3, warmup=1).run(
        RIC.argv("handlers.stream_buffered"), RIC.env(), str(HERE)
    )
    assert [(r.data_bytes, r.chunks, r.streamed, r.error_type) for r in run.records] == [
        (5000, 1, False, None)
    ] * 3
    assert all(r.last_byte_ns >= r.first_byte_ns >= r.stamp_ns > 0 for r in run.records)
    assert run.data_bytes == 15_000
    assert run.first_post is not None and run.first_post.value("Content-Length") == "5000"
    assert run.cpu_ns > 0 and run.peak_rss_kib > 0 and run.wall_s > 0
    assert run.unstamped_reads == 0


def test_a_go_style_stream_on_its_own_connection_with_error_trailers() -> None:
    script = Path(__file__).with_name("go_style_runtime.py")
    run = FakeStreamApi(SPEC, invocations=2, warmup=1).run(
        [sys.executable, str(script)], dict(os.environ), str(HERE)
    )
    assert [(r.data_bytes, r.chunks, r.streamed, r.error_type) for r in run.records] == [
        (5000, 5, True, "Handler.Late")
    ] * 2
    assert run.first_post is not None
    assert run.first_post.value("Lambda-Runtime-Function-Response-Mode") is None
    assert run.first_post.values("Trailer") == [
        "Lambda-Runtime-Function-Error-Type",
        "Lambda-Runtime-Function-Error-Body",
    ]


def test_a_runtime_that_posts_an_error_measures_nothing() -> None:
    api = FakeStreamApi(SPEC, invocations=1)
    with pytest.raises(RuntimeError, match=r"/runtime/init/error: .*Runtime\.HandlerNotFound"):
        api.run(RIC.argv("handlers.absent"), RIC.env(), str(HERE))


def test_a_runtime_that_exits_is_reported() -> None:
    api = FakeStreamApi(SPEC, invocations=1)
    with pytest.raises(RuntimeError, match=r"the client exited \(3\)"):
        api.run([sys.executable, "-c", "raise SystemExit(3)"], RIC.env(), str(HERE))


def test_ric_streams_each_chunk_as_yielded() -> None:
    if not ric_streams(RIC):
        pytest.skip("ric has no streaming handler API yet")
    run = FakeStreamApi(SPEC, invocations=2).run(RIC.argv("handlers.stream"), RIC.env(), str(HERE))
    assert [(r.data_bytes, r.chunks, r.streamed, r.error_type) for r in run.records] == [
        (5000, 5, True, None)
    ] * 2
    assert run.first_post is not None
    assert run.first_post.value("Lambda-Runtime-Function-Response-Mode") == "streaming"


def test_node_streams_each_write_as_a_chunk() -> None:
    where = os.environ.get("RIC_BENCH_NODE_RIC")
    node, shown = find_node_ric(Path(where) if where else None)
    if node is None:
        pytest.skip(f"Node's client: {shown}")
    run = FakeStreamApi(SPEC, invocations=2).run(
        node.argv("stream_handler.handler"), node.env(), str(HERE)
    )
    assert [(r.data_bytes, r.chunks, r.streamed, r.error_type) for r in run.records] == [
        (5000, 5, True, None)
    ] * 2
    assert run.first_post is not None
    assert run.first_post.value("Lambda-Runtime-Function-Response-Mode") == "streaming"


def test_the_kernels_receive_stamp_on_the_monotonic_clock() -> None:
    timespec = struct.pack("qq", 1_700_000_000, 250)
    stamped = [(socket.SOL_SOCKET, SO_TIMESTAMPNS, timespec)]
    offset = 1_700_000_000 * 10**9 - 5_000
    assert arrival_ns(stamped, offset) == 5_250
    assert arrival_ns([], offset) is None
    assert arrival_ns([(socket.IPPROTO_TCP, SO_TIMESTAMPNS, timespec)], offset) is None
    assert arrival_ns([(socket.SOL_SOCKET, SO_TIMESTAMPNS, timespec[:8])], offset) is None


def test_a_loopback_read_comes_with_a_stamp_between_the_send_and_the_read() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    server.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)  # inherited by accepted sockets
    with server, socket.create_connection(server.getsockname()) as client:
        peer, _ = server.accept()
        with peer:
            # The kernel turns stamping on a little after the first socket
            # asks (deferred work): reads until one is stamped, boundedly.
            for _ in range(100_000):
                sent = time.monotonic_ns()
                client.sendall(b"hello")
                data, ancillary, _, _ = peer.recvmsg(16, socket.CMSG_SPACE(16))
                read = time.monotonic_ns()
                stamped = arrival_ns(ancillary, time.time_ns() - read)
                if stamped is not None:
                    break
    assert data == b"hello"
    assert stamped is not None
    # The realtime-to-monotonic offset is read apart from the stamp: 1 ms of slack.
    assert sent - 1_000_000 <= stamped <= read + 1_000_000
