"""The ``stream`` suite: response streaming, each runtime against the same fake Runtime API.

Two streams, each measured as the bytes arrive (``fake_stream``):

    first_byte  16 chunks of 1 KiB: from the handler's first yield to the
                first byte at the Runtime API, and to the last
    throughput  64 MiB in 64 KiB chunks (``--stream-mib``): MB/s, client
                CPU per MB, peak RSS

The runtimes: ``ric`` with a generator handler (``handlers.stream``) when
this tree's ric has the streaming API (``ric.Stream``); ``ric buffered``,
the same bytes returned whole (``handlers.stream_buffered``); and the
reference, Node's runtime interface client from npm (``aws-lambda-ric``,
``stream_handler.mjs``) where ``--node-ric PATH`` (or ``RIC_BENCH_NODE_RIC``)
finds it, else ``ric buffered``. Runs are interleaved: each repetition runs
every runtime in turn on each stream, then whatever ``measure_streams`` is
given to run with it (the same streams through the emulator,
``stream_emulator``). Figures are medians over the repetitions, ratios are
to the reference in the same run.

Node's client builds a native addon (curl and aws-lambda-cpp, with cmake,
make and a C++ compiler) when it installs; outside the checkout::

    mkdir -p /work/node-ric && cd /work/node-ric && npm init -y
    npm install aws-lambda-ric@4.0.2
    python benchmarks/run.py --only stream --node-ric /work/node-ric

``time_callers`` times any callable that invokes with an event and yields
the stream as its caller receives it against the same stamps (boto3's
``EventStream`` through the emulator, in ``stream_emulator``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clients import HERE, Client
from fake_stream import FakeStreamApi, StreamSpec
from stats import median_figures, ratios, rotated, stream_figures
from stream_timing import StreamRecord, time_stream

__all__ = [
    "BUFFERED",
    "NODE",
    "STREAMING",
    "Plan",
    "Streamer",
    "find_node_ric",
    "measure_streams",
    "plan",
    "ric_streams",
    "streamers",
    "time_callers",
]

NODE = "node-ric"
BUFFERED = "ric buffered"
STREAMING = "ric"
# What Lambda sets and Node's client insists on (it exits without them).
_NODE_ENV = (
    "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
    "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/bench",
    "AWS_LAMBDA_LOG_STREAM_NAME=2026/12/01/[$LATEST]bench",
)


@dataclass(frozen=True)
class Streamer:
    """A runtime and the handler that streams for it."""

    name: str
    client: Client
    handler: str

    def argv(self) -> list[str]:
        return self.client.argv(self.handler)


@dataclass(frozen=True)
class Plan:
    """Each stream, how many times per run it is invoked (after ``warmup``), runs per client."""

    first_byte: StreamSpec
    first_byte_invocations: int
    throughput: StreamSpec
    throughput_invocations: int
    reps: int
    warmup: int = 2


def plan(reps: int, mib: int, quick: bool) -> Plan:
    """The default plan, or a tiny one that only checks the harness."""
    if quick:
        return Plan(StreamSpec(16, 1024), 10, StreamSpec(64, 65536), 1, 1, 1)
    return Plan(StreamSpec(16, 1024), 200, StreamSpec(mib * 16, 65536), 4, reps)


def find_node_ric(path: Path | None) -> tuple[Client | None, str]:
    """Node's client at ``path`` (an npm prefix or the package), and what it is; or why not."""
    if path is None:
        return None, "no --node-ric PATH (nor RIC_BENCH_NODE_RIC)"
    found = [
        p for p in (path, path / "node_modules" / "aws-lambda-ric") if (p / "index.mjs").is_file()
    ]
    if not found:
        return None, f"{path}: no aws-lambda-ric there (index.mjs)"
    node = shutil.which("node")
    if node is None:
        return None, "no node on PATH"
    version = json.loads((found[0] / "package.json").read_text()).get("version", "?")
    node_version = subprocess.run(
        [node, "--version"], check=True, capture_output=True, text=True
    ).stdout.strip()
    command = ("env", "_HANDLER={handler}", *_NODE_ENV, node, str(found[0] / "index.mjs"))
    return Client(NODE, command), f"aws-lambda-ric {version} on node {node_version}"


def ric_streams(ric: Client) -> bool:
    """Whether this ric has the streaming handler API (``ric.Stream``)."""
    probe = [ric.template[0], "-c", "import ric, sys; sys.exit(not hasattr(ric, 'Stream'))"]
    return subprocess.run(probe, env=ric.env(), check=False).returncode == 0


def streamers(ric: Client, node: Client | None, streams: bool) -> list[Streamer]:
    """The runtimes measured: ric streaming (when it can), ric buffered, Node's client."""
    found = [Streamer(STREAMING, ric, "handlers.stream")] if streams else []
    found.append(Streamer(BUFFERED, ric, "handlers.stream_buffered"))
    if node is not None:
        found.append(Streamer(NODE, node, "stream_handler.handler"))
    return found


def _fake_run(
    streamer: Streamer, spec: StreamSpec, invocations: int, warmup: int
) -> dict[str, float]:
    """One run of a runtime against a fake Runtime API of its own."""
    run = FakeStreamApi(spec, invocations, warmup).run(
        streamer.argv(), streamer.client.env(), str(HERE)
    )
    figures = stream_figures(run.records, run.cpu_ns, run.server_cpu_ns, run.peak_rss_kib)
    figures["unstamped_reads"] = float(run.unstamped_reads)
    return figures


def measure_streams(
    runtimes: list[Streamer], plan: Plan, each_rep: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Both streams, every runtime, interleaved; figures and their ratios to the reference.

    ``each_rep(rep)``, when given, runs after each repetition's streams: more
    measurements (through the emulator) interleaved with these.
    """
    names = [s.name for s in runtimes]
    reference = NODE if NODE in names else BUFFERED
    scenarios = (
        ("first_byte", plan.first_byte, plan.first_byte_invocations),
        ("throughput", plan.throughput, plan.throughput_invocations),
    )
    runs: dict[str, dict[str, list[dict[str, float]]]] = {
        name: {s.name: [] for s in runtimes} for name, _, _ in scenarios
    }
    for rep in range(plan.reps):
        for name, spec, invocations in scenarios:
            for streamer in rotated(runtimes, rep):
                figures = _fake_run(streamer, spec, invocations, plan.warmup)
                runs[name][streamer.name].append(figures)
        if each_rep is not None:
            each_rep(rep)
    results: dict[str, Any] = {"reference": reference}
    for name, spec, invocations in scenarios:
        table = {runtime: median_figures(figures) for runtime, figures in runs[name].items()}
        results[name] = {
            "chunks": spec.chunks,
            "size": spec.size,
            "invocations": invocations,
            "reps": plan.reps,
            "figures": table,
            "ratios": ratios(table, reference),
        }
    return results


def time_callers(
    invoke: Callable[[bytes], Iterable[bytes]],
    spec: StreamSpec,
    count: int,
    clock: Callable[[], int] = time.monotonic_ns,
) -> list[StreamRecord]:
    """``count`` invocations through ``invoke``, each stream timed as its caller reads it."""
    return [time_stream(invoke(spec.event()), clock) for _ in range(count)]
