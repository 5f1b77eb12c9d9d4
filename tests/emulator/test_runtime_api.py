"""The Runtime API's refusals, seen by a runtime that breaks the rules."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from tests.emulator.harness import EmulatorProcess, containing

HERE = Path(__file__).resolve().parent


def test_wrong_id_second_post_and_late_init_error_are_refused(tmp_path: Path) -> None:
    command = [
        "--port",
        "0",
        "--function-name",
        "raw",
        "--",
        sys.executable,
        str(HERE / "raw_runtime.py"),
    ]
    with EmulatorProcess(command, cwd=tmp_path) as emulator:
        response = httpx.post(
            f"{emulator.url}/2015-03-31/functions/raw/invocations", content=b"{}", timeout=30
        )
        # wrong id: 400 InvalidRequestID; first post: 202; second: 403; init error after init: 403
        line = emulator.wait_for_line(containing("[raw] statuses "))
    assert response.status_code == 200
    assert response.content == b'"first"'
    assert line == "[raw] statuses 400 202 403 403"
