"""A scripted Runtime API on pytest-httpserver, and a real `python -m ric` to drive.

The script is a list of ordered expectations: each ``GET /next`` answer and
each post's status. ``park`` ends the script with a ``GET /next`` that blocks,
as the real Runtime API does while no event waits, until the test is over.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

REPO = Path(__file__).resolve().parents[2]
PREFIX = "/2018-06-01/runtime"


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def event_headers(request_id: str, **extra: str) -> dict[str, str]:
    headers = {
        "Lambda-Runtime-Aws-Request-Id": request_id,
        "Lambda-Runtime-Deadline-Ms": "4102444800000",
        "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:fn",
    }
    headers.update(extra)
    return headers


class ScriptedRuntimeApi:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.parked = threading.Event()
        self.release = threading.Event()

    @property
    def address(self) -> str:
        return f"{self.server.host}:{self.server.port}"

    def event(
        self,
        request_id: str,
        body: bytes = b"{}",
        /,
        content_type: str | None = "application/json",
        **headers: str,
    ) -> None:
        """Queue one answer to ``GET /next``; ``headers`` add to the event's."""
        response = Response(body, status=200, headers=event_headers(request_id, **headers))
        if content_type is None:
            del response.headers["Content-Type"]
        else:
            response.headers["Content-Type"] = content_type
        self.next_answer(response)

    def next_answer(self, response: Response) -> None:
        self.server.expect_ordered_request(
            f"{PREFIX}/invocation/next", method="GET"
        ).respond_with_response(response)

    def post(self, path: str, status: int = 202) -> None:
        """Expect a post to ``path`` (below /runtime/) and answer it with ``status``."""
        self.server.expect_ordered_request(f"{PREFIX}/{path}", method="POST").respond_with_data(
            '{"status":"OK"}', status=status, content_type="application/json"
        )

    def restore_next(self, status: int = 200, on_request: Callable[[], None] | None = None) -> None:
        """Expect ``GET /restore/next`` (SnapStart); ``on_request`` runs before the answer."""

        def answer(request: Request) -> Response:
            if on_request is not None:
                on_request()
            return Response("", status=status)

        self.server.expect_ordered_request(
            f"{PREFIX}/restore/next", method="GET"
        ).respond_with_handler(answer)

    def park(self) -> None:
        """End the script: the next ``GET /next`` waits until the test is over."""

        def wait(request: Request) -> Response:
            self.parked.set()
            self.release.wait(30)
            return Response("", status=500)

        self.server.expect_ordered_request(
            f"{PREFIX}/invocation/next", method="GET"
        ).respond_with_handler(wait)

    def requests(self) -> list[Recorded]:
        return [
            Recorded(
                request.method,
                request.path,
                {name.lower(): value for name, value in request.headers.items()},
                request.get_data(),
            )
            for request, _ in self.server.log
        ]

    def posts(self) -> list[Recorded]:
        return [r for r in self.requests() if r.method == "POST"]

    def paths(self) -> list[str]:
        """Method and path (below /runtime/) of each request answered, in order.

        Parked requests (``invocation/next``, and an extension's ``event/next``)
        are left out: one is logged only once released, which can be after its
        test is over (and so in a later test's log).
        """
        return [
            f"{request.method} {request.path.removeprefix(PREFIX + '/')}"
            for request, response in self.server.log
            if not (request.path.endswith("/next") and response.status_code == 500)
        ]


def lambda_env(api_address: str, task_root: Path, **extra: str) -> dict[str, str]:
    # ric comes from the venv's install; coverage.py's variables let it measure the runtime.
    coverage = {k: v for k, v in os.environ.items() if k.startswith("COVERAGE_")}
    env = {
        **coverage,
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": api_address,
        "LAMBDA_TASK_ROOT": str(task_root),
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/22/[$LATEST]0123456789abcdef",
    }
    env.update(extra)
    return env


class RuntimeProcess:
    """A runtime process (ours by default) serving ``handler`` from ``task_root``."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        cwd: Path,
        pass_fds: tuple[int, ...] = (),
        new_session: bool = False,
    ) -> None:
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=pass_fds,
            start_new_session=new_session,
        )
        self._output: tuple[bytes, bytes] | None = None

    def wait(self, timeout: float = 30) -> int:
        self._collect(timeout)
        return self.process.returncode

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self._collect(30)

    @property
    def stdout(self) -> bytes:
        assert self._output is not None, "wait() or stop() first"
        return self._output[0]

    @property
    def stderr(self) -> bytes:
        assert self._output is not None, "wait() or stop() first"
        return self._output[1]

    def _collect(self, timeout: float) -> None:
        if self._output is None:
            self._output = self.process.communicate(timeout=timeout)


def ric_command(handler: str) -> list[str]:
    return [sys.executable, "-m", "ric", handler]


def awslambdaric_command(handler: str) -> list[str]:
    return [sys.executable, "-m", "awslambdaric", handler]


class EventQueue:
    """A Runtime API for many runtimes at once: unordered, so workers may ask in any order.

    ``GET /next`` takes the oldest queued event, or waits for one until the
    test is over; responses are kept by request id. ``init/error`` is answered
    202 the first time and 403 after, as Lambda Managed Instances do.
    """

    def __init__(self, api: ScriptedRuntimeApi) -> None:
        self._api = api
        self._changed = threading.Condition()
        self._events: list[Response] = []
        self.responses: dict[str, bytes] = {}
        self.init_errors: list[int] = []
        server = api.server
        server.expect_request(f"{PREFIX}/invocation/next", method="GET").respond_with_handler(
            self._next
        )
        server.expect_request(
            re.compile(f"{PREFIX}/invocation/[^/]+/response"), method="POST"
        ).respond_with_handler(self._response)
        server.expect_request(f"{PREFIX}/init/error", method="POST").respond_with_handler(
            self._init_error
        )
        self.registrations: list[str] = []
        server.expect_request("/2020-01-01/extension/register", method="POST").respond_with_handler(
            self._register
        )
        server.expect_request(
            "/2020-01-01/extension/event/next", method="GET"
        ).respond_with_handler(self._wait_for_the_end)

    def put(self, request_id: str, body: bytes = b"{}", /, **headers: str) -> None:
        response = Response(body, status=200, headers=event_headers(request_id, **headers))
        response.headers["Content-Type"] = "application/json"
        with self._changed:
            self._events.append(response)
            self._changed.notify_all()

    def wait_for_responses(
        self, *request_ids: str, count: int | None = None, timeout: float = 30
    ) -> dict[str, bytes]:
        """The responses to ``request_ids`` once ``count`` of them (default: all) are in."""
        wanted = len(request_ids) if count is None else count

        def answered() -> list[str]:
            return [r for r in request_ids if r in self.responses]

        with self._changed:
            done = self._changed.wait_for(lambda: len(answered()) >= wanted, timeout)
            assert done, f"{answered()} answered of {request_ids}, wanted {wanted}"
            return {r: self.responses[r] for r in answered()}

    def wait_for_init_errors(self, count: int, timeout: float = 30) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.init_errors) >= count, timeout)

    def _next(self, request: Request) -> Response:
        with self._changed:
            while not self._events:
                if self._api.release.is_set():
                    return Response("", status=500)
                self._changed.wait(0.1)
            return self._events.pop(0)

    def _register(self, request: Request) -> Response:
        with self._changed:
            self.registrations.append(request.headers.get("Lambda-Extension-Name", ""))
        headers = {"Lambda-Extension-Identifier": f"ext-{len(self.registrations)}"}
        return Response("{}", status=200, headers=headers, content_type="application/json")

    def _wait_for_the_end(self, request: Request) -> Response:
        self._api.release.wait(60)
        return Response("", status=500)

    def _response(self, request: Request) -> Response:
        with self._changed:
            self.responses[request.path.split("/")[-2]] = request.get_data()
            self._changed.notify_all()
        return Response('{"status":"OK"}', status=202, content_type="application/json")

    def _init_error(self, request: Request) -> Response:
        with self._changed:
            status = 403 if self.init_errors else 202
            self.init_errors.append(status)
            self._changed.notify_all()
        return Response("{}", status=status, content_type="application/json")


class RuntimeGroup(RuntimeProcess):
    """A runtime in a session of its own, so that stopping it kills its workers too."""

    def __init__(
        self, command: list[str], env: dict[str, str], cwd: Path, pass_fds: tuple[int, ...] = ()
    ) -> None:
        super().__init__(command, env, cwd, pass_fds, new_session=True)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._collect(30)


def alive(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def wait_until_gone(pids: Iterable[int], timeout: float = 30) -> list[int]:
    """The pids still alive after ``timeout`` seconds (at once, once none is)."""
    deadline = time.monotonic() + timeout
    while (left := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
