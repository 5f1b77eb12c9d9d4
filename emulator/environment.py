"""One execution environment: a runtime process and the Runtime API it talks to.

The Runtime API (2018-06-01) is served on a loopback port of its own
("Using the Lambda runtime API for custom runtimes",
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html). The
environment hands out one invocation at a time and turns whatever ends it (a
post, a timeout, the process exiting, a failed init) into its
:class:`~emulator.state.Outcome`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable

from emulator.config import FunctionConfig
from emulator.errors import ApiError
from emulator.extensions import Extensions
from emulator.http import BodyTooLarge, HttpServer, Request, Response, json_response
from emulator.logs import LogSink, end_line, report_line, start_line
from emulator.process import RuntimeProcess, peak_rss_mb
from emulator.state import Held, Invocation, Outcome

__all__ = ["INIT_LIMIT_S", "RESPONSE_LIMIT", "Environment", "function_error"]

PREFIX = "/2018-06-01/runtime"
# Lambda's limits: 6 MB for a synchronous response, 10 s for an on-demand init.
RESPONSE_LIMIT = 6 * 1024 * 1024 + 100  # the figure in Lambda's own error: 6291556
INIT_LIMIT_S = 10.0
_POST = re.compile(rf"^{PREFIX}/invocation/([^/]+)/(response|error)$")
_ACCEPTED = json_response(202, b'{"status":"OK"}')


def function_error(kind: str, error_type: str, message: str) -> Outcome:
    """An error of the platform's making, in the shape Lambda gives the caller."""
    body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
    return Outcome(kind, body, function_error="Unhandled")


class Environment:
    """A runtime process, its Runtime API, and the invocations it is serving.

    A slot is taken when an invocation is handed to the environment and given
    back (``on_free``) only when the runtime asks for the next event after
    answering: until then the environment is still busy, as in Lambda, and a
    runtime that never comes back is timed out like a slow handler. When the
    runtime process is gone, ``on_gone`` takes the environment out of service.
    """

    def __init__(
        self,
        env_id: int,
        function: FunctionConfig,
        sink: LogSink,
        on_free: Callable[[Environment], None],
        on_gone: Callable[[Environment], None],
    ) -> None:
        self.id = env_id
        self.function = function
        self._sink = sink
        self._on_free = on_free
        self._on_gone = on_gone
        self._server = HttpServer(self._route)
        self._extensions = Extensions(function)
        self._process: RuntimeProcess | None = None
        self._queue: asyncio.Queue[Invocation] = asyncio.Queue()
        self._futures: dict[str, asyncio.Future[Outcome]] = {}
        self._held = Held()  # several invocations at once in multi-concurrency mode
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._lines: list[str] = []
        self._started = time.monotonic()
        self.init_ms: float | None = None
        self._peak_mb = 1
        self._init_reported = False
        self.alive = True
        self.last_used = time.monotonic()
        self._watcher: asyncio.Task[None] | None = None

    @property
    def returning(self) -> bool:
        """Answered an invocation and not yet back for the next: a slot is on its way."""
        return bool(self._held.owed)

    async def start(self) -> None:
        await self._server.start()
        process = await RuntimeProcess.start(self.function, self._server.address, self._log)
        self._process = process
        self._watcher = asyncio.ensure_future(self._watch(process))
        if not self.alive:  # closed while it was starting
            process.kill()
            return
        asyncio.get_running_loop().call_later(INIT_LIMIT_S, self._init_timeout)

    async def invoke(self, invocation: Invocation) -> tuple[Outcome, list[str]]:
        """Run one invocation here; its outcome and the log lines written while it ran."""
        future = asyncio.get_running_loop().create_future()
        self._futures[invocation.request_id] = future
        self._queue.put_nowait(invocation)
        outcome = await future
        self.last_used = time.monotonic()
        return outcome, self._lines[invocation.log_from :]

    async def close(self) -> None:
        """Shut down: SIGTERM, SIGKILL after the grace period, stop the Runtime API."""
        self._fail_all(function_error("exit", "Runtime.ExitError", "The environment shut down"))
        self._extensions.close()
        if self._process is not None:
            await self._process.stop(self.function.grace_s)
        if self._watcher is not None:
            await asyncio.gather(self._watcher, return_exceptions=True)
        await self._server.stop()

    # -- endings ---------------------------------------------------------------

    def _complete(self, invocation: Invocation) -> None:
        """END and REPORT, then the caller gets the outcome."""
        if invocation.started_ns:
            self._report(invocation)
        future = self._futures.pop(invocation.request_id, None)
        if future is not None and not future.done():
            assert invocation.outcome is not None
            future.set_result(invocation.outcome)

    def _finish(self, invocation: Invocation, outcome: Outcome) -> None:
        """End an invocation the runtime will not answer any more."""
        if self._held.record(invocation, outcome):
            self._cancel_timer(invocation)
            self._complete(invocation)

    def _cancel_timer(self, invocation: Invocation) -> None:
        timer = self._timers.pop(invocation.request_id, None)
        if timer is not None:
            timer.cancel()

    def _report(self, invocation: Invocation) -> None:
        init_ms = None if self._init_reported else self.init_ms
        self._init_reported = True
        self._sample_memory()
        self._log(end_line(invocation))
        self._log(report_line(invocation, self.function.memory_mb, self._peak_mb, init_ms))

    def _sample_memory(self) -> None:
        # Sampled while the process lives: a crashed runtime has no /proc entry left.
        if self._process is not None:
            self._peak_mb = max(self._peak_mb, peak_rss_mb(self._process.pid))

    def _fail_all(self, outcome: Outcome) -> None:
        """The environment is gone: every invocation it holds ends with ``outcome``."""
        self.alive = False
        pending = list(self._held.running.values())
        while not self._queue.empty():
            pending.append(self._queue.get_nowait())
        for invocation in pending:
            self._finish(invocation, outcome)
        for invocation in self._held.release_owed():
            self._cancel_timer(invocation)

    def _time_out(self, invocation: Invocation) -> None:
        if invocation in self._held.owed:  # answered, but never came back for more
            self._log(
                f"{invocation.request_id}: the runtime did not ask for the next event in time"
            )
            self._kill()
            return
        seconds = self.function.timeout_s
        message = (
            f"RequestId: {invocation.request_id} Error: Task timed out after {seconds:.2f} seconds"
        )
        self._log(
            f"{_timestamp()} {invocation.request_id} Task timed out after {seconds:.2f} seconds"
        )
        self._finish(invocation, function_error("timeout", "Sandbox.Timedout", message))
        # In multi-concurrency mode only the invocation fails; the environment
        # and the invocations beside it go on (Lambda Managed Instances).
        if self.function.max_concurrency == 1:
            self._kill()

    def _init_timeout(self) -> None:
        if self.init_ms is None and self.alive:
            message = f"Init phase did not end within {INIT_LIMIT_S:.0f} seconds"
            self._fail_all(function_error("timeout", "Sandbox.Timedout", message))
            self._kill()

    def _kill(self) -> None:
        self.alive = False
        if self._process is not None:
            self._process.kill()

    async def _watch(self, process: RuntimeProcess) -> None:
        try:
            await self._watch_exit(process)
        finally:
            self._on_gone(self)

    async def _watch_exit(self, process: RuntimeProcess) -> None:
        status = await process.exited()
        reason = f"signal: {_signal_name(-status)}" if status < 0 else f"exit status {status}"
        if not self._held.running and self._queue.empty():
            if self.alive:  # on its own, between invocations: no invocation to fail
                self._log(f"Runtime exited with error: {reason} (between invocations)")
            self.alive = False
            return
        # The invocation it was serving, or the one that was waiting for its init.
        request_id = next(iter(self._held.running), None) or next(iter(self._futures), "")
        message = f"RequestId: {request_id} Error: Runtime exited with error: {reason}"
        await process.drain()
        self._log(message)
        self._fail_all(function_error("exit", "Runtime.ExitError", message))

    # -- output ------------------------------------------------------------------

    def _log(self, line: str) -> None:
        self._lines.append(line)
        self._sink.write(self.function.name, line)

    # -- the Runtime API ---------------------------------------------------------

    async def _route(self, request: Request) -> Response:
        try:
            return await self._dispatch(request)
        except ApiError as exc:
            body = json.dumps({"errorMessage": exc.message, "errorType": exc.error_type})
            return json_response(exc.status, body.encode())

    async def _dispatch(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == f"{PREFIX}/invocation/next" and method == "GET":
            return await self._next()
        if (match := _POST.match(path)) and method == "POST":
            return await self._post(match.group(1), match.group(2), request)
        if path == f"{PREFIX}/init/error" and method == "POST":
            return await self._init_error(request)
        if path == f"{PREFIX}/restore/next" and method == "GET":
            return Response(200)  # no snapshot here: "restored" at once
        if (answer := await self._extensions.route(request, self.init_ms is not None)) is not None:
            return answer
        raise ApiError(404, "NotFound", f"no such Runtime API endpoint: {method} {path}")

    async def _next(self) -> Response:
        if self.init_ms is None:
            self.init_ms = (time.monotonic() - self._started) * 1000
        if self.function.max_concurrency == 1 and self._held.running:
            # Asked for more without answering: Lambda fails the one unanswered.
            message = "The runtime asked for the next invocation before answering this one"
            (unanswered,) = self._held.running.values()
            self._finish(unanswered, function_error("error", "Runtime.NoResponse", message))
            self._on_free(self)
        if (returned := self._held.returned()) is not None:  # back for more: a slot is free
            self._cancel_timer(returned)
            self._on_free(self)
        invocation = await self._queue.get()
        self._sample_memory()  # while it lives: a runtime that crashes now leaves no /proc
        if not self._held.running:
            self._lines = []  # nothing runs: the log so far belongs to no one
        invocation.log_from = len(self._lines)
        self._held.start(invocation, self.function.timeout_s)
        self._timers[invocation.request_id] = asyncio.get_running_loop().call_later(
            self.function.timeout_s, self._time_out, invocation
        )
        self._log(start_line(invocation, self.function.version))
        return Response(200, self._event_headers(invocation), invocation.payload)

    def _event_headers(self, invocation: Invocation) -> list[tuple[str, str]]:
        # runtimes-api.html, "Next invocation": the response headers.
        headers = [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", invocation.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(invocation.deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", invocation.function_arn or self.function.arn),
            ("Lambda-Runtime-Trace-Id", invocation.trace_id),
            ("Lambda-Runtime-Invocation-Id", invocation.invocation_id),
        ]
        if invocation.client_context is not None:
            headers.append(("Lambda-Runtime-Client-Context", invocation.client_context))
        if invocation.tenant_id is not None:
            headers.append(("Lambda-Runtime-Aws-Tenant-Id", invocation.tenant_id))
        return headers

    async def _post(self, request_id: str, kind: str, request: Request) -> Response:
        # Read before the invocation is looked up: nothing else runs between that and the record.
        body, too_large, size = b"", False, None
        try:
            body = await request.read(RESPONSE_LIMIT)
        except BodyTooLarge as exc:  # refused unread; a chunked post counts what had come
            too_large, size = True, exc.size
        invocation = self._held.posted(request_id)
        if too_large:
            message = (
                f"Response payload size ({size} bytes) exceeded maximum allowed "
                f"payload size ({RESPONSE_LIMIT} bytes)."
            )
            outcome = function_error("too_large", "Function.ResponseSizeTooLarge", message)
        elif kind == "response":
            content_type = request.headers.get("content-type", "application/json")
            outcome = Outcome("response", body, content_type)
        else:
            outcome = Outcome("error", body, function_error="Unhandled")
        # Recorded at once: the deadline no longer applies, and a second post is refused.
        self._held.answered(invocation, outcome)
        if self._process is not None:
            await self._process.drain()  # the handler's output comes before END
        self._complete(invocation)
        if too_large:
            raise ApiError(
                413,
                "RequestEntityTooLarge",
                f"Exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes).",
            )
        return _ACCEPTED

    async def _init_error(self, request: Request) -> Response:
        if self.init_ms is not None:
            raise ApiError(403, "InvalidStateTransition", "State transition is not allowed")
        body = await request.read()
        self.init_ms = (time.monotonic() - self._started) * 1000
        error_type = request.headers.get("lambda-runtime-function-error-type", "Runtime.Unknown")
        self._log(
            f"INIT_REPORT Init Duration: {self.init_ms:.2f} ms\tPhase: init\t"
            f"Status: error\tError Type: {error_type}"
        )
        self._fail_all(Outcome("init_error", body, function_error="Unhandled"))
        return _ACCEPTED


def _timestamp() -> str:
    now = time.time()  # one reading: seconds and milliseconds must agree
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def _signal_name(number: int) -> str:
    """As Go's os/exec words it in Lambda's messages: "killed", "segmentation fault"."""
    import signal

    try:
        description = signal.strsignal(number)
    except ValueError:
        description = None
    return description.lower() if description else str(number)
