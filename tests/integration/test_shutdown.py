"""Graceful shutdown of a real `python -m ric`: the extension on the wire, SIGTERM, hooks."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import TaskRoot
from tests.integration.runtime_api import (
    PREFIX,
    RuntimeProcess,
    ScriptedRuntimeApi,
    event_headers,
    lambda_env,
    ric_command,
)

EXTENSION = "/2020-01-01/extension"


class Platform:
    """Runtime and Extensions API in any order: a thread of the runtime polls event/next."""

    def __init__(self, server: HTTPServer, release: threading.Event) -> None:
        self.server = server
        self.release = release
        self.idle = threading.Event()
        self.extension_ready = threading.Event()
        self.parked: list[Request] = []

    def serve(self, register_status: int = 200, events: int = 0) -> None:
        self.server.expect_request(f"{EXTENSION}/register", method="POST").respond_with_response(
            Response(
                '{"functionName": "fn", "functionVersion": "$LATEST", "handler": "app.handler"}',
                status=register_status,
                headers={"Lambda-Extension-Identifier": "ext-id-1"},
                content_type="application/json",
            )
        )
        self.server.expect_request(f"{EXTENSION}/event/next").respond_with_handler(
            self._park(self.extension_ready)
        )
        self.server.expect_request(f"{PREFIX}/restore/next").respond_with_data("")
        park = self._park(self.idle)
        pending = [event_headers(f"rid-{n}") for n in range(events)]

        def next_event(request: Request) -> Response:
            if pending:
                return Response("{}", headers=pending.pop(0), content_type="application/json")
            return park(request)  # type: ignore[no-any-return]

        self.server.expect_request(f"{PREFIX}/invocation/next").respond_with_handler(next_event)

    def _park(self, reached: threading.Event):  # type: ignore[no-untyped-def]
        def wait(request: Request) -> Response:
            self.parked.append(request)
            reached.set()
            self.release.wait(30)
            return Response("", status=500)

        return wait

    def paths(self) -> list[str]:
        # Parked requests are this test's own; the log may hold an earlier
        # test's parked request, answered once that test released it.
        answered = [r.path for r, _ in self.server.log if not r.path.endswith("/next")]
        return answered + [r.path for r in self.parked]


@pytest.fixture
def platform(runtime_api: ScriptedRuntimeApi) -> Platform:
    return Platform(runtime_api.server, runtime_api.release)


def start(platform: Platform, root: Path, handler: str, **env: str) -> RuntimeProcess:
    address = f"{platform.server.host}:{platform.server.port}"
    runtime = RuntimeProcess(ric_command(handler), lambda_env(address, root, **env), root)
    if not platform.idle.wait(30):
        runtime.stop()
        pytest.fail(f"runtime never reached /next: {runtime.stdout!r} {runtime.stderr!r}")
    return runtime


def write_app(task_root: TaskRoot, marker: Path, body: str = "") -> None:
    task_root.write(
        "app.py",
        f"""
        import ric, signal, sys, time

        def note(text):
            with open({str(marker)!r}, "a") as file:
                file.write(text + "\\n")

        @ric.on_shutdown
        def first():
            note("first hook")

        ric.on_shutdown(lambda: note("second hook"))
        {body}

        def handler(event, context):
            return event
        """,
    )


def test_sigterm_runs_the_hooks_and_exits_0(
    platform: Platform, task_root: TaskRoot, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    write_app(task_root, marker)
    platform.serve()
    runtime = start(platform, task_root.path, "app.handler")
    assert platform.extension_ready.wait(30)
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait() == 0
    # Last registered first, as atexit does.
    assert marker.read_text() == "second hook\nfirst hook\n"
    register = next(r for r, _ in platform.server.log if r.path.endswith("/register"))
    assert register.headers["Lambda-Extension-Name"] == "ric-graceful-shutdown"
    assert json.loads(register.get_data()) == {"events": []}
    [ready] = [r for r in platform.parked if r.path.endswith("/event/next")]
    assert ready.headers["Lambda-Extension-Identifier"] == "ext-id-1"
    assert runtime.stderr == b""


def test_the_users_own_sigterm_handler_still_runs(
    platform: Platform, task_root: TaskRoot, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    write_app(
        task_root,
        marker,
        "signal.signal(signal.SIGTERM, lambda signum, frame: note(f'user handler {signum}'))",
    )
    platform.serve()
    runtime = start(platform, task_root.path, "app.handler")
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait() == 0
    lines = marker.read_text().splitlines()
    assert lines == ["second hook", "first hook", f"user handler {signal.SIGTERM.value}"]


def test_a_hook_over_budget_is_cut_short(
    platform: Platform, task_root: TaskRoot, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    write_app(task_root, marker, "ric.on_shutdown(lambda: (note('slow starts'), time.sleep(60)))")
    platform.serve()
    runtime = start(platform, task_root.path, "app.handler", RIC_SHUTDOWN_BUDGET_MS="200")
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait(timeout=20) == 0
    assert marker.read_text() == "slow starts\n"
    assert b"LAMBDA_RUNTIME shutdown hooks overran 0.2 s" in runtime.stdout


@pytest.mark.parametrize(
    ("hook", "logged"),
    [
        ("lambda: 1 / 0", b"<lambda> raised ZeroDivisionError('division by zero')"),
        ("lambda: sys.exit(3)", b"<lambda> raised SystemExit(3)"),
    ],
    ids=["raises", "exits"],
)
def test_a_failing_hook_is_logged_and_the_others_run(
    platform: Platform, task_root: TaskRoot, tmp_path: Path, hook: str, logged: bytes
) -> None:
    marker = tmp_path / "marker"
    write_app(task_root, marker, f"ric.on_shutdown({hook})")
    platform.serve()
    runtime = start(platform, task_root.path, "app.handler")
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait() == 0
    assert marker.read_text() == "second hook\nfirst hook\n"
    assert b"LAMBDA_RUNTIME shutdown hook " + logged in runtime.stdout


def test_refused_registration_is_logged_and_sigterm_still_handled(
    platform: Platform, task_root: TaskRoot, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    write_app(task_root, marker)
    platform.serve(register_status=403)
    runtime = start(platform, task_root.path, "app.handler")
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait() == 0
    assert marker.read_text() == "second hook\nfirst hook\n"
    assert b"no shutdown extension (extension/register answered 403)" in runtime.stdout
    assert not any(path.endswith("/event/next") for path in platform.paths())


def test_without_hooks_no_extension_is_registered(platform: Platform, task_root: TaskRoot) -> None:
    task_root.write("plain.py", "def handler(event, context):\n    return event\n")
    platform.serve()
    runtime = start(platform, task_root.path, "plain.handler")
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait() == -signal.SIGTERM
    assert not any(path.startswith(EXTENSION) for path in platform.paths())


def test_with_snapstart_the_extension_registers_before_the_snapshot(
    platform: Platform, task_root: TaskRoot, tmp_path: Path
) -> None:
    write_app(task_root, tmp_path / "marker")
    platform.serve()
    runtime = start(
        platform, task_root.path, "app.handler", AWS_LAMBDA_INITIALIZATION_TYPE="snap-start"
    )
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait() == 0
    answered = [r.path for r, _ in platform.server.log]
    assert answered.index(f"{EXTENSION}/register") < answered.index(f"{PREFIX}/restore/next")


def test_sigterm_while_a_handler_logs_still_ends_the_process(
    platform: Platform, task_root: TaskRoot, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    task_root.write(
        "busy.py",
        f"""
        import logging, ric, time

        ric.on_shutdown(lambda: logging.warning("hook logs too"))

        def handler(event, context):
            open({str(started)!r}, "w").close()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                logging.warning("busy " + "x" * 2000)
            return "done"
        """,
    )
    platform.serve(events=1)
    address = f"{platform.server.host}:{platform.server.port}"
    env = lambda_env(address, task_root.path, RIC_SHUTDOWN_BUDGET_MS="300")
    runtime = RuntimeProcess(ric_command("busy.handler"), env, task_root.path)
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    runtime.process.send_signal(signal.SIGTERM)
    # Ends at once (hooks done, or cut at their budget), not when the handler would have.
    assert runtime.wait(timeout=10) == 0


ASGI_APP = """
import asyncio, ric

def note(text):
    with open({marker!r}, "a") as file:
        file.write(text + "\\n")

async def app(scope, receive, send):
    assert scope["type"] == "lifespan"
    await receive()
    loop = asyncio.get_running_loop()
    note("startup")
    await send({{"type": "lifespan.startup.complete"}})
    await receive()
    note(f"shutdown on the same loop: {{asyncio.get_running_loop() is loop}}")
    await send({{"type": "lifespan.shutdown.complete"}})

web = ric.asgi(app)

async def busy(event, context):
    note("invoked")
    await asyncio.Event().wait()
"""


def test_sigterm_shuts_an_asgi_apps_lifespan_down_on_its_loop(
    platform: Platform, task_root: TaskRoot, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    task_root.write("web.py", ASGI_APP.format(marker=str(marker)))
    platform.serve()
    runtime = start(platform, task_root.path, "web.web")
    assert platform.extension_ready.wait(30)
    assert marker.read_text() == "startup\n"  # at init, before the first /next
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait() == 0
    assert marker.read_text() == "startup\nshutdown on the same loop: True\n"
    assert runtime.stderr == b""


def test_sigterm_during_an_invocation_skips_the_asgi_lifespan_shutdown(
    platform: Platform, task_root: TaskRoot, tmp_path: Path
) -> None:
    # The signal lands inside the running loop: the hook's thread cannot drive it.
    marker = tmp_path / "marker"
    task_root.write("web.py", ASGI_APP.format(marker=str(marker)))
    platform.serve(events=1)
    address = f"{platform.server.host}:{platform.server.port}"
    runtime = RuntimeProcess(
        ric_command("web.busy"), lambda_env(address, task_root.path), task_root.path
    )
    deadline = time.monotonic() + 30
    while "invoked" not in (marker.read_text() if marker.exists() else ""):
        assert time.monotonic() < deadline, runtime.stderr
        time.sleep(0.01)
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait(timeout=10) == 0
    assert marker.read_text() == "startup\ninvoked\n"
    assert (
        b"shutdown hook Lifespan.stop raised "
        b"LoopBusy('SIGTERM came while an invocation ran on the event loop')"
    ) in runtime.stdout + runtime.stderr
