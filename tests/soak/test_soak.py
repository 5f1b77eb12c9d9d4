"""Soak and stress: thousands of invocations, more callers than environments.

Marked ``slow``: not in the default run (``pytest -m slow`` runs them).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]

APP = """
import time

def echo(event, context):
    return {"n": event["n"], "id": context.aws_request_id}

def slow(event, context):
    time.sleep(0.2)
    return event
"""
CONFIG = """
[functions.echo]
handler = "app.echo"
concurrency = 4

[functions.slow]
handler = "app.slow"
concurrency = 2
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    root = tmp_path_factory.mktemp("soak")
    (root / "app.py").write_text(APP)
    (root / "functions.toml").write_text(CONFIG)
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--config", "functions.toml"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    url = first.split(" on ", 1)[1].split()[0]
    drain = threading.Thread(target=process.stdout.read, daemon=True)
    drain.start()
    yield url, process.pid
    process.terminate()
    assert process.wait(30) == 0
    drain.join(10)
    process.stdout.close()


Result = tuple[int, object, dict[str, int]]


def invoke_many(url: str, function: str, numbers: range, results: list[Result]) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        for n in numbers:
            response = client.post(f"/2015-03-31/functions/{function}/invocations", json={"n": n})
            results.append(
                (
                    response.status_code,
                    response.headers.get("x-amz-function-error"),
                    response.json(),
                )
            )


def test_thousands_of_invocations_without_error_or_growth(emulator: tuple[str, int]) -> None:
    url, pid = emulator
    warm: list[Result] = []
    invoke_many(url, "echo", range(500), warm)
    baseline = rss_kib(pid)
    results: list[Result] = []
    threads = [
        threading.Thread(target=invoke_many, args=(url, "echo", range(i, 4000, 4), results))
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4000
    assert all(status == 200 and error is None for status, error, _ in results)
    assert sorted(body["n"] for _, _, body in results) == list(range(4000))
    grown_kib = rss_kib(pid) - baseline
    assert grown_kib < 16 * 1024, f"emulator RSS grew by {grown_kib} KiB over 4000 invocations"


def test_more_callers_than_environments_get_a_result_or_429(emulator: tuple[str, int]) -> None:
    url, _ = emulator
    outcomes: Counter[int] = Counter()
    lock = threading.Lock()

    def caller() -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            response = client.post("/2015-03-31/functions/slow/invocations", json={"x": 1})
        with lock:
            outcomes[response.status_code] += 1

    threads = [threading.Thread(target=caller) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a caller hung"
    assert set(outcomes) <= {200, 429}
    assert sum(outcomes.values()) == 12
    assert outcomes[200] >= 2
