"""Every benchmark, side by side, interleaved: ``python benchmarks/run.py``.

Writes ``benchmarks/results/latest.json``, ``latest.md`` (the README's table)
and ``latest.png``. Clients are measured from outside against
``benchmarks/fake_api.py``; every figure is the median of the repetitions, and
every ratio is taken against awslambdaric in the same run.

    python benchmarks/run.py [--quick] [--client NAME=COMMAND ...] [--reps N]
                             [--cold-runs N] [--sizes 64,102400,...] [--no-emulator]

``{handler}`` in a client command stands for the echo handler.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from end_to_end import measure_emulator  # noqa: E402
from fake_api import FakeRuntimeApi  # noqa: E402
from report import write_chart, write_table  # noqa: E402

PY = sys.executable
CLIENTS = {
    "ric": f"{PY} -m ric {{handler}}",
    "awslambdaric": f"{PY} -m awslambdaric {{handler}}",
    "floor": f"{PY} {HERE / 'floor.py'} {{handler}}",
}
SIZES = [64, 100 * 1024, 1024 * 1024, 6 * 1024 * 1024]
# Invocations per warm run, by event size: enough CPU time to measure well.
INVOCATIONS = {64: 3000, 100 * 1024: 1000, 1024 * 1024: 200, 6 * 1024 * 1024: 40}
REFERENCE = "awslambdaric"


def client_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(HERE.parent)
    env["AWS_LAMBDA_FUNCTION_NAME"] = "bench"
    env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "128"
    return env


def event(size: int) -> bytes:
    return b'{"payload":"' + b"x" * max(size - 14, 0) + b'"}'


def warm(clients: dict[str, list[str]], size: int, reps: int, scale: float) -> dict[str, Any]:
    count = max(int(INVOCATIONS.get(size, 200) * scale), 5)
    runs: dict[str, list[Any]] = {name: [] for name in clients}
    for _ in range(reps):
        for name, command in clients.items():
            api = FakeRuntimeApi(event(size), count, warmup=max(count // 10, 2))
            runs[name].append(api.run(command, client_env(), str(HERE)))
    return {
        name: {
            "invocations": count,
            "cpu_us": statistics.median(r.cpu_us_per_invocation for r in results),
            "server_cpu_us": statistics.median(r.server_cpu_us_per_invocation for r in results),
            "per_second": statistics.median(r.per_second for r in results),
            "cycle_p50_us": statistics.median(r.cycle_p50_us for r in results),
            "cycle_p99_us": statistics.median(r.cycle_percentile(0.99) for r in results),
            "rss_kib": statistics.median(r.rss_end_kib for r in results),
        }
        for name, results in runs.items()
    }


def cold(clients: dict[str, list[str]], runs: int) -> dict[str, Any]:
    samples: dict[str, dict[str, list[float]]] = {
        name: {"first_next_ms": [], "first_response_ms": [], "rss_first_next_kib": []}
        for name in clients
    }
    bare: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([PY, "-c", "pass"], check=True, env=client_env())
        bare.append((time.perf_counter() - started) * 1000)
        for name, command in clients.items():
            result = FakeRuntimeApi(b"{}", 1).run(command, client_env(), str(HERE))
            samples[name]["first_next_ms"].append(result.first_next_s * 1000)
            samples[name]["first_response_ms"].append(result.first_response_s * 1000)
            samples[name]["rss_first_next_kib"].append(result.rss_first_next_kib)
    figures = {
        name: {figure: statistics.median(values) for figure, values in by_figure.items()}
        for name, by_figure in samples.items()
    }
    figures["python -c pass"] = {"process_ms": statistics.median(bare)}
    return figures


def import_breakdown(command: list[str], top: int = 15) -> list[dict[str, Any]]:
    """``-X importtime`` of the path to the first ``GET /next``: the costliest imports."""
    if command[1:2] != ["-m"]:
        return []
    api = FakeRuntimeApi(b"{}", 1)
    run = api.run(
        [command[0], "-X", "importtime", *command[1:]], client_env(), str(HERE), stderr=True
    )
    rows = []
    for line in run.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[0].startswith("import time:") and parts[1].strip().isdigit():
            rows.append({"module": parts[2].rstrip(), "self_us": int(parts[0].split(":")[1]),
                         "cumulative_us": int(parts[1])})  # fmt: skip
    return sorted(rows, key=lambda row: -row["cumulative_us"])[:top]


GOALS = [
    # (goal, section, key, client, reference client, at most)
    ("warm 64 B CPU, ric / awslambdaric", "64", "cpu_us", "ric", REFERENCE, 0.40),
    ("warm 64 B CPU, ric / floor", "64", "cpu_us", "ric", "floor", 1.0),
    ("warm 1 MB CPU, ric / awslambdaric", "1048576", "cpu_us", "ric", REFERENCE, 0.35),
    ("start to first /next, ric / awslambdaric", "cold", "first_next_ms", "ric", REFERENCE, 0.70),
    (
        "start to first response, ric / awslambdaric",
        "cold",
        "first_response_ms",
        "ric",
        REFERENCE,
        0.75,
    ),
    ("RSS at first /next, ric / awslambdaric", "cold", "rss_first_next_kib", "ric", REFERENCE, 1.0),
]


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The benchmark issue's goals, each with its measured ratio and verdict."""
    verdicts = []
    for goal, section, key, name, reference, limit in GOALS:
        table = results["cold"] if section == "cold" else results["warm"].get(section, {})
        mine, theirs = table.get(name, {}).get(key), table.get(reference, {}).get(key)
        ratio = mine / theirs if mine is not None and theirs else None
        verdicts.append({"goal": f"{goal} <= {limit:.2f}", "ratio": ratio,
                         "met": ratio is not None and ratio <= limit})  # fmt: skip
    return verdicts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny runs: checks the harness only")
    parser.add_argument("--client", action="append", default=[], metavar="NAME=COMMAND")
    parser.add_argument("--reps", type=int, default=9, help="warm repetitions per client (9)")
    parser.add_argument("--cold-runs", type=int, default=20, help="cold starts per client (20)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="event sizes in bytes")
    parser.add_argument("--no-emulator", action="store_true", help="skip the end-to-end runs")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="results folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    named = dict(item.split("=", 1) for item in args.client) or CLIENTS
    clients = {n: shlex.split(c.format(handler="handlers.echo")) for n, c in named.items()}
    scale = 0.01 if args.quick else 1.0
    # Installed packages come with compiled bytecode; so must the code measured here.
    compileall.compile_dir(str(HERE.parent / "ric"), quiet=1)
    results: dict[str, Any] = {"clients": {n: " ".join(c) for n, c in clients.items()}}
    results["cold"] = cold(clients, args.cold_runs)
    results["warm"] = {
        str(size): warm(clients, size, args.reps, scale) for size in map(int, args.sizes.split(","))
    }
    if "ric" in clients:
        results["ric_imports"] = import_breakdown(clients["ric"])
    if not args.no_emulator:
        results["end_to_end"] = measure_emulator(HERE, clients, 20 if args.quick else 400)
    results["goals"] = goals(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    table = write_table(results, args.out / "latest.md")
    print(table)
    if not write_chart(results, args.out / "latest.png"):
        print("no chart: matplotlib is not installed (pip install -e '.[benchmark]')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
