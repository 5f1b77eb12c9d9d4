"""Every benchmark, clients side by side, interleaved: ``python benchmarks/run.py``.

Suites (``--only hot,cold,...``; all by default), each written to
``benchmarks/results/SUITE.json`` and ``SUITE.md`` and printed:

    hot       warm client CPU per invocation at each event size, invocations/s,
              next-to-next times, against ``benchmarks/fake_api.py``
    cold      start to the first GET /next, to the first response; RSS then
    apps      Init Duration of a Powertools and a FastAPI (Mangum) function,
              and how much of it the garbage collector took
    rss       RSS sampled over a long run, a new trace id per invocation
    emulator  end to end through the emulator
    async     async handlers' CPU per invocation (ric's sync and async echo,
              awslambdaric with asyncio.run), async concurrency mode against
              worker processes (throughput, CPU, memory of the process tree),
              a FastAPI app under ric.asgi against Mangum on awslambdaric
              (CPU per request, requests/s, Init Duration)
    queue     Event invocations accepted per second with the durable queue,
              against RequestResponse invocations of the same function
    stream    response streaming: first byte, MB/s, CPU per MB, against the
              same fake Runtime API, then through the emulator (boto3, raw
              HTTP, a function URL); Node's client as the reference where
              ``--node-ric PATH`` (or ``RIC_BENCH_NODE_RIC``) finds it

Then ``results/latest.md`` (the README's tables) and ``latest.png`` are drawn
again from every suite's JSON there (``benchmarks/report.py``). Figures are
medians; every ratio is to awslambdaric, or ric to ric@baseline, in the same run.
``--baseline PATH`` adds ric as of another tree (``PATH/ric``) as ``ric@baseline``.
``{handler}`` in a ``--client`` command stands for the handler.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["SUITES", "cold", "event", "import_breakdown", "main", "parse_args", "run_suite", "warm"]

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from async_queue import measure_mapping, measure_queue  # noqa: E402
from async_suite import AsgiPlan, ConcurrencyPlan, measure_async  # noqa: E402
from clients import (  # noqa: E402
    PY,
    REFERENCE,
    ROOT,
    Client,
    baseline_client,
    compile_tree,
    default_clients,
    named_client,
)
from end_to_end import measure_emulator  # noqa: E402
from fake_api import FakeRuntimeApi  # noqa: E402
from goals import verdicts  # noqa: E402
from init_duration import measure_apps  # noqa: E402
from report import suite_markdown, write_latest  # noqa: E402
from rss import RssPlan, measure_rss  # noqa: E402
from stats import median, parse_importtime, rotated  # noqa: E402
from stream_emulator import StreamEmulator, ThroughEmulator, emulator_plan  # noqa: E402
from streaming import find_node_ric, measure_streams, plan, ric_streams, streamers  # noqa: E402

SUITES = ("hot", "cold", "apps", "rss", "emulator", "stream", "async", "queue")
SIZES = [64, 100 * 1024, 1024 * 1024, 6 * 1024 * 1024]
# Invocations per warm run, by event size: enough CPU time to measure well.
INVOCATIONS = {64: 3000, 100 * 1024: 1000, 1024 * 1024: 200, 6 * 1024 * 1024: 40}
ECHO = "handlers.echo"


def event(size: int) -> bytes:
    return b'{"payload":"' + b"x" * max(size - 14, 0) + b'"}'


def warm(clients: list[Client], size: int, reps: int, scale: float) -> dict[str, Any]:
    count = max(int(INVOCATIONS.get(size, 200) * scale), 5)
    runs: dict[str, list[Any]] = {c.name: [] for c in clients}
    for rep in range(reps):
        for client in rotated(clients, rep):
            api = FakeRuntimeApi(event(size), count, warmup=max(count // 10, 2))
            runs[client.name].append(api.run(client.argv(ECHO), client.env(), str(HERE)))
    return {
        name: {
            "invocations": count,
            "cpu_us": median([r.cpu_us_per_invocation for r in results]),
            "server_cpu_us": median([r.server_cpu_us_per_invocation for r in results]),
            "per_second": median([r.per_second for r in results]),
            "cycle_p50_us": median([r.cycle_p50_us for r in results]),
            "cycle_p99_us": median([r.cycle_percentile(0.99) for r in results]),
            "rss_kib": median([r.rss_end_kib for r in results]),
        }
        for name, results in runs.items()
    }


def cold(clients: list[Client], runs: int) -> dict[str, Any]:
    figures = ("first_next_ms", "first_response_ms", "rss_first_next_kib")
    samples: dict[str, dict[str, list[float]]] = {
        c.name: {figure: [] for figure in figures} for c in clients
    }
    bare: list[float] = []
    for run in range(runs):
        started = time.perf_counter()
        subprocess.run([PY, "-c", "pass"], check=True, env=clients[0].env())
        bare.append((time.perf_counter() - started) * 1000)
        for client in rotated(clients, run):
            result = FakeRuntimeApi(b"{}", 1).run(client.argv(ECHO), client.env(), str(HERE))
            samples[client.name]["first_next_ms"].append(result.first_next_s * 1000)
            samples[client.name]["first_response_ms"].append(result.first_response_s * 1000)
            samples[client.name]["rss_first_next_kib"].append(result.rss_first_next_kib)
    table: dict[str, Any] = {
        name: {figure: median(values) for figure, values in by_figure.items()}
        for name, by_figure in samples.items()
    }
    table["python -c pass"] = {"process_ms": median(bare)}
    return table


def import_breakdown(client: Client, top: int = 15) -> list[dict[str, object]]:
    """``-X importtime`` of the path to the first ``GET /next``: the costliest imports."""
    argv = client.argv(ECHO)
    if client.module_form() is None:
        return []
    run = FakeRuntimeApi(b"{}", 1).run(
        [argv[0], "-X", "importtime", *argv[1:]], client.env(), str(HERE), stderr=True
    )
    return parse_importtime(run.stderr, top)


def _hot(clients: list[Client], args: argparse.Namespace) -> dict[str, Any]:
    scale = 0.01 if args.quick else 1.0
    sizes = [int(size) for size in args.sizes.split(",")]
    return {"warm": {str(size): warm(clients, size, args.reps, scale) for size in sizes}}


def _cold(clients: list[Client], args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"cold": cold(clients, args.cold_runs)}
    for client in clients:
        if client.name == "ric":
            results["ric_imports"] = import_breakdown(client)
    return results


def _apps(clients: list[Client], args: argparse.Namespace) -> dict[str, Any]:
    # The floor client passes no context object: real applications need one.
    runtimes = [c for c in clients if c.name != "floor"]
    return measure_apps(
        runtimes, 2 if args.quick else args.app_runs, 1 if args.quick else args.gc_runs
    )


def _rss(clients: list[Client], args: argparse.Namespace) -> dict[str, Any]:
    if args.quick:
        plan = RssPlan(invocations=2000, reference=1000, every=500, warmup=500)
    else:
        plan = RssPlan(
            args.rss_invocations, args.rss_reference_invocations, args.rss_every, args.rss_warmup
        )
    return {"rss": measure_rss([c for c in clients if c.name != "floor"], plan)}


def _emulator(clients: list[Client], args: argparse.Namespace) -> dict[str, Any]:
    # The emulator starts each runtime; env(1) gives it the client's PYTHONPATH.
    commands = {c.name: ["env", f"PYTHONPATH={c.pythonpath}", *c.argv(ECHO)] for c in clients}
    return {"end_to_end": measure_emulator(HERE, commands, 20 if args.quick else 400)}


def _stream(clients: list[Client], args: argparse.Namespace) -> dict[str, Any]:
    ric = next((c for c in clients if c.name == "ric"), default_clients()[0])
    node, node_ric = find_node_ric(args.node_ric)
    if node is None:
        print(f"stream: Node's client skipped: {node_ric}")
    runtimes = streamers(ric, node, ric_streams(ric))
    streams = plan(args.stream_reps, args.stream_mib, args.quick)
    # The emulator's runs are interleaved with the fake Runtime API's, repetition by repetition.
    with (
        StreamEmulator(runtimes) as emulator,
        contextlib.closing(
            ThroughEmulator(emulator, emulator_plan(streams, args.quick))
        ) as through,
    ):
        results = measure_streams(runtimes, streams, through.rep)
        results["emulator"] = through.results(results["first_byte"]["figures"])
    results["clients"] = {s.name: " ".join(s.argv()) for s in runtimes}
    results["node_ric"] = node_ric
    return results


def _async(clients: list[Client], args: argparse.Namespace) -> dict[str, Any]:
    ric = next((c for c in clients if c.name == "ric"), default_clients()[0])
    reference = next((c for c in clients if c.name == REFERENCE), default_clients()[1])
    if args.quick:
        plan = ConcurrencyPlan(slots=4, wait_ms=10, rounds=2, reps=1)
        return measure_async(
            ric, reference, 1, 50, plan=plan, asgi=AsgiPlan(reps=1, invocations=20, starts=1)
        )
    plan = ConcurrencyPlan(slots=args.slots, reps=args.slots_reps)
    asgi = AsgiPlan(reps=args.reps, starts=args.asgi_starts)
    return measure_async(ric, reference, args.reps, INVOCATIONS[64], plan=plan, asgi=asgi)


def _queue(clients: list[Client], args: argparse.Namespace) -> dict[str, Any]:
    ric = next((c for c in clients if c.name == "ric"), default_clients()[0])
    if args.quick:
        return {**measure_queue(ric, 20, 1), "mapping": measure_mapping(ric, 3)}
    results = measure_queue(ric, args.queue_events, args.queue_rounds)
    return {**results, "mapping": measure_mapping(ric, args.queue_messages)}


RUNNERS: dict[str, Callable[[list[Client], argparse.Namespace], dict[str, Any]]] = {
    "hot": _hot,
    "cold": _cold,
    "apps": _apps,
    "rss": _rss,
    "emulator": _emulator,
    "stream": _stream,
    "async": _async,
    "queue": _queue,
}


def run_suite(suite: str, clients: list[Client], args: argparse.Namespace) -> dict[str, Any]:
    """Measure one suite and write its JSON and markdown; the results, with their goals."""
    began, load = time.time(), os.getloadavg()[0]
    results: dict[str, Any] = {"suite": suite, "clients": {c.name: c.shown() for c in clients}}
    results.update(RUNNERS[suite](clients, args))
    results["meta"] = {
        "quick": args.quick,
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(began)),
        "seconds": round(time.time() - began, 1),
        "load_before": load,
        "load_after": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    results["goals"] = verdicts(suite, results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{suite}.json").write_text(json.dumps(results, indent=2) + "\n")
    text = suite_markdown(results)
    (args.out / f"{suite}.md").write_text(text)
    print(text)
    return results


def parse_args(
    argv: list[str] | None, environ: Mapping[str, str] = os.environ
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--only", default=",".join(SUITES), help="suites to run, comma-separated (all)")
    add("--quick", action="store_true", help="tiny runs: checks the harness only")
    add("--baseline", type=Path, metavar="PATH", help="also measure ric of this tree")
    add(
        "--client",
        action="append",
        default=[],
        metavar="NAME=COMMAND",
        help="measure these instead of ric, awslambdaric and floor",
    )
    add("--reps", type=int, default=9, help="hot: warm repetitions per client (9)")
    add("--sizes", default=",".join(map(str, SIZES)), help="hot: event sizes in bytes")
    add("--cold-runs", type=int, default=20, help="cold: starts per client (20)")
    add("--app-runs", type=int, default=20, help="apps: starts per client and app (20)")
    add("--gc-runs", type=int, default=5, help="apps: probed starts per client and app (5)")
    add("--rss-invocations", type=int, default=300_000, help="rss: ric's invocations (300000)")
    add(
        "--rss-reference-invocations",
        type=int,
        default=150_000,
        help="rss: the other clients' invocations (150000)",
    )
    add("--rss-every", type=int, default=50_000, help="rss: invocations between samples (50000)")
    add("--rss-warmup", type=int, default=50_000, help="rss: samples before this are not fitted")
    add("--slots", type=int, default=64, help="async: AWS_LAMBDA_MAX_CONCURRENCY (64)")
    add("--slots-reps", type=int, default=3, help="async: runs per concurrency mode (3)")
    add("--asgi-starts", type=int, default=20, help="async: starts per ASGI server (20)")
    add("--queue-events", type=int, default=500, help="queue: invocations a round (500)")
    add("--queue-rounds", type=int, default=5, help="queue: rounds of each kind (5)")
    add("--queue-messages", type=int, default=100, help="queue: SQS messages, one by one (100)")
    add("--stream-reps", type=int, default=7, help="stream: runs per client and stream (7)")
    add("--stream-mib", type=int, default=64, help="stream: MiB of the long stream (64)")
    node_ric = environ.get("RIC_BENCH_NODE_RIC")
    add(
        "--node-ric",
        type=Path,
        default=Path(node_ric) if node_ric else None,
        metavar="PATH",
        help="stream: Node's aws-lambda-ric (an npm prefix or the package; RIC_BENCH_NODE_RIC)",
    )
    add("--out", type=Path, default=HERE / "results", help="results folder")
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(SUITES)
    if unknown:
        parser.error(f"--only: no suite {', '.join(sorted(unknown))} (suites: {', '.join(SUITES)})")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    clients = [named_client(spec) for spec in args.client] or default_clients()
    # Installed packages come with compiled bytecode; so must the code measured here.
    compile_tree(ROOT / "ric")
    with tempfile.TemporaryDirectory(prefix="ric-baseline-") as workdir:
        if args.baseline is not None:
            after_ric = next((i + 1 for i, c in enumerate(clients) if c.name == "ric"), 0)
            clients.insert(after_ric, baseline_client(args.baseline, Path(workdir)))
        for suite in SUITES:
            if suite in args.only.split(","):
                run_suite(suite, clients, args)
    if not write_latest(args.out):
        print("no chart: matplotlib is not installed (the benchmark extra, see README)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
