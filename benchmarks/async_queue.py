"""The ``queue`` suite: Event invocations accepted per second with the durable queue on.

One emulator (``--state-dir`` in a temporary directory: SQLite in WAL mode,
``synchronous=NORMAL``, so each accepted event is in the write-ahead log, not
fsynced) serves ric's echo handler with two environments. In rounds, one
caller sends ``events`` invocations back to back on one keep-alive
connection: ``RequestResponse`` (the reference: the synchronous invoke path,
each answered once the function ran) and ``Event`` (each answered 202 once
it is queued). Figures: invocations answered per second, the answer's p50
latency, and for ``Event`` the rate at which the queued events were then run
(first event sent to the last one's REPORT line).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from clients import HERE, Client
from end_to_end import Emulator
from stats import median, percentile

__all__ = ["EVENT", "SYNC", "measure_queue", "queue_tables"]

SYNC = "RequestResponse"
EVENT = "Event"
_TABLE = """
[functions.echo]
command = {command}
concurrency = 2
code_dir = "{code}"
"""
_PATH = "/2015-03-31/functions/echo/invocations"


def measure_queue(ric: Client, events: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "functions.toml"
        command = ["env", f"PYTHONPATH={ric.pythonpath}", *ric.argv("handlers.echo")]
        config.write_text(_TABLE.format(command=json.dumps(command), code=HERE))
        state = Path(folder) / "state"
        with Emulator(["--config", str(config), "--state-dir", str(state)], HERE.parent) as emu:
            return _rounds(emu, events, rounds)


def _rounds(emulator: Emulator, events: int, rounds: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {SYNC: [], EVENT: []}
    with httpx.Client(base_url=emulator.url, timeout=60) as client:
        _send(client, SYNC, 20)  # both environments warm
        for _ in range(rounds):
            runs[SYNC].append(_send(client, SYNC, events))
            reports = _reports(emulator)
            started = time.perf_counter()
            figures = _send(client, EVENT, events)
            _until_reports(emulator, reports + events)
            figures["run_per_second"] = events / (time.perf_counter() - started)
            runs[EVENT].append(figures)
    return {
        "events": events,
        "rounds": rounds,
        "figures": {
            kind: {key: median([r[key] for r in results]) for key in results[0]}
            for kind, results in runs.items()
        },
    }


def _send(client: httpx.Client, kind: str, count: int) -> dict[str, float]:
    latencies = []
    expected = 202 if kind == EVENT else 200
    started = time.perf_counter()
    for _ in range(count):
        sent = time.perf_counter()
        answer = client.post(_PATH, content=b"{}", headers={"X-Amz-Invocation-Type": kind})
        latencies.append((time.perf_counter() - sent) * 1000)
        if answer.status_code != expected:
            raise RuntimeError(f"{kind}: {answer.status_code} {answer.text}")
    elapsed = time.perf_counter() - started
    return {"per_second": count / elapsed, "p50_ms": percentile(latencies, 0.5)}


def _reports(emulator: Emulator) -> int:
    return sum(line.startswith("[echo] REPORT") for line in list(emulator.lines))


def _until_reports(emulator: Emulator, count: int, limit_s: float = 300) -> None:
    deadline = time.monotonic() + limit_s
    while _reports(emulator) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the queued events were not all run in time")
        time.sleep(0.005)


def queue_tables(results: dict[str, Any], names: list[str]) -> list[list[str]]:
    from tables import grid

    figures = results["figures"]
    kinds = list(figures)
    rows = [
        ("answered per second, one caller", {k: figures[k]["per_second"] for k in kinds}),
        ("answer p50, ms", {k: figures[k]["p50_ms"] for k in kinds}),
        ("queued events run per second", {EVENT: figures[EVENT]["run_per_second"]}),
    ]
    title = (
        f"The durable queue: {results['events']:,} invocations back to back "
        f"(median of {results['rounds']} rounds; state in SQLite, WAL, synchronous=NORMAL)"
    )
    return [grid(title, "figure", kinds, rows, reference=SYNC)]
