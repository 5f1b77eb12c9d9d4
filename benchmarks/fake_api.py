"""A fake Runtime API that is never the bottleneck, for measuring a client from outside.

It serves one client connection on loopback with ``TCP_NODELAY``: ``N`` events
of the same body, each answered ``202`` when the client posts its result (an
internal extension registering on another connection is answered too). As
Lambda does, every event has its own request id and ``Lambda-Runtime-Trace-Id``
(a runtime that sets ``_X_AMZN_TRACE_ID`` with ``setenv`` pays for each new
value). It measures the client, not itself: CPU time from
``/proc/PID/schedstat`` (nanoseconds), wall time between consecutive
``GET /next``, and RSS from ``/proc/PID/status``, at the first ``GET /next``,
at the end and, when asked, every ``sample_every`` invocations.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["ClientRun", "FakeRuntimeApi", "cpu_ns", "next_head", "rss_kib", "trace_id"]

_ACCEPTED = (
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
    b'Content-Length: 16\r\n\r\n{"status":"OK"}\n'
)
# Extensions API reference, "Register": a runtime with shutdown hooks (ric's,
# with a lifespan app under ric.asgi) registers an internal extension on a
# connection of its own during init. It is answered 200 with the extension's
# identifier; its "Next event" is then held unanswered for the rest of the run,
# as Lambda holds it for an extension registered for no events.
_REGISTER = b"POST /2020-01-01/extension/register "
_REGISTERED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    b"Lambda-Extension-Identifier: 6b2d8c3e-0000-4000-8000-000000000001\r\n"
    b'Content-Length: 65\r\n\r\n{"functionName":"bench","functionVersion":"$LATEST","handler":""}'
)


def cpu_ns(pid: int) -> int:
    """CPU time the process's threads have used so far, in nanoseconds.

    ``/proc/PID/schedstat`` is the main thread's alone; a runtime with
    threads of its own (Node's libuv and V8 workers) is the sum over
    ``/proc/PID/task``. A thread that has ended is no longer counted.
    """
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:  # the thread ended since the listing
            continue
    return total


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """Resident set size of the process in KiB (``VmHWM``: its peak so far)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return 0


_ARN = "arn:aws:lambda:us-east-1:123456789012:function:bench"
# Runtime API, "Next invocation": the headers an event comes with. The trace id
# has X-Ray's shape (Root=1-<epoch hex>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>).
_HEAD = (
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Lambda-Runtime-Aws-Request-Id: req-%08d\r\n"
    "Lambda-Runtime-Deadline-Ms: %d\r\n"
    f"Lambda-Runtime-Invoked-Function-Arn: {_ARN}\r\n"
    "Lambda-Runtime-Trace-Id: %s\r\n"
    "Content-Length: %d\r\n\r\n"
).encode()


def trace_id(epoch: int, index: int) -> bytes:
    """The ``index``-th event's trace id: a new value for every invocation, as in Lambda."""
    return b"Root=1-%08x-%024x;Parent=%016x;Sampled=0" % (epoch, index, index)


def next_head(index: int, body: bytes, epoch: int, now_ms: int) -> bytes:
    """The response head of the ``index``-th ``GET /next``, with a 15-minute deadline."""
    return _HEAD % (index, now_ms + 900_000, trace_id(epoch, index), len(body))


@dataclass
class ClientRun:
    """What was measured of one client process."""

    invocations: int = 0
    first_next_s: float = 0.0  # process start to the first GET /next
    first_response_s: float = 0.0  # process start to the first posted result
    rss_first_next_kib: int = 0
    cpu_ns: int = 0  # client CPU over the measured invocations
    wall_s: float = 0.0  # wall time over the measured invocations
    server_cpu_ns: int = 0  # this process's CPU over the same span
    cycles_us: list[float] = field(default_factory=list)
    rss_end_kib: int = 0
    # (invocations served so far, RSS in KiB), every ``sample_every`` invocations
    rss_samples: list[tuple[int, int]] = field(default_factory=list)
    first_post: bytes = b""  # request line of the first post
    first_post_body: bytes = b""  # kept when asked
    error_posts: int = 0  # posts to .../error or /runtime/init/error
    stderr: str = ""

    @property
    def cpu_us_per_invocation(self) -> float:
        return self.cpu_ns / 1000 / max(self.invocations, 1)

    @property
    def server_cpu_us_per_invocation(self) -> float:
        return self.server_cpu_ns / 1000 / max(self.invocations, 1)

    @property
    def per_second(self) -> float:
        return self.invocations / self.wall_s if self.wall_s else 0.0

    def cycle_percentile(self, q: float) -> float:
        if not self.cycles_us:
            return 0.0
        ordered = sorted(self.cycles_us)
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)]

    @property
    def cycle_p50_us(self) -> float:
        return statistics.median(self.cycles_us) if self.cycles_us else 0.0


def _send(sock: socket.socket, head: bytes, body: bytes) -> None:
    if len(body) < 65536:
        sock.sendall(head + body)
        return
    sent = sock.sendmsg([head, body])
    data = memoryview(head + body if sent < len(head) else body)
    sock.sendall(data[sent if sent < len(head) else sent - len(head) :])


class _Conn:
    """Blocking request reader for one client connection."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()
        # One receive buffer: allocating 1 MiB per recv() would cost this
        # server an mmap and a munmap each time.
        self.view = memoryview(bytearray(1 << 20))
        self.body = b""  # the last request's body, when read with keep=True

    def read_request(self, keep: bool = False) -> bytes | None:
        """The request line of the next request; its body is dropped unless ``keep``."""
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            if not self._fill():
                return None
        head = bytes(self.buf[:end])
        del self.buf[: end + 4]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(self.buf) < length:
            if not self._fill():
                return None
        if keep:
            self.body = bytes(self.buf[:length])
        del self.buf[:length]
        return head.split(b"\r\n", 1)[0]

    def _fill(self) -> bool:
        size = self.sock.recv_into(self.view)
        self.buf += self.view[:size]
        return size > 0


class FakeRuntimeApi:
    """Serves ``warmup + invocations`` events to one client command, then stops it.

    ``sample_every``: RSS samples every that many invocations (0: none);
    ``cycles``: keep each next-to-next time (off for long runs);
    ``keep_first_post``: keep the body of the first post;
    ``at_first_next``: called with the client's pid at its first ``GET /next``.
    """

    def __init__(
        self,
        body: bytes,
        invocations: int,
        warmup: int = 0,
        *,
        sample_every: int = 0,
        cycles: bool = True,
        keep_first_post: bool = False,
        at_first_next: Callable[[int], None] | None = None,
    ) -> None:
        self.body = body
        self.invocations = invocations
        self.warmup = warmup
        self.sample_every = sample_every
        self.cycles = cycles
        self.keep_first_post = keep_first_post
        self.at_first_next = at_first_next
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"

    def run(
        self, command: list[str], env: dict[str, str], cwd: str, stderr: bool = False
    ) -> ClientRun:
        """Serve the client ``command``; with ``stderr``, keep what it wrote there."""
        env = {**env, "AWS_LAMBDA_RUNTIME_API": self.address}
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE if stderr else subprocess.DEVNULL,
        )
        try:
            result = self._serve(process, started)
        finally:
            process.kill()
            _, errors = process.communicate()
            self.listener.close()
        result.stderr = (errors or b"").decode(errors="replace")
        return result

    def _serve(self, process: subprocess.Popen[bytes], started: float) -> ClientRun:
        """Serve the runtime's connection: the first one not an extension's registration."""
        self.listener.settimeout(60)
        held: list[socket.socket] = []
        try:
            while True:
                sock, _ = self.listener.accept()
                held.append(sock)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn = _Conn(sock)
                line = conn.read_request()
                now = time.perf_counter()
                if line is not None and line.startswith(_REGISTER):
                    sock.sendall(_REGISTERED)
                    continue
                return _Session(self, conn, process.pid, started).serve(line, now)
        finally:
            for sock in held:
                sock.close()


class _Session:
    """One client connection served to the end: the measuring loop and its counters."""

    def __init__(self, api: FakeRuntimeApi, conn: _Conn, pid: int, started: float) -> None:
        self.api = api
        self.conn = conn
        self.pid = pid
        self.started = started
        self.result = ClientRun()
        self.served = 0
        self.begin_cpu = self.begin_server = 0
        self.begin_wall = self.last_next = 0.0

    def serve(self, line: bytes | None, now: float) -> ClientRun:
        """Serve from the connection's first request (``line``, read at ``now``) on."""
        api, conn = self.api, self.conn
        total = api.warmup + api.invocations
        epoch = int(time.time())
        while line is not None:
            if not line.startswith(b"GET "):
                self._posted(line, now)
                conn.sock.sendall(_ACCEPTED)
            else:
                self._next(now)
                if self.served == total:
                    self._finish(now)
                    break
                head = next_head(self.served, api.body, epoch, int(time.time() * 1000))
                _send(conn.sock, head, api.body)
                self.served += 1
            line = conn.read_request(api.keep_first_post and self.served == 1)
            now = time.perf_counter()
        return self.result

    def _posted(self, line: bytes, now: float) -> None:
        result = self.result
        if line.endswith(b"/error HTTP/1.1"):
            result.error_posts += 1
        if not result.first_post:
            result.first_response_s = now - self.started
            result.first_post = line
            result.first_post_body = self.conn.body

    def _next(self, now: float) -> None:
        api, result, served = self.api, self.result, self.served
        if served == 0:
            result.first_next_s = now - self.started
            result.rss_first_next_kib = rss_kib(self.pid)
            if api.at_first_next is not None:
                api.at_first_next(self.pid)
        if api.sample_every and served % api.sample_every == 0:
            result.rss_samples.append((served, rss_kib(self.pid)))
        if served == api.warmup:
            self.begin_cpu, self.begin_server = cpu_ns(self.pid), time.process_time_ns()
            self.begin_wall = now
        elif served > api.warmup and api.cycles:
            result.cycles_us.append((now - self.last_next) * 1e6)
        self.last_next = now

    def _finish(self, now: float) -> None:
        result = self.result
        result.cpu_ns = cpu_ns(self.pid) - self.begin_cpu
        result.server_cpu_ns = time.process_time_ns() - self.begin_server
        result.wall_s = now - self.begin_wall
        result.invocations = self.api.invocations
        result.rss_end_kib = rss_kib(self.pid)


def _demo() -> None:
    """Serve ten 64-byte events to ``python -m ric`` and print what was measured."""
    here = os.path.dirname(os.path.abspath(__file__))
    api = FakeRuntimeApi(b'{"payload":"' + b"x" * 50 + b'"}', invocations=10)
    run = api.run(
        ["python", "-m", "ric", "handlers.echo"],
        {**os.environ, "PYTHONPATH": os.path.dirname(here)},
        cwd=here,
    )
    print(run)


if __name__ == "__main__":
    _demo()
