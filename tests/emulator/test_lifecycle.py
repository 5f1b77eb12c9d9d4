"""Environment lifecycle: an idle environment is shut down, the next invoke starts fresh."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.emulator.harness import EmulatorProcess, containing, process_gone, wait_until

APP = """
import os, signal

def handler(event, context):
    return os.getpid()
"""


def test_idle_environment_is_shut_down_and_replaced(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    args = ["--port", "0", "--idle-timeout", "1", "--code-dir", str(tmp_path), "app.handler"]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        url = f"{emulator.url}/2015-03-31/functions/function/invocations"
        first = httpx.post(url, content=b"{}", timeout=30)
        pid = first.json()
        emulator.wait_for_line(containing("[function] shutting down idle environment"))
        assert wait_until(lambda: process_gone(pid))
        second = httpx.post(url, content=b"{}", timeout=30)
        emulator.wait_for_report("function", second.headers["x-amzn-requestid"])
        reports = [
            line for line in emulator.function_lines("function") if line.startswith("REPORT")
        ]
    assert second.json() != pid
    assert len(reports) == 2
    assert all("Init Duration: " in report for report in reports)


GRACEFUL = """
import ric

@ric.on_shutdown
def cleanup():
    with open({marker!r}, "w") as file:
        file.write("cleaned up")

def handler(event, context):
    return "ok"
"""


def test_shutdown_hooks_run_when_the_emulator_stops(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    (tmp_path / "app.py").write_text(GRACEFUL.format(marker=str(marker)))
    args = ["--port", "0", "--code-dir", str(tmp_path), "app.handler"]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        url = f"{emulator.url}/2015-03-31/functions/function/invocations"
        assert httpx.post(url, content=b"{}", timeout=30).json() == "ok"
        assert emulator.stop() == 0
        lines = emulator.function_lines("function")
    # The runtime registered its extension (no warning), got SIGTERM and ran the hook.
    assert marker.read_text() == "cleaned up"
    assert not [line for line in lines if "no shutdown extension" in line]
