"""Runtime processes: their environment, start, output, memory and end.

Each runtime runs in a session of its own, so that stopping it (SIGTERM, then
SIGKILL after the grace period, as Lambda's shutdown phase does) or killing
it on a timeout reaches every process it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import fcntl
import os
import signal
import struct
import sys
import termios
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from emulator.config import BOOTSTRAP, FunctionConfig

__all__ = ["RuntimeProcess", "lambda_environment", "peak_rss_mb"]

# Passed through from the emulator's own environment: what a process needs to
# run at all, and the caller's AWS credentials, as SAM CLI passes them.
_INHERITED = (
    "PATH",
    "LANG",
    "HOME",
    "TMPDIR",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    # coverage.py's subprocess measurement: a function run under coverage
    # locally is measured in its runtime too.
    "COVERAGE_PROCESS_CONFIG",
    "COVERAGE_PROCESS_START",
)
_LINE_LIMIT = 16 * 1024 * 1024
_OUTPUT_GRACE_S = 1.0
_READ_SIZE = 64 * 1024


def lambda_environment(function: FunctionConfig, runtime_api: str) -> dict[str, str]:
    """A runtime's environment: Lambda's variables and nothing else of ours.

    "Defined runtime environment variables":
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
    """
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y/%m/%d")
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": function.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{day}/[{function.version}]{uuid.uuid4().hex}",
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "LAMBDA_TASK_ROOT": function.code_dir,
            "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
            "_HANDLER": function.handler,
            "TZ": ":UTC",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            # Our bootstrap runs the runtime with the emulator's own Python,
            # where ric is installed.
            "RIC_PYTHON": sys.executable,
        }
    )
    if function.max_concurrency > 1:
        env["AWS_LAMBDA_MAX_CONCURRENCY"] = str(function.max_concurrency)
    env.update(function.environment)
    return env


def peak_rss_mb(pid: int) -> int:
    """Peak resident memory of a process and its descendants, in MB (Max Memory Used)."""
    total_kib = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        total_kib += _status_kib(current, "VmHWM:")
        pending.extend(_children(current))
    return max(1, round(total_kib / 1024))


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                found.extend(int(c) for c in (task / "children").read_text().split())
    return found


class RuntimeProcess:
    """One runtime process, its output forwarded line by line to ``on_line``."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        pipes: list[int],
        readers: list[asyncio.Task[None]],
        lines: list[_Lines],
    ) -> None:
        self.process = process
        self.pid = process.pid
        self._pipes = pipes
        self._readers = readers
        self._lines = lines

    @classmethod
    async def start(
        cls, function: FunctionConfig, runtime_api: str, on_line: Callable[[str], None]
    ) -> RuntimeProcess:
        # Our own pipes, so that drain() can ask the kernel what is still unread.
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        log_read, log_write = os.pipe()
        env = lambda_environment(function, runtime_api)
        # The telemetry log descriptor, as managed runtimes get it: records as
        # frames, a multi-line record in one piece.
        env.setdefault("_LAMBDA_TELEMETRY_LOG_FD", str(log_write))
        try:
            process = await asyncio.create_subprocess_exec(
                *function.command,
                cwd=function.code_dir,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out_write,
                stderr=err_write,
                pass_fds=(log_write,),
                start_new_session=True,
            )
        except OSError:
            for fd in (out_read, err_read, log_read):
                os.close(fd)
            raise
        finally:
            for fd in (out_write, err_write, log_write):
                os.close(fd)
        lines = [_Lines(on_line), _Lines(on_line)]
        readers = [
            await _reader(fd, forward)
            for fd, forward in zip((out_read, err_read), lines, strict=True)
        ]
        readers.append(await _reader(log_read, lambda stream: _frames(stream, on_line)))
        return cls(process, [out_read, err_read, log_read], readers, lines)

    async def drain(self) -> None:
        """Wait until what the runtime wrote so far has been forwarded.

        A runtime flushes its output before it posts a result; the log lines
        must come before the END line, as Lambda's do.
        """
        for _ in range(200):  # bounded: 200 turns of the loop at most
            if not any(_unread(fd) for fd in self._pipes):
                break
            await asyncio.sleep(0.001)
        for _ in range(3):  # let the forwarders take what the loop read
            await asyncio.sleep(0)
        for lines in self._lines:
            lines.flush()

    async def exited(self) -> int:
        """The exit status once the process has exited (-N: killed by signal N)."""
        return await self.process.wait()

    async def wait(self) -> int:
        """The exit status, once the process's group is gone and its output read.

        A descendant that escaped the group may keep the output pipes open: its
        output is read for a moment more, then no longer.
        """
        status = await self.process.wait()
        self._signal(signal.SIGKILL)  # what the runtime left behind in its group
        _, pending = await asyncio.wait(self._readers, timeout=_OUTPUT_GRACE_S)
        for reader in pending:
            reader.cancel()
        return status

    def kill(self) -> None:
        """SIGKILL the whole process group at once (a timed-out environment)."""
        self._signal(signal.SIGKILL)

    async def stop(self, grace_s: float) -> None:
        """SIGTERM, then SIGKILL if the group is still there after ``grace_s``."""
        if self.process.returncode is None:
            self._signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(self.process.wait()), grace_s)
            except asyncio.TimeoutError:
                self._signal(signal.SIGKILL)
        await self.wait()

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)


Forwarder = Callable[[asyncio.StreamReader], Awaitable[None]]


async def _reader(fd: int, forward: Forwarder) -> asyncio.Task[None]:
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader(limit=_LINE_LIMIT)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(stream), os.fdopen(fd, "rb", buffering=0)
    )
    return asyncio.ensure_future(forward(stream))


def _unread(fd: int) -> int:
    """Bytes written to the pipe and not read yet (FIONREAD)."""
    try:
        count: int = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    except OSError:  # closed: nothing more will come
        return 0
    return count


async def _frames(stream: asyncio.StreamReader, on_line: Callable[[str], None]) -> None:
    """Telemetry frames: 4-byte type, 4-byte length, 8-byte timestamp (big-endian), payload."""
    while True:
        try:
            header = await stream.readexactly(16)
            _, length, _ = struct.unpack(">IIQ", header)
            payload = await stream.readexactly(length)
        except asyncio.IncompleteReadError:
            return
        on_line(payload.decode("utf-8", "replace").rstrip("\n"))


class _Lines:
    """Splits a stream into lines; a partial line waits until ``flush``.

    Output without a final newline (``context.log``, ``print(end="")``) is
    flushed as a line of its own when the invocation ends, as Lambda does.
    """

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self._on_line = on_line
        self._partial = b""

    async def __call__(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(_READ_SIZE):
            *lines, self._partial = (self._partial + chunk).split(b"\n")
            for line in lines:
                self._on_line(line.decode("utf-8", "replace"))
        self.flush()

    def flush(self) -> None:
        if self._partial:
            partial, self._partial = self._partial, b""
            self._on_line(partial.decode("utf-8", "replace"))
