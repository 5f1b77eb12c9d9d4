"""Runtime clients side by side: warm CPU per invocation and cold start, interleaved.

    python benchmarks/compare.py [--size BYTES] [--invocations N] [--reps R] [--cold-runs C]
                                 [--client NAME=COMMAND ...] [--output FILE]

Each client command is started against benchmarks.fake_api with
``AWS_LAMBDA_RUNTIME_API`` set; ``{handler}`` in it stands for the echo handler.
Runs of the clients are interleaved so machine noise hits them alike; figures
are medians, and ratios are taken against the first client named
``awslambdaric`` (or the first client) in the same run.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shlex
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fake_api import FakeRuntimeApi  # noqa: E402

DEFAULT_CLIENTS = {
    "ric": f"{sys.executable} -m ric {{handler}}",
    "awslambdaric": f"{sys.executable} -m awslambdaric {{handler}}",
}
FIGURES = ("warm_cpu_us", "first_next_ms", "first_response_ms", "rss_first_next_kib")


def client_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(HERE.parent)
    env["AWS_LAMBDA_FUNCTION_NAME"] = "bench"
    env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "128"
    return env


def measure(clients: dict[str, list[str]], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    samples: dict[str, dict[str, list[float]]] = {
        name: {figure: [] for figure in FIGURES} for name in clients
    }
    body = b'{"payload":"' + b"x" * max(args.size - 14, 0) + b'"}'
    env = client_env()
    for _ in range(args.reps):
        for name, command in clients.items():
            run = FakeRuntimeApi(body, args.invocations, warmup=200).run(command, env, str(HERE))
            samples[name]["warm_cpu_us"].append(run.cpu_us_per_invocation)
    for _ in range(args.cold_runs):
        for name, command in clients.items():
            run = FakeRuntimeApi(b"{}", 1).run(command, env, str(HERE))
            samples[name]["first_next_ms"].append(run.first_next_s * 1000)
            samples[name]["first_response_ms"].append(run.first_response_s * 1000)
            samples[name]["rss_first_next_kib"].append(run.rss_first_next_kib)
    return {
        name: {figure: statistics.median(values) for figure, values in figures.items()}
        for name, figures in samples.items()
    }


def report(results: dict[str, dict[str, float]]) -> str:
    reference = "awslambdaric" if "awslambdaric" in results else next(iter(results))
    lines = [
        "| client | " + " | ".join(FIGURES) + " |",
        "|---" * (len(FIGURES) + 1) + "|",
    ]
    for name, figures in results.items():
        cells = []
        for figure in FIGURES:
            base = results[reference][figure]
            ratio = figures[figure] / base if base else 0.0
            cells.append(f"{figures[figure]:.1f} ({ratio:.2f}x)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=64, help="event size in bytes (default 64)")
    parser.add_argument("--invocations", type=int, default=3000, help="warm invocations per run")
    parser.add_argument("--reps", type=int, default=5, help="warm runs per client")
    parser.add_argument("--cold-runs", type=int, default=20, help="cold starts per client")
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="NAME=COMMAND",
        help="a client to measure (repeatable); default: ric and awslambdaric",
    )
    parser.add_argument("--output", type=Path, default=HERE / "results" / "compare.json")
    args = parser.parse_args()
    named = dict(item.split("=", 1) for item in args.client) or DEFAULT_CLIENTS
    clients = {
        name: shlex.split(cmd.format(handler="handlers.echo")) for name, cmd in named.items()
    }
    # Installed packages come with their bytecode compiled; so must ours.
    compileall.compile_dir(str(HERE.parent / "ric"), quiet=1)
    results = measure(clients, args)
    table = report(results)
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {"args": vars(args) | {"output": str(args.output)}, "medians": results}, indent=2
        )
        + "\n"
    )
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
