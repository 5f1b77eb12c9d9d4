"""A runtime process: its environment, start, output, memory, and end.

Each runtime runs in a session of its own, and everything it starts is tracked
by the process tree, so stopping it (SIGTERM, then SIGKILL after the grace
period, as Lambda's shutdown phase does) or killing it (a timeout, a memory
overrun) reaches every process it started, including one that called
``setsid()`` to leave the session.

Output is read as it comes: standard output and error line by line, the
telemetry log descriptor frame by frame, and in multi-concurrency mode each
worker's own streams through the log-descriptor provider socket (the worker's
pid, from the socket's peer credentials, tells whose invocation a line is in).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import socket
import struct
import tempfile
import termios
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulator.environments import procfs
from emulator.environments.output import FrameSplitter, LineSplitter

__all__ = ["OnLine", "ProcessSpec", "RuntimeProcess", "describe_status"]

OnLine = Callable[[str, "int | None"], None]
PROVIDER_ENV = "_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET"
_OUTPUT_GRACE_S = 1.0
_DRAIN_TURNS = 200  # loop turns at most while the kernel still holds unread output


class ProcessSpec:
    """How to start a runtime: the command, its directory and environment."""

    def __init__(
        self, command: tuple[str, ...], cwd: str, env: dict[str, str], provider: bool = False
    ) -> None:
        self.command = command
        self.cwd = cwd
        self.env = env
        self.provider = provider  # serve each worker's output through a provider socket


def describe_status(status: int) -> str:
    """An exit status as Go's os/exec words it in Lambda's messages."""
    if status >= 0:
        return f"exit status {status}"
    try:
        name = signal.strsignal(-status)
    except ValueError:
        name = None
    return f"signal: {name.lower() if name else -status}"


class _Stream(asyncio.Protocol):
    """One output stream, split into lines (or frames) as it arrives."""

    def __init__(self, splitter: LineSplitter | FrameSplitter, on_line: OnLine, pid: int | None):
        self._splitter = splitter
        self._on_line = on_line
        self._pid = pid
        self.done = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        for line in self._splitter.feed(data):
            self._on_line(line, self._pid)

    def flush(self) -> None:
        if isinstance(self._splitter, LineSplitter):
            for line in self._splitter.flush():
                self._on_line(line, self._pid)

    def eof_received(self) -> bool | None:
        self.flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.flush()
        if not self.done.done():
            self.done.set_result(None)


class RuntimeProcess:
    """One runtime process and what it started, its output forwarded to ``on_line``."""

    def __init__(self, on_line: OnLine) -> None:
        self._on_line = on_line
        self.process: asyncio.subprocess.Process | None = None
        self._loose: list[int] = []  # descriptors of ours not yet handed to a transport
        self._readable: list[int] = []  # what drain() asks the kernel about
        self._streams: list[_Stream] = []
        self._transports: list[asyncio.BaseTransport] = []
        self._seen: dict[int, int | None] = {}  # descendants ever seen: pid -> start time
        self._provider: asyncio.Server | None = None
        self._provider_dir: _ProviderDir | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    @classmethod
    async def start(cls, spec: ProcessSpec, on_line: OnLine) -> RuntimeProcess:
        """Spawn the runtime with its output read; nothing is left behind if that fails."""
        self = cls(on_line)
        try:
            await self._spawn(spec)
        except BaseException:
            self._abandon()
            raise
        return self

    async def _spawn(self, spec: ProcessSpec) -> None:
        env = dict(spec.env)
        pipes = [os.pipe() for _ in range(3)]  # stdout, stderr, the telemetry log descriptor
        self._loose = [fd for pair in pipes for fd in pair]
        log_write = pipes[2][1]
        # The telemetry log descriptor, as managed runtimes get it: records as frames.
        env.setdefault("_LAMBDA_TELEMETRY_LOG_FD", str(log_write))
        if spec.provider:  # listening before the spawn: a worker connects as it forks
            env[PROVIDER_ENV] = await self._serve_provider()
        try:
            self.process = await asyncio.create_subprocess_exec(
                *spec.command,
                cwd=spec.cwd,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=pipes[0][1],
                stderr=pipes[1][1],
                pass_fds=(log_write,),
                start_new_session=True,
            )
        finally:
            for _, write in pipes:
                self._loose.remove(write)
                os.close(write)
        for index, (read, _) in enumerate(pipes):
            await self._read(read, FrameSplitter() if index == 2 else LineSplitter())

    async def _read(self, fd: int, splitter: LineSplitter | FrameSplitter) -> None:
        stream = _Stream(splitter, self._on_line, None)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.connect_read_pipe(
            lambda: stream, os.fdopen(fd, "rb", buffering=0)
        )
        self._loose.remove(fd)
        self._transports.append(transport)
        self._readable.append(fd)
        self._streams.append(stream)

    async def _serve_provider(self) -> str:
        def connected() -> asyncio.Protocol:
            return _ProviderStream(self)

        self._provider_dir = _ProviderDir()
        path = self._provider_dir.path
        self._provider = await asyncio.get_running_loop().create_unix_server(connected, path)
        return path

    def add_stream(self, stream: _Stream, transport: asyncio.BaseTransport, fd: int) -> None:
        self._streams.append(stream)
        self._transports.append(transport)
        self._readable.append(fd)

    def _abandon(self) -> None:
        """After a failed start: the process killed, every descriptor and file let go."""
        for fd in self._loose:
            os.close(fd)
        self._loose = []
        if self.process is not None and self.process.returncode is None:
            self._signal_all(signal.SIGKILL)
        self._close_output()

    def _close_output(self) -> None:
        for transport in self._transports:
            transport.close()
        if self._provider is not None:
            self._provider.close()
        if self._provider_dir is not None:
            self._provider_dir.close()
            self._provider_dir = None

    # -- what the driver asks ------------------------------------------------------

    async def drain(self) -> None:
        """Forward what the runtime wrote so far, partial lines included.

        A runtime flushes its output before it posts a result; its lines must
        come before the END line, as Lambda's do. What the kernel no longer
        holds, the loop has already handed to the streams.
        """
        if any(_unread(fd) for fd in self._readable):
            for _ in range(_DRAIN_TURNS):
                await asyncio.sleep(0.001)
                if not any(_unread(fd) for fd in self._readable):
                    break
            for _ in range(3):  # let the protocols take what the loop read
                await asyncio.sleep(0)
        for stream in self._streams:
            stream.flush()

    def memory_mb(self) -> tuple[int, int]:
        """``(resident now, peak)`` of the runtime and everything below it, in MB."""
        rss = peak = 0
        for pid in self._tree():
            now, high = procfs.memory_kib(pid)
            rss, peak = rss + now, peak + high
        return max(1, round(rss / 1024)), max(1, round(peak / 1024))

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def owner_of(self, inode: int) -> int | None:
        """The runtime's process (or one below it) that holds socket ``inode``, if any."""
        return procfs.owner(inode, self._tree())

    async def exited(self) -> int:
        """The exit status once the process has exited (-N: killed by signal N)."""
        assert self.process is not None, "not started"
        return await self.process.wait()

    def kill(self) -> None:
        """SIGKILL the runtime and every process it started, at once."""
        self._signal_all(signal.SIGKILL)

    async def stop(self, grace_s: float) -> None:
        """SIGTERM, SIGKILL what is left after ``grace_s``; then its output to the end."""
        process = self.process
        assert process is not None, "not started"
        if process.returncode is None:
            self._signal_all(signal.SIGTERM)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(process.wait()), grace_s)
        self._signal_all(signal.SIGKILL)
        await process.wait()
        # A descendant that escaped may keep the pipes open: read a moment more, no longer.
        pending = [stream.done for stream in self._streams]
        await asyncio.wait(pending, timeout=_OUTPUT_GRACE_S)
        self._close_output()

    # -- the process tree ----------------------------------------------------------

    def _tree(self) -> list[int]:
        """The runtime's processes now; each is remembered, so it can be killed later."""
        tree = procfs.descendants(self.pid)
        for pid in tree:
            if pid not in self._seen:
                self._seen[pid] = procfs.start_time(pid)
        return tree

    def _signal_all(self, signum: int) -> None:
        self._tree()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)
        for pid, started in list(self._seen.items()):
            if pid == self.pid or procfs.start_time(pid) != started or started is None:
                continue  # gone, or another process by now
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)


class _ProviderDir:
    """A private directory holding the log-descriptor provider socket."""

    def __init__(self) -> None:
        self.directory = tempfile.TemporaryDirectory(prefix="emulator-log-")
        self.path = str(Path(self.directory.name) / "provider.sock")

    def close(self) -> None:
        self.directory.cleanup()


class _ProviderStream(_Stream):
    """A worker's stream through the provider socket: its pid from SO_PEERCRED."""

    def __init__(self, owner: RuntimeProcess) -> None:
        super().__init__(LineSplitter(), owner._on_line, None)
        self._owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock: Any = transport.get_extra_info("socket")
        with contextlib.suppress(OSError, AttributeError):
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            self._pid = struct.unpack("3i", creds)[0]
        self._owner.add_stream(self, transport, sock.fileno())


def _unread(fd: int) -> int:
    """Bytes written to the pipe and not read yet (FIONREAD)."""
    try:
        count: int = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    except OSError:  # closed: nothing more will come
        return 0
    return count
