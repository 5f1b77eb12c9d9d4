"""End to end through the emulator: invoke latency and throughput, per runtime.

One emulator serves the echo handler once per client command, that command
as the runtime, with two environments each; all are driven alike, interleaved.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from stats import percentile

__all__ = ["Emulator", "function_name", "measure_emulator"]

TABLE = """
[functions.{name}]
command = {command}
concurrency = {callers}
code_dir = "{code}"
"""
CALLERS = 2  # as many callers as environments
ROUNDS = 4


def measure_emulator(
    code_dir: Path, clients: dict[str, list[str]], invocations: int
) -> dict[str, Any]:
    """Each client command as the runtime of one function, driven alike."""
    functions = {function_name(name): name for name in clients}
    tables = [
        TABLE.format(
            name=function, command=json.dumps(clients[name]), callers=CALLERS, code=code_dir
        )
        for function, name in functions.items()
    ]
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "functions.toml"
        config.write_text("".join(tables))
        results = _measure(config, code_dir, tuple(functions), invocations)
    return {functions[function]: figures for function, figures in results.items()}


def function_name(client: str) -> str:
    """A Lambda function name for a client's (letters, digits, hyphens, underscores)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", client)


def _measure(
    config: Path, code_dir: Path, names: tuple[str, ...], invocations: int
) -> dict[str, Any]:
    with Emulator(["--config", str(config)], code_dir.parent) as emulator:
        return _interleaved(emulator.url, names, invocations)


class Emulator:
    """``python -m emulator --port 0 ARGS`` until the block ends; ``lines`` what it printed."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", "0", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        if " on " not in banner:
            self.process.kill()
            raise RuntimeError(f"the emulator did not start (it said {banner!r}; see its stderr)")
        self.url = banner.split(" on ", 1)[1].split()[0]
        self.lines: list[str] = []
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(30)
        self._drain.join(10)
        assert self.process.stdout is not None
        self.process.stdout.close()


def _interleaved(url: str, names: tuple[str, ...], invocations: int) -> dict[str, Any]:
    """Rounds of each runtime in turn, so that machine noise hits them alike."""
    one: dict[str, list[float]] = {name: [] for name in names}
    many: dict[str, list[float]] = {name: [] for name in names}
    seconds = dict.fromkeys(names, 0.0)
    for name in names:
        _callers(url, name, CALLERS, 20)  # warm both environments up
    for _ in range(ROUNDS):
        for name in names:
            one[name] += _callers(url, name, 1, invocations // ROUNDS)[0]
            latencies, elapsed = _callers(url, name, CALLERS, invocations // ROUNDS)
            many[name] += latencies
            seconds[name] += elapsed
    return {
        name: {
            "one_caller_p50_ms": percentile(one[name], 0.5),
            "one_caller_p99_ms": percentile(one[name], 0.99),
            f"{CALLERS}_callers_p50_ms": percentile(many[name], 0.5),
            f"{CALLERS}_callers_p99_ms": percentile(many[name], 0.99),
            "per_second": len(many[name]) / seconds[name],
        }
        for name in names
    }


def _callers(url: str, name: str, callers: int, invocations: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def caller(count: int) -> None:
        mine = []
        with httpx.Client(base_url=url, timeout=60) as client:
            for _ in range(count):
                started = time.perf_counter()
                response = client.post(f"/2015-03-31/functions/{name}/invocations", content=b"{}")
                mine.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200 or "x-amz-function-error" in response.headers:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text}")
        with lock:
            latencies.extend(mine)

    threads = [
        threading.Thread(target=caller, args=(invocations // callers,)) for _ in range(callers)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started
