"""The ``queue`` suite: the durable queue's acceptance rate, and SQS to a function's start.

One emulator (``--state-dir`` in a temporary directory: SQLite in WAL mode,
``synchronous=NORMAL``, so each accepted event is in the write-ahead log, not
fsynced) serves ric's echo handler with two environments. In rounds, one
caller sends ``events`` invocations back to back on one keep-alive
connection: ``RequestResponse`` (the reference: the synchronous invoke path,
each answered once the function ran) and ``Event`` (each answered 202 once
it is queued). Figures: invocations answered per second, the answer's p50
latency, and for ``Event`` the rate at which the queued events were then run
(first event sent to the last one's REPORT line).

Then, through an SQS event source mapping on the embedded SQS server
(moto's), the time from ``SendMessage`` to the handler's first line, one
message at a time (each sent once the last one ran), against the
``RequestResponse`` round trip of the same emulator in the same run.
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

__all__ = ["EVENT", "SYNC", "measure_mapping", "measure_queue", "queue_tables"]

SYNC = "RequestResponse"
EVENT = "Event"
_TABLE = """
[functions.echo]
command = {command}
concurrency = 2
code_dir = "{code}"
"""
_PATH = "/2015-03-31/functions/echo/invocations"
_SINK = """
[functions.sink]
command = {command}
code_dir = "{code}"
"""


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
            _until(lambda reports=reports: _reports(emulator) >= reports + events, 300)
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


def measure_mapping(ric: Client, messages: int) -> dict[str, Any]:
    """SendMessage to the handler's start through a mapping, and the sync round trip."""
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "functions.toml"
        env = ["env", f"PYTHONPATH={ric.pythonpath}"]
        tables = [
            _TABLE.format(command=json.dumps([*env, *ric.argv("handlers.echo")]), code=HERE),
            _SINK.format(command=json.dumps([*env, *ric.argv("handlers.sqs_stamp")]), code=HERE),
        ]
        config.write_text("".join(tables))
        state = Path(folder) / "state"
        args = ["--config", str(config), "--state-dir", str(state), "--sqs"]
        with Emulator(args, HERE.parent) as emulator:
            return _through_mapping(emulator, messages)


def _through_mapping(emulator: Emulator, messages: int) -> dict[str, Any]:
    import boto3

    endpoint = _line(emulator, "emulator: SQS endpoint: ").rsplit(" ", 1)[1]
    keys = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    sqs = boto3.client("sqs", endpoint_url=endpoint, **keys)
    lam = boto3.client("lambda", endpoint_url=emulator.url, **keys)
    url = sqs.create_queue(QueueName="bench")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    mapping = lam.create_event_source_mapping(
        FunctionName="sink", EventSourceArn=arn["QueueArn"], BatchSize=1
    )
    _until(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled")
    latencies = []
    for index in range(messages + 5):  # the first five warm the environment up
        seen = _stamps(emulator)
        sqs.send_message(QueueUrl=url, MessageBody=repr(time.time()))
        _until(lambda seen=seen: _stamps(emulator) > seen)
        if index >= 5:
            latencies.append(_last_stamp(emulator))
    with httpx.Client(base_url=emulator.url, timeout=60) as client:
        _send(client, SYNC, 20)
        sync = _send(client, SYNC, messages)
    sqs.close()
    lam.close()
    return {
        "messages": messages,
        "send_to_start_p50_ms": percentile(latencies, 0.5),
        "send_to_start_p90_ms": percentile(latencies, 0.9),
        "sync_round_trip_p50_ms": sync["p50_ms"],
    }


def _line(emulator: Emulator, prefix: str) -> str:
    _until(lambda: any(line.startswith(prefix) for line in list(emulator.lines)))
    return next(line for line in list(emulator.lines) if line.startswith(prefix)).strip()


def _stamps(emulator: Emulator) -> int:
    return sum("sqs_ms=" in line for line in list(emulator.lines))


def _last_stamp(emulator: Emulator) -> float:
    last = [line for line in list(emulator.lines) if "sqs_ms=" in line][-1]
    return float(last.rsplit("sqs_ms=", 1)[1])


def _until(done: Any, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("the emulator never got there")
        time.sleep(0.002)


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
    sections = [grid(title, "figure", kinds, rows, reference=SYNC)]
    mapping = results.get("mapping")
    if mapping is not None:
        sections.append(_mapping_table(mapping))
    return sections


def _mapping_table(mapping: dict[str, Any]) -> list[str]:
    sync = mapping["sync_round_trip_p50_ms"]
    rows = [
        ("SendMessage to the handler's start, p50", mapping["send_to_start_p50_ms"]),
        ("SendMessage to the handler's start, p90", mapping["send_to_start_p90_ms"]),
        ("RequestResponse round trip, p50", sync),
    ]
    lines = [
        f"Through an SQS event source mapping (embedded moto server): {mapping['messages']} "
        "messages one at a time, against the same run's synchronous invoke",
        "",
        "| figure | ms | ratio to the round trip |",
        "|---|---|---|",
    ]
    for label, value in rows:
        lines.append(f"| {label} | {value:,.1f} | {value / sync if sync else 0.0:.2f}x |")
    return lines
