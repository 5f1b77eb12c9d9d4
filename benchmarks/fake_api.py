"""A fake Runtime API that is never the bottleneck, for measuring a client from outside.

It serves one client connection on loopback with pre-built responses and
``TCP_NODELAY``: ``N`` events of the same body, each answered ``202`` when the
client posts its result. It measures the client, not itself: CPU time from
``/proc/PID/schedstat`` (nanoseconds), wall time between consecutive
``GET /next``, and RSS from ``/proc/PID/status``.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import time
from dataclasses import dataclass, field

__all__ = ["ClientRun", "FakeRuntimeApi", "cpu_ns", "rss_kib"]

_ACCEPTED = (
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
    b'Content-Length: 16\r\n\r\n{"status":"OK"}\n'
)


def cpu_ns(pid: int) -> int:
    """CPU time the process has used so far, in nanoseconds (all its threads)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def rss_kib(pid: int) -> int:
    """Resident set size of the process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


_ARN = "arn:aws:lambda:us-east-1:123456789012:function:bench"


def _next_head(index: int, body: bytes) -> bytes:
    deadline = int(time.time() * 1000) + 900_000
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json\r\n"
        f"Lambda-Runtime-Aws-Request-Id: req-{index:08d}\r\n"
        f"Lambda-Runtime-Deadline-Ms: {deadline}\r\n"
        f"Lambda-Runtime-Invoked-Function-Arn: {_ARN}\r\n"
        "Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode()


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

    def read_request(self) -> bytes | None:
        """The request line of the next request; its body is read and dropped."""
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
        del self.buf[:length]
        return head.split(b"\r\n", 1)[0]

    def _fill(self) -> bool:
        size = self.sock.recv_into(self.view)
        self.buf += self.view[:size]
        return size > 0


class FakeRuntimeApi:
    """Serves ``warmup + invocations`` events to one client command, then stops it."""

    def __init__(self, body: bytes, invocations: int, warmup: int = 0) -> None:
        self.body = body
        self.invocations = invocations
        self.warmup = warmup
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
        result = ClientRun()
        self.listener.settimeout(60)
        sock, _ = self.listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Conn(sock)
        total = self.warmup + self.invocations
        heads = [_next_head(i, self.body) for i in range(total)]
        begin_cpu = begin_server = 0
        begin_wall = last_next = 0.0
        served = 0
        while (line := conn.read_request()) is not None:
            now = time.perf_counter()
            if not line.startswith(b"GET "):
                if served == 1 and not result.first_response_s:
                    result.first_response_s = now - started
                sock.sendall(_ACCEPTED)
                continue
            if served == 0:
                result.first_next_s = now - started
                result.rss_first_next_kib = rss_kib(process.pid)
            if served == self.warmup:
                begin_cpu, begin_server = cpu_ns(process.pid), time.process_time_ns()
                begin_wall = now
            elif served > self.warmup:
                result.cycles_us.append((now - last_next) * 1e6)
            last_next = now
            if served == total:
                result.cpu_ns = cpu_ns(process.pid) - begin_cpu
                result.server_cpu_ns = time.process_time_ns() - begin_server
                result.wall_s = now - begin_wall
                result.invocations = self.invocations
                result.rss_end_kib = rss_kib(process.pid)
                break
            _send(sock, heads[served], self.body)
            served += 1
        sock.close()
        return result


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
