"""A fake Runtime API that times streamed responses as their bytes arrive.

Like ``fake_api.FakeRuntimeApi`` it serves one client process ``warmup +
invocations`` events and measures it from outside, but each event asks the
handler for a stream (``{"chunks": N, "size": S}``) and each response is read
as it arrives, never held: a chunked one (``Transfer-Encoding: chunked``
with trailers, as "Response streaming" in the Lambda Runtime API docs
describes it) or a buffered one (``Content-Length``). For every response it
records when its first body byte arrived and when its last chunk ended,
against the handler's clock stamp in the first bytes (``stream_timing``);
over the measured invocations, the client's CPU time (all threads) and its
peak RSS.

It serves any number of connections: Node's client polls ``GET /next``
through its native addon and posts a stream on a connection of its own.

Arrival is the kernel's receive timestamp of the bytes (``SO_TIMESTAMPNS``,
socket(7)), not the moment this process got to read them: on a busy
two-core machine the fake API's own wake-up would otherwise add tens of
microseconds, unevenly, to a first byte that takes fifteen. On loopback the
stamp is taken as the client's write hands the bytes over. A TCP read
reports the stamp of the last packet it took, so until a request's first
body byte has come reads are small; and a packet that arrives while the one
before it is unread is merged into it, stamp and all, so a fake API slow to
read sees a first byte later than it came, never earlier. A read without a
stamp (the kernel gives none) is timed when it is read, and counted.
"""

from __future__ import annotations

import json
import selectors
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chunked import ChunkedBody, RequestHead, SizedBody, body_reader, parse_head
from fake_api import cpu_ns, next_head, rss_kib
from stream_timing import STAMP, StreamRecord, StreamTimer

__all__ = [
    "FIRST_READ",
    "FakeStreamApi",
    "StreamRun",
    "StreamSpec",
    "arrival_ns",
    "realtime_offset",
    "stamped_read",
]

_ACCEPTED = (
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
    b'Content-Length: 16\r\n\r\n{"status":"OK"}\n'
)
# Runtime API, "Response streaming": the trailer a runtime names for an error mid-stream.
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
# Of an error post, as much of the body as a message shows.
_ERROR_KEEP = 2000
# socket(7): SO_TIMESTAMPNS (SO_TIMESTAMPNS_OLD on 64-bit Linux, which the
# socket module does not name) and its SCM_TIMESTAMPNS message, a struct
# timespec of CLOCK_REALTIME.
SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("qq")
_ANCILLARY = socket.CMSG_SPACE(_TIMESPEC.size)
# Bytes read at a time until a request's first body byte has come.
FIRST_READ = 512


def arrival_ns(ancillary: list[tuple[int, int, bytes]], realtime_offset_ns: int) -> int | None:
    """The kernel's receive stamp in a read's ancillary data, on the monotonic clock.

    ``realtime_offset_ns``: CLOCK_REALTIME minus the monotonic clock, now.
    None when the read came without a stamp.
    """
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            return int(seconds) * 1_000_000_000 + int(nanoseconds) - realtime_offset_ns
    return None


@dataclass(frozen=True)
class StreamSpec:
    """What every event asks the handler to stream: ``chunks`` chunks of ``size`` bytes."""

    chunks: int
    size: int

    def __post_init__(self) -> None:
        if self.chunks < 1 or self.size < STAMP:
            raise ValueError(f"a stream is at least one chunk of {STAMP} bytes, not {self}")

    @property
    def total(self) -> int:
        return self.chunks * self.size

    def event(self) -> bytes:
        return json.dumps({"chunks": self.chunks, "size": self.size}).encode()


@dataclass
class StreamRun:
    """What was measured of one client process over its measured invocations."""

    records: list[StreamRecord] = field(default_factory=list)
    cpu_ns: int = 0  # the client's, all threads
    server_cpu_ns: int = 0  # this process's, over the same span
    wall_s: float = 0.0
    peak_rss_kib: int = 0  # the client's VmHWM at the end
    first_post: RequestHead | None = None  # the head of the first response posted
    unstamped_reads: int = 0  # timed when read: the kernel gave no stamp

    @property
    def data_bytes(self) -> int:
        return sum(r.data_bytes for r in self.records)


def realtime_offset(clock: Callable[[], int]) -> int:
    """CLOCK_REALTIME minus ``clock``, each read once, the monotonic one either side."""
    before = clock()
    real = time.time_ns()
    return real - (before + clock()) // 2


def stamped_read(
    sock: socket.socket, view: memoryview, clock: Callable[[], int]
) -> tuple[int, int | None, int]:
    """One read into ``view``: its size, when its bytes came, and ``clock`` after the read.

    When they came is the kernel's receive stamp (``SO_TIMESTAMPNS`` set on
    the socket) on ``clock``, no later than the read; None without one.
    """
    size, ancillary, _, _ = sock.recvmsg_into([view], _ANCILLARY)
    read = clock()
    stamped = arrival_ns(ancillary, realtime_offset(clock))
    return size, None if stamped is None else min(stamped, read), read


class _ClientFailed(Exception):
    """The client posted an error: a benchmark of a failing handler measures nothing."""


class _Peer:
    """One connection: the head being read, or the body of the request it began."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.head: RequestHead | None = None
        self.body: ChunkedBody | SizedBody | None = None
        self.timer = StreamTimer()

    @property
    def before_body(self) -> bool:
        """No byte of the current request's body has come yet (or no request has begun)."""
        return self.body is None or not self.body.data_bytes


class FakeStreamApi:
    """Serves ``warmup + invocations`` stream events to one client command, then stops it."""

    def __init__(
        self,
        spec: StreamSpec,
        invocations: int,
        warmup: int = 1,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.spec = spec
        self.event = spec.event()
        self.invocations = invocations
        self.warmup = warmup
        self.clock = clock
        self.listener = socket.create_server(("127.0.0.1", 0))
        # The kernel turns stamping on a little after a first socket asks:
        # asking now, well before the client connects, has it on in time.
        self.listener.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.run_ = StreamRun()
        self.served = 0
        self.pid = 0
        self.epoch = int(time.time())  # of the trace ids
        self._begin = (0, 0, 0)  # client CPU, own CPU, clock at the first measured event
        self._view = memoryview(bytearray(1 << 20))

    def run(self, command: list[str], env: dict[str, str], cwd: str) -> StreamRun:
        """Serve the client ``command``; what it streamed, or RuntimeError if it failed."""
        env = {**env, "AWS_LAMBDA_RUNTIME_API": self.address}
        # A file, not a pipe: a client that logs a lot would block on a full pipe.
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(
                command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors
            )
            self.pid = process.pid
            try:
                self._serve(process)
                failure = None
            except (_ClientFailed, OSError, ValueError) as exc:
                failure = exc
            finally:
                process.kill()
                process.wait()
                self.listener.close()
            if failure is not None:
                errors.seek(0)
                tail = errors.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"{command}: {failure}\n{tail}") from failure
        return self.run_

    def _serve(self, process: subprocess.Popen[bytes]) -> None:
        quiet = 0  # seconds without a byte from the client
        with selectors.DefaultSelector() as selector:
            selector.register(self.listener, selectors.EVENT_READ)
            try:
                while self.served <= self.warmup + self.invocations:
                    ready = selector.select(timeout=1)
                    quiet = 0 if ready else quiet + 1
                    if not ready and process.poll() is not None:
                        raise _ClientFailed(f"the client exited ({process.returncode})")
                    if quiet >= 60:
                        raise TimeoutError("the client sent nothing for 60 s")
                    for key, _ in ready:
                        self._ready(selector, key)
            finally:
                for key in list(selector.get_map().values()):
                    if key.fileobj is not self.listener:
                        key.fileobj.close()  # type: ignore[union-attr]

    def _ready(self, selector: selectors.BaseSelector, key: selectors.SelectorKey) -> None:
        if key.fileobj is self.listener:
            sock, _ = self.listener.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            selector.register(sock, selectors.EVENT_READ, _Peer(sock))
            return
        peer: _Peer = key.data
        view = self._view[:FIRST_READ] if peer.before_body else self._view
        size, stamped, read = stamped_read(peer.sock, view, self.clock)
        if stamped is None and size:
            self.run_.unstamped_reads += 1
        now = read if stamped is None else stamped
        if not size:
            selector.unregister(peer.sock)
            peer.sock.close()
            if peer.head is not None or peer.buf:
                raise ValueError("the client hung up in the middle of a request")
            return
        self._received(peer, self._view[:size], now)

    def _received(self, peer: _Peer, data: memoryview, now: int) -> None:
        while len(data) and self.served <= self.warmup + self.invocations:
            if peer.body is None:
                peer.buf += data
                end = peer.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = parse_head(bytes(peer.buf[:end]))
                data = memoryview(bytes(peer.buf[end + 4 :]))
                peer.buf.clear()
                self._began(peer, head, now)
                continue
            used = peer.body.feed(data)
            peer.timer.counted(peer.body.prefix, peer.body.data_bytes, now)
            data = data[used:]
            if peer.body.done:
                self._ended(peer, now)

    def _began(self, peer: _Peer, head: RequestHead, now: int) -> None:
        if head.method == "GET":
            self._next(peer.sock, now)
            return
        error = not head.target.endswith("/response")
        peer.head = head
        peer.body = body_reader(head, _ERROR_KEEP if error else STAMP)
        peer.timer = StreamTimer()
        if peer.body.done:
            self._ended(peer, now)

    def _ended(self, peer: _Peer, now: int) -> None:
        head, body = peer.head, peer.body
        assert head is not None and body is not None
        peer.head = peer.body = None
        if not head.target.endswith("/response"):
            raise _ClientFailed(f"{head.target}: {body.prefix.decode(errors='replace')}")
        if self.run_.first_post is None:
            self.run_.first_post = head
        if self.served > self.warmup:
            streamed = isinstance(body, ChunkedBody)
            errors = {k.lower(): v for k, v in body.trailers}
            error_type = errors.get(ERROR_TYPE.lower())
            self.run_.records.append(peer.timer.record(now, body.chunks, streamed, error_type))
        peer.sock.sendall(_ACCEPTED)

    def _next(self, sock: socket.socket, now: int) -> None:
        if self.served == self.warmup:
            self._begin = (cpu_ns(self.pid), time.process_time_ns(), now)
        if self.served == self.warmup + self.invocations:
            self._finish(now)
        else:
            wall_ms = int(time.time() * 1000)
            sock.sendall(next_head(self.served, self.event, self.epoch, wall_ms) + self.event)
        self.served += 1

    def _finish(self, now: int) -> None:
        client, server, began = self._begin
        self.run_.cpu_ns = cpu_ns(self.pid) - client
        self.run_.server_cpu_ns = time.process_time_ns() - server
        self.run_.wall_s = (now - began) / 1e9
        self.run_.peak_rss_kib = rss_kib(self.pid, "VmHWM")
