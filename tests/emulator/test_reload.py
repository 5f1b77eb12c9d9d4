"""Code reload: editing the handler changes the next answer, without a restart."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from tests.emulator.harness import EmulatorProcess, invoke_path

APP = """
import os

def handler(event, context):
    return {{"version": {version}, "pid": os.getpid()}}
"""


def write(app: Path, version: int) -> None:
    app.write_text(APP.format(version=version))
    # A later modification time however coarse the file system's clock.
    stat = app.stat()
    os.utime(app, ns=(stat.st_atime_ns, stat.st_mtime_ns + version * 1_000_000_000))


def test_an_edit_retires_the_warm_environment_and_the_next_invoke_runs_it(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    write(code / "app.py", 1)
    args = ["--port", "0", "--code-dir", str(code), "--watch", "app.handler"]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        url = emulator.url + invoke_path("function")
        first = httpx.post(url, content=b"{}", timeout=30).json()
        write(code / "app.py", 2)
        line = emulator.wait_for_line(lambda text: "its code changed" in text)
        second = httpx.post(url, content=b"{}", timeout=30).json()
    assert (first["version"], second["version"]) == (1, 2)
    assert first["pid"] != second["pid"]
    assert line == "[function] shutting down environment 1: its code changed (app.py)"


def test_the_zero_config_form_watches_by_default_and_no_watch_turns_it_off() -> None:
    from emulator.__main__ import parse_config

    environ = {"HOME": "/tmp"}
    assert parse_config(["app.handler"], environ).functions[0].watch is True
    assert parse_config(["--no-watch", "app.handler"], environ).functions[0].watch is False
    assert parse_config(["--", "python", "-m", "ric", "a.b"], environ).functions[0].watch is False
