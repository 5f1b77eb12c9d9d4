"""AWS_LAMBDA_MAX_CONCURRENCY > 1: `python -m ric` as a supervisor of worker processes.

Invocations are made to overlap with a rendezvous: each waits until ``n`` have
started, which only ``n`` different processes can do.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TaskRoot
from tests.integration.runtime_api import (
    EventQueue,
    RuntimeGroup,
    ScriptedRuntimeApi,
    lambda_env,
    ric_command,
    wait_until_gone,
)

APP = """
import json, os, sys, time
import ric

@ric.on_shutdown
def note():
    with open(os.path.join(os.environ["MARKS"], str(os.getpid())), "w") as file:
        file.write("hook ran")

def logs(event, context):
    import logging
    logging.warning("from %s", context.aws_request_id)
    return rendezvous(event, context)

def leave_or_meet(event, context):
    if not event:
        sys.exit(1)
    return rendezvous(event, context)

def rendezvous(event, context):
    open(os.path.join(event["dir"], context.aws_request_id), "w").close()
    deadline = time.monotonic() + 20
    while len(os.listdir(event["dir"])) < event["n"] and time.monotonic() < deadline:
        time.sleep(0.01)
    print("served", context.aws_request_id, flush=True)
    return {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "request_id": context.aws_request_id,
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "provider": os.environ.get("_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET"),
    }
"""

Start = Callable[..., RuntimeGroup]


@pytest.fixture
def app(task_root: TaskRoot) -> Path:
    return task_root.write("app.py", APP).parent


@pytest.fixture
def start(runtime_api: ScriptedRuntimeApi) -> Iterator[Start]:
    """Starts runtimes with N workers; kills each one's whole process group at the end."""
    started: list[RuntimeGroup] = []

    def start_runtime(
        task_root: Path, handler: str, workers: int, pass_fds: tuple[int, ...] = (), **env: str
    ) -> RuntimeGroup:
        environ = lambda_env(
            runtime_api.address,
            task_root,
            AWS_LAMBDA_MAX_CONCURRENCY=str(workers),
            MARKS=str(task_root),
            **env,
        )
        runtime = RuntimeGroup(ric_command(handler), environ, task_root, pass_fds)
        started.append(runtime)
        return runtime

    yield start_runtime
    for runtime in started:
        runtime.stop()


@pytest.fixture
def queue(runtime_api: ScriptedRuntimeApi) -> EventQueue:
    return EventQueue(runtime_api)


def overlap(
    queue: EventQueue, tmp_path: Path, name: str, ids: list[str], n: int
) -> list[dict[str, Any]]:
    """Queue events for ``ids`` that rendezvous in groups of ``n``; the decoded results."""
    directory = tmp_path / name
    directory.mkdir()
    for request_id in ids:
        event = json.dumps({"dir": str(directory), "n": n}).encode()
        queue.put(request_id, event, **{"Lambda-Runtime-Trace-Id": f"Root=trace-{request_id}"})
    answered = queue.wait_for_responses(*ids, count=n)
    return [json.loads(body) for body in answered.values()]


def test_each_worker_serves_in_its_own_process(
    start: Start, queue: EventQueue, app: Path, tmp_path: Path
) -> None:
    runtime = start(app, "app.rendezvous", 3)
    results = overlap(queue, tmp_path, "round", ["r-1", "r-2", "r-3"], 3)
    assert len({result["pid"] for result in results}) == 3
    assert {result["ppid"] for result in results} == {runtime.process.pid}


def test_concurrent_invocations_see_only_their_own_request_and_trace(
    start: Start, queue: EventQueue, app: Path, tmp_path: Path
) -> None:
    start(app, "app.rendezvous", 2)
    ids = ["req-a", "req-b", "req-c", "req-d"]
    first = overlap(queue, tmp_path, "first", ids[:2], 2)
    second = overlap(queue, tmp_path, "second", ids[2:], 2)
    for result in first + second:
        assert result["trace"] == f"Root=trace-{result['request_id']}"
    assert sorted(result["request_id"] for result in first + second) == ids


def test_a_killed_worker_is_replaced_and_its_death_logged(
    start: Start, queue: EventQueue, app: Path, tmp_path: Path
) -> None:
    runtime = start(app, "app.rendezvous", 2)
    victim, survivor = (result["pid"] for result in overlap(queue, tmp_path, "a", ["a1", "a2"], 2))
    os.kill(victim, signal.SIGKILL)
    # Three events for two workers: the killed worker's parked GET /next may take one.
    ids = ["b1", "b2", "b3"]
    after = overlap(queue, tmp_path, "b", ids, 2)
    if survivor not in {result["pid"] for result in after}:
        # The replacement answered twice first: it met the survivor, whose answer is
        # the third (a runtime that asks again at once can win that race).
        after = [json.loads(body) for body in queue.wait_for_responses(*ids, count=3).values()]
    pids = {result["pid"] for result in after}
    assert victim not in pids
    assert survivor in pids
    (replacement,) = pids - {survivor}
    assert {result["ppid"] for result in after} == {runtime.process.pid}
    runtime.stop()
    line = rf"\[WARNING\] \[\d+\] LAMBDA_RUNTIME worker \d \(pid {victim}\) died of SIGKILL; "
    # It may have lived less than a second: then the new one starts after a short delay.
    line += r"starting a new one( in [\d.]+ s)?\n"
    assert re.search(line.encode(), runtime.stdout), runtime.stdout
    assert f"(pid {replacement})".encode() not in runtime.stdout


def test_no_worker_outlives_a_killed_supervisor(
    start: Start, queue: EventQueue, app: Path, tmp_path: Path
) -> None:
    runtime = start(app, "app.rendezvous", 3)
    pids = [result["pid"] for result in overlap(queue, tmp_path, "r", ["x", "y", "z"], 3)]
    os.kill(runtime.process.pid, signal.SIGKILL)
    assert runtime.wait() == -signal.SIGKILL
    assert wait_until_gone(pids) == []


def test_sigterm_stops_every_worker_and_exits_0(
    start: Start, queue: EventQueue, app: Path, tmp_path: Path
) -> None:
    runtime = start(app, "app.rendezvous", 2)
    pids = [result["pid"] for result in overlap(queue, tmp_path, "r", ["x", "y"], 2)]
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait() == 0
    assert wait_until_gone(pids, timeout=5) == []
    assert b"died of" not in runtime.stdout
    # Every worker ran its on_shutdown hook; the supervisor registered once, for all.
    assert all((app / str(pid)).read_text() == "hook ran" for pid in pids)
    assert queue.registrations == ["ric-graceful-shutdown"]
    assert b"no shutdown extension" not in runtime.stdout


def test_a_worker_the_function_ends_is_replaced(
    start: Start, queue: EventQueue, app: Path, tmp_path: Path
) -> None:
    runtime = start(app, "app.leave_or_meet", 2)
    queue.put("bye")
    pids = [result["pid"] for result in overlap(queue, tmp_path, "after", ["s1", "s2"], 2)]
    # Two workers serve again: the one that left was replaced, and said so.
    assert len(set(pids)) == 2
    runtime.stop()
    assert b"exited with status 1; starting a new one" in runtime.stdout


def test_init_error_is_reported_once_and_the_supervisor_exits_1(
    start: Start, queue: EventQueue, task_root: TaskRoot
) -> None:
    runtime = start(task_root.path, "absent_module.handler", 3)
    assert runtime.wait() == 1
    assert queue.init_errors == [202, 403, 403]
    assert runtime.stdout.count(b"Runtime.ImportModuleError") == 3
    assert runtime.stdout.count(b"init failed; not replacing it") == 3
    assert b"not delivered" not in runtime.stdout
    # Each worker's report of its own init error, and the supervisor's note: nothing else.
    for line in runtime.stdout.rstrip(b"\n").split(b"\n"):
        assert line.startswith(b"[ERROR] Runtime.ImportModuleError") or line.endswith(
            b"init failed; not replacing it"
        ), line
    assert runtime.stderr == b""


class LogProvider:
    """A _LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET: every connection is a log stream."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.streams: list[bytearray] = []
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(16)
        self._readers: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            stream = bytearray()
            self.streams.append(stream)
            reader = threading.Thread(target=self._read, args=(connection, stream), daemon=True)
            self._readers.append(reader)
            reader.start()

    def _read(self, connection: socket.socket, stream: bytearray) -> None:
        with connection:
            while chunk := connection.recv(4096):
                stream.extend(chunk)

    def close(self) -> bytes:
        """Stop accepting; everything received, once every writer has gone."""
        self._listener.close()
        for reader in self._readers:
            reader.join(10)
        return b"".join(self.streams)


def test_each_worker_logs_to_descriptors_from_the_provider(
    start: Start, queue: EventQueue, app: Path, tmp_path: Path
) -> None:
    with tempfile.TemporaryDirectory(prefix="ric-") as directory:
        provider = LogProvider(os.path.join(directory, "fd.sock"))
        runtime = start(
            app, "app.rendezvous", 2, _LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET=provider.path
        )
        results = overlap(queue, tmp_path, "r", ["p1", "p2"], 2)
        runtime.stop()
        logged = provider.close()
    assert b"served p1\n" in logged
    assert b"served p2\n" in logged
    assert b"served" not in runtime.stdout
    assert len(provider.streams) == 4  # stdout and stderr of each of the 2 workers
    assert [result["provider"] for result in results] == [None, None]


def test_workers_log_to_stdout_not_to_a_shared_telemetry_descriptor(
    start: Start, queue: EventQueue, app: Path, tmp_path: Path
) -> None:
    read, write = os.pipe()
    try:
        runtime = start(app, "app.logs", 2, (write,), _LAMBDA_TELEMETRY_LOG_FD=str(write))
        overlap(queue, tmp_path, "l", ["l1", "l2"], 2)
        runtime.stop()
        os.set_blocking(read, False)
        with pytest.raises(BlockingIOError):
            os.read(read, 1)  # frames of two processes on one pipe could interleave
    finally:
        os.close(read)
        os.close(write)
    assert re.search(rb"\[WARNING\]\t[^\t]+\tl1\tfrom l1\n", runtime.stdout)
    assert re.search(rb"\[WARNING\]\t[^\t]+\tl2\tfrom l2\n", runtime.stdout)
