"""A real emulator for tests: ``python -m emulator`` on port 0, its output kept.

:class:`EmulatorProcess` reads the Invoke API's URL from the first line the
emulator prints, then keeps every later line (the functions' logs, prefixed
``[name] ``) from a thread, so that the pipe never fills. :data:`FUNCTIONS`
declares the session's functions, one or more per behaviour under test.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

__all__ = [
    "FUNCTIONS",
    "EmulatorProcess",
    "HeldInvoke",
    "boto3_lambda",
    "containing",
    "invoke_path",
    "layer_zip",
    "process_gone",
    "toml_config",
    "wait_until",
]

LISTENING = re.compile(r"^emulator: listening on (http://127\.0\.0\.1:\d+) \(functions: (.*)\)$")
START_LIMIT_S = 30.0
STOP_LIMIT_S = 15.0

# [functions.NAME] tables; every handler lives in handlers.py (tests/emulator/handlers.py).
FUNCTIONS: dict[str, dict[str, Any]] = {
    "echo": {"handler": "handlers.echo"},
    "boom": {"handler": "handlers.boom"},
    "environ": {
        "handler": "handlers.environ",
        "memory": 256,
        "environment": {"GREETING": "hello", "ANSWER": 42},
    },
    "context": {"handler": "handlers.context_info"},
    "length": {"handler": "handlers.length"},
    "record": {"handler": "handlers.record"},
    "dryrun": {"handler": "handlers.record", "concurrency": 1},
    "cold": {"handler": "handlers.echo", "concurrency": 1},
    "timeout": {"handler": "handlers.misbehave", "timeout": 1, "concurrency": 1},
    "crash": {"handler": "handlers.misbehave", "concurrency": 1},
    "missing": {"handler": "no_such_module.handler"},
    "initcrash": {"handler": "exits_on_import.handler"},
    "badcommand": {"command": ["/nonexistent/bootstrap"]},
    "big": {"handler": "handlers.big_response"},
    "partial": {"handler": "handlers.partial"},
    "solo": {"handler": "handlers.hold", "concurrency": 1, "timeout": 30},
    "duo": {"handler": "handlers.barrier", "concurrency": 2, "timeout": 30},
    "hangup": {"handler": "handlers.hold", "concurrency": 1, "timeout": 30},
    "stress": {"handler": "handlers.nap", "concurrency": 2, "timeout": 30},
}


def toml_config(functions: dict[str, dict[str, Any]], code_dir: str) -> str:
    """The TOML text declaring ``functions`` (JSON strings and arrays are TOML too)."""
    lines: list[str] = []
    for name, table in functions.items():
        lines += [f"[functions.{name}]", f"code_dir = {json.dumps(code_dir)}"]
        for key, value in table.items():
            if isinstance(value, dict):
                pairs = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
                lines.append(f"{key} = {{ {pairs} }}")
            else:
                lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    return "\n".join(lines)


# The boto3 clients a test made, closed when it ends (tests/emulator/conftest.py):
# a client left to the garbage collector warns of its unclosed sockets.
OPEN_CLIENTS: list[Any] = []


def boto3_lambda(url: str) -> Any:
    """boto3's Lambda client for the emulator at ``url`` (boto3 is a dev dependency).

    One attempt: a throttled call must reach the test, not be retried.
    """
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=60),
    )
    OPEN_CLIENTS.append(client)
    return client


def containing(fragment: str) -> Callable[[str], bool]:
    """A predicate for :meth:`EmulatorProcess.wait_for_line`."""
    return lambda line: fragment in line


def invoke_path(identifier: str) -> str:
    return f"/2015-03-31/functions/{identifier}/invocations"


def layer_zip(files: dict[str, tuple[str, int]]) -> bytes:
    """A layer's archive: each file's text and Unix mode (``bin/`` tools: 0o755)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, (text, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            archive.writestr(info, text)
    return buffer.getvalue()


def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> bool:
    """Polls ``condition`` until it holds or ``timeout`` seconds pass: a limit, not a speed."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def process_gone(pid: int) -> bool:
    """No such process, or only a zombie (it has exited; whoever inherited it reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


class EmulatorProcess:
    """``python -m emulator ARGS`` until :meth:`stop`; also a context manager."""

    def __init__(
        self,
        args: list[str],
        cwd: Path,
        env: dict[str, str] | None = None,
        python: str = sys.executable,
    ) -> None:
        # Each emulator its own state directory, unless the test gives one: queued
        # events must not outlive the test, nor two emulators share a directory.
        self._state: str | None = None
        if "--state-dir" not in args:
            self._state = tempfile.mkdtemp(prefix="emulator-state-")
            args = ["--state-dir", self._state, *args]
        if "--watch" not in args:  # tests write into code directories: no reload unasked
            args = ["--no-watch", *args]
        self.process = subprocess.Popen(
            [python, "-m", "emulator", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self.lines: list[str] = []
        self.stderr: list[str] = []
        self._changed = threading.Condition()
        self._stdout_closed = False
        self._readers = [
            threading.Thread(target=self._read, args=(stream, sink), daemon=True)
            for stream, sink in (
                (self.process.stdout, self.lines),
                (self.process.stderr, self.stderr),
            )
        ]
        for reader in self._readers:
            reader.start()
        self.url, self.functions = self._listening()

    def _listening(self) -> tuple[str, list[str]]:
        try:
            first = self.wait_for_line(lambda line: True, START_LIMIT_S)
        except AssertionError:
            self.stop(signal.SIGKILL)
            raise
        match = LISTENING.match(first)
        if match is None:
            self.stop(signal.SIGKILL)
            raise AssertionError(f"unexpected first line {first!r}; stderr: {self.stderr}")
        return match.group(1), match.group(2).split(", ")

    def _read(self, stream: IO[str], sink: list[str]) -> None:
        for line in stream:
            with self._changed:
                sink.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._stdout_closed |= sink is self.lines
            self._changed.notify_all()

    def wait_for_line(self, predicate: Callable[[str], bool], timeout: float = 10.0) -> str:
        """The first output line that satisfies ``predicate``, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((line for line in self.lines if predicate(line)), None)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if self._stdout_closed or remaining <= 0:
                    raise AssertionError(
                        f"no such line in the emulator's output: {self.lines[-20:]}\n"
                        f"stderr: {self.stderr[-20:]}"
                    )
                self._changed.wait(remaining)

    def wait_for_report(self, name: str, request_id: str) -> str:
        """The REPORT line of an invocation of ``name``, without the ``[name] `` prefix."""
        prefix = f"[{name}] "
        line = self.wait_for_line(containing(f"{prefix}REPORT RequestId: {request_id}\t"))
        return line.removeprefix(prefix)

    def function_lines(self, name: str) -> list[str]:
        """The lines of function ``name``, without their ``[name] `` prefix."""
        prefix = f"[{name}] "
        with self._changed:
            return [line[len(prefix) :] for line in self.lines if line.startswith(prefix)]

    def stop(self, signum: int = signal.SIGTERM, timeout: float = STOP_LIMIT_S) -> int:
        """Sends ``signum`` and returns the exit status; kills it if it outlives ``timeout``."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_LIMIT_S)
            raise AssertionError(f"the emulator outlived {signum!r} by {timeout} s") from None
        for reader in self._readers:
            reader.join(STOP_LIMIT_S)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        if self._state is not None:
            shutil.rmtree(self._state, ignore_errors=True)
        return status

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            # SIGTERM: the emulator then stops its runtimes; SIGKILL would orphan them.
            self.stop(signal.SIGTERM)


class HeldInvoke:
    """An invocation of a ``handlers.hold`` function, running until :meth:`release`.

    ``with HeldInvoke(url, name, folder) as held:`` returns once the handler runs.
    """

    def __init__(self, url: str, name: str, folder: Path, tag: str = "held") -> None:
        self.running = folder / f"{tag}.running"
        self.released = folder / f"{tag}.release"
        self._url = url + invoke_path(name)
        self._event = {"running": str(self.running), "release": str(self.released)}
        self._response: httpx.Response | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._call, daemon=True)

    def _call(self) -> None:
        try:
            self._response = httpx.post(self._url, json=self._event, timeout=30)
        except BaseException as exc:
            self._error = exc

    @property
    def pid(self) -> int:
        return int(self.running.read_text())

    def release(self) -> httpx.Response:
        """Lets the handler return; its caller's response."""
        self.released.touch()
        self._thread.join(30)
        if self._error is not None:
            raise self._error
        assert self._response is not None, "the held invocation never answered"
        return self._response

    def __enter__(self) -> HeldInvoke:
        self._thread.start()
        started = wait_until(lambda: self.running.exists() or not self._thread.is_alive())
        if not (started and self.running.exists()):
            self.released.touch()
            raise AssertionError(f"the held invocation never ran: {self._response or self._error}")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.released.touch()
        self._thread.join(30)


def web_app_emulator(folder: Path, module: str, source: str) -> EmulatorProcess:
    """An emulator serving ``module``'s ``buffered`` and ``streamed`` handlers behind
    function URLs: ``flat`` (BUFFERED) and ``live`` (RESPONSE_STREAM)."""
    (folder / f"{module}.py").write_text(source)
    functions: dict[str, dict[str, Any]] = {
        "flat": {"handler": f"{module}.buffered", "url": {"port": 0}},
        "live": {
            "handler": f"{module}.streamed",
            "timeout": 30,
            "url": {"port": 0, "invoke_mode": "RESPONSE_STREAM"},
        },
    }
    config = folder / "functions.toml"
    config.write_text(toml_config(functions, str(folder)))
    return EmulatorProcess(["--port", "0", "--config", str(config)], cwd=folder)


def gated_events(emulator: EmulatorProcess, gate: Path) -> str:
    """``events?gate=DIR`` of a web app's ``live`` URL (see :func:`web_app_emulator`),
    released event by event: each arrives alone, after the head. The Content-Type."""
    url = url_of(emulator, "live") + f"events?gate={gate}"
    with httpx.stream("GET", url, timeout=30) as response:
        # The status and headers arrive before the app has any event to send.
        assert response.status_code == 200
        body = response.iter_bytes()
        for index in range(3):
            (gate / str(index)).touch()
            assert _read_until(body, f"data: {index}\n\n".encode())
        assert list(body) == []
    return response.headers["content-type"]


def _read_until(body: Iterator[bytes], wanted: bytes) -> bool:
    """Whether the body's next chunks make ``wanted``, and nothing more."""
    got = b""
    while len(got) < len(wanted):
        got += next(body)
    return got == wanted


def non_http_error(emulator: EmulatorProcess) -> str:
    """A web app's ``flat`` function invoked with an SQS event: its error payload."""
    client = boto3_lambda(emulator.url)
    answer = client.invoke(FunctionName="flat", Payload=b'{"Records": []}')
    assert answer["FunctionError"] == "Unhandled"
    error: str = answer["Payload"].read().decode()
    assert "understood: API Gateway REST API (payload format 1.0)" in error
    return error


def url_of(emulator: EmulatorProcess, name: str) -> str:
    """The function URL the emulator printed for function ``name``."""
    return emulator.wait_for_line(containing(f"function URL of {name}: ")).rsplit(" ", 1)[1]
