"""A fake Runtime API for many connections at once: the concurrency suite's.

As Lambda Managed Instances do, it answers up to ``AWS_LAMBDA_MAX_CONCURRENCY``
``GET /next`` requests at once, each on its own connection. It waits until
``slots`` of them are waiting (every slot has finished its init), then hands
out ``invocations`` events as fast as the slots ask for them, and measures
the whole process tree of the client from outside: wall time from the first
event handed out to the last result posted, CPU time of every process of the
tree over that span (``/proc/PID/schedstat``), and the tree's memory at the
end (the sum of RSS, and of PSS, which counts a page shared by forked workers
once across them rather than once in each).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import threading
import time
from dataclasses import dataclass

from fake_api import cpu_ns, next_head, rss_kib

__all__ = ["ConcurrentApi", "TreeRun", "tree"]

_ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n" + b'{"status":"OK"}\n'


@dataclass
class TreeRun:
    """What was measured of one client process tree."""

    invocations: int
    processes: int
    wall_s: float
    cpu_ns: int
    rss_kib: int
    pss_kib: int

    @property
    def per_second(self) -> float:
        return self.invocations / self.wall_s

    @property
    def cpu_us_per_invocation(self) -> float:
        return self.cpu_ns / 1000 / self.invocations


def tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _pss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


class ConcurrentApi:
    """Serves one client command: ``invocations`` events of ``body`` over ``slots`` connections."""

    def __init__(self, body: bytes, invocations: int, slots: int) -> None:
        self.body = body
        self.invocations = invocations
        self.slots = slots
        self._loop = asyncio.new_event_loop()
        self._waiting = 0
        self._handed = 0
        self._posted = 0
        self._ready = threading.Event()
        self._finished = threading.Event()
        self._gate: asyncio.Event | None = None
        self._closing: asyncio.Event | None = None
        self._epoch = int(time.time())

    def run(self, command: list[str], env: dict[str, str], cwd: str) -> TreeRun:
        server = self._loop.run_until_complete(self._start())
        port = server.sockets[0].getsockname()[1]
        thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        thread.start()
        env = {**env, "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}"}
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            return self._measure(process)
        finally:
            for pid in reversed(tree(process.pid)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
            process.wait()
            asyncio.run_coroutine_threadsafe(self._stop(server), self._loop).result()
            self._loop.call_soon_threadsafe(self._loop.stop)
            thread.join()
            self._loop.close()

    def _measure(self, process: subprocess.Popen[bytes]) -> TreeRun:
        if not self._ready.wait(120):
            raise RuntimeError(f"only {self._waiting} of {self.slots} slots asked for an event")
        pids = tree(process.pid)
        cpu_before = sum(cpu_ns(pid) for pid in pids)
        started = time.perf_counter()
        assert self._gate is not None
        self._loop.call_soon_threadsafe(self._gate.set)
        if not self._finished.wait(600):
            raise RuntimeError(f"only {self._posted} of {self.invocations} results came")
        wall = time.perf_counter() - started
        cpu = sum(cpu_ns(pid) for pid in pids) - cpu_before
        return TreeRun(
            self.invocations,
            len(pids),
            wall,
            cpu,
            sum(rss_kib(pid) for pid in pids),
            sum(_pss_kib(pid) for pid in pids),
        )

    async def _stop(self, server: asyncio.Server) -> None:
        assert self._closing is not None
        self._closing.set()  # slots waiting for an event that never comes give up
        server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        if tasks:
            # The client is gone: its connections end on their own; stragglers are cancelled.
            _, late = await asyncio.wait(tasks, timeout=2)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await asyncio.sleep(0)  # the closed transports let go of their sockets

    async def _start(self) -> asyncio.Server:
        self._gate = asyncio.Event()
        self._closing = asyncio.Event()
        return await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = _content_length(head)
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET "):
                    event = await self._event()
                    if event is None:
                        return
                    writer.write(event)
                else:
                    writer.write(_ACCEPTED)
                    self._posted += 1
                    if self._posted == self.invocations:
                        self._finished.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away
        finally:
            writer.close()

    async def _event(self) -> bytes | None:
        """The next event; None once the run is over (no more events will come)."""
        assert self._gate is not None and self._closing is not None
        self._waiting += 1
        if self._waiting == self.slots:
            self._ready.set()
        await self._gate.wait()
        if self._handed >= self.invocations:
            await self._closing.wait()  # the slot waits, as in an idle environment
            return None
        index = self._handed
        self._handed += 1
        now_ms = int(time.time() * 1000)
        return next_head(index, self.body, self._epoch, now_ms) + self.body


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0
