"""Multi-concurrency mode: several invocations at once in one environment."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.emulator.harness import EmulatorProcess, wait_until

HERE = Path(__file__).resolve().parent


def starts(emulator: EmulatorProcess) -> list[str]:
    return [line for line in emulator.function_lines("multi") if line.startswith("START")]


def test_two_invocations_share_one_environment_and_a_third_is_throttled(tmp_path: Path) -> None:
    args = [
        "--port", "0", "--function-name", "multi", "--concurrency", "1", "--max-concurrency", "2",
        "--timeout", "30", "--", sys.executable, str(HERE / "multi_runtime.py"),
    ]  # fmt: skip
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        url = f"{emulator.url}/2015-03-31/functions/multi/invocations"

        def invoke() -> httpx.Response:
            return httpx.post(url, content=b"{}", timeout=60)

        with ThreadPoolExecutor(3) as pool:
            first, second = pool.submit(invoke), pool.submit(invoke)
            # Both handed out at once to the one environment, which holds them.
            assert wait_until(lambda: len(starts(emulator)) >= 2)
            third = invoke()
            (tmp_path / "release").touch()
            answers = [first.result().json(), second.result().json()]
    assert third.status_code == 429
    assert answers[0] == answers[1] == {"pid": answers[0]["pid"], "slots": 2}


def test_the_runtime_is_told_its_slots(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import os\n\ndef handler(event, context):\n"
        "    return os.environ.get('AWS_LAMBDA_MAX_CONCURRENCY')\n"
    )
    args = ["--port", "0", "--code-dir", str(tmp_path), "app.handler"]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        single = httpx.post(
            f"{emulator.url}/2015-03-31/functions/function/invocations", content=b"{}", timeout=30
        )
    assert single.json() is None


def test_ric_serves_concurrent_invocations_with_one_worker_process_each(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import os, time\n\ndef handler(event, context):\n"
        "    deadline = time.monotonic() + 10\n"
        "    while not os.path.exists('release') and time.monotonic() < deadline:\n"
        "        time.sleep(0.01)\n"
        "    return [os.getpid(), os.getppid()]\n"
    )
    args = [
        "--port", "0", "--function-name", "multi", "--concurrency", "1", "--max-concurrency", "2",
        "--timeout", "30", "--code-dir", str(tmp_path), "app.handler",
    ]  # fmt: skip
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        url = f"{emulator.url}/2015-03-31/functions/multi/invocations"
        with ThreadPoolExecutor(2) as pool:
            calls = [pool.submit(httpx.post, url, content=b"{}", timeout=60) for _ in range(2)]
            assert wait_until(lambda: len(starts(emulator)) >= 2)
            (tmp_path / "release").touch()
            (pid_a, parent_a), (pid_b, parent_b) = (call.result().json() for call in calls)
    assert pid_a != pid_b
    assert parent_a == parent_b
