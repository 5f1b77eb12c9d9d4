"""The results as markdown tables (the README's) and a chart: ``python benchmarks/report.py``.

``suite_markdown`` renders one suite's results; ``write_latest`` gathers every
``SUITE.json`` in a results folder into ``latest.md`` (and ``latest.png``), so
that suites run at different times each keep their own same-run ratios.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from async_queue import queue_tables
from async_suite import async_tables
from stream_report import stream_tables
from tables import column, count_label, grid, size_label

__all__ = ["count_label", "grid", "size_label", "suite_markdown", "write_chart", "write_latest"]

ORDER = ("hot", "cold", "apps", "rss", "emulator", "stream", "async", "queue")


def _hot(results: dict[str, Any], names: list[str]) -> list[list[str]]:
    warm = results["warm"]
    cpu = [(size_label(size), column(table, "cpu_us")) for size, table in warm.items()]
    sections = [grid("Warm: client CPU per invocation, µs (echo handler)", "event", names, cpu)]
    smallest = next(iter(warm), None)
    if smallest is not None:
        detail = [
            ("invocations/s", "per_second"),
            ("next-to-next p50, µs", "cycle_p50_us"),
            ("next-to-next p99, µs", "cycle_p99_us"),
            ("RSS, KiB", "rss_kib"),
            ("fake API's own CPU, µs", "server_cpu_us"),
        ]
        rows = [(label, column(warm[smallest], key)) for label, key in detail]
        title = f"Warm detail, {size_label(smallest)} events"
        sections.append(grid(title, "figure", names, rows))
    return sections


def _cold(results: dict[str, Any], names: list[str]) -> list[list[str]]:
    table = {k: v for k, v in results["cold"].items() if k != "python -c pass"}
    bare = results["cold"].get("python -c pass", {}).get("process_ms", 0.0)
    rows = [
        ("start to first `GET /next`, ms", column(table, "first_next_ms")),
        ("start to first posted response, ms", column(table, "first_response_ms")),
        ("RSS at first `GET /next`, MiB", column(table, "rss_first_next_kib", 1 / 1024)),
    ]
    sections = [grid(f"Cold start (bare `python -c pass`: {bare:.1f} ms)", "figure", names, rows)]
    imports = results.get("ric_imports")
    if imports:
        lines = [
            "ric's costliest imports before the first `GET /next` (`-X importtime`, µs)",
            "",
            "| module | self | cumulative |",
            "|---|---|---|",
        ]
        lines += [
            f"| `{r['module']}` | {r['self_us']} | {r['cumulative_us']} |" for r in imports[:10]
        ]
        sections.append(lines)
    return sections


def _apps(results: dict[str, Any], names: list[str]) -> list[list[str]]:
    runtimes = [n for n in names if any(n in table for table in results["apps"].values())]
    rows = []
    for app, table in results["apps"].items():
        rows.append((f"{app}: Init Duration, ms", column(table, "init_ms")))
        rows.append((f"{app}: start to first response, ms", column(table, "first_response_ms")))
        rows.append(
            (
                f"{app}: RSS at first `GET /next`, MiB",
                column(table, "rss_first_next_kib", 1 / 1024),
            )
        )
    runs = max((f["runs"] for t in results["apps"].values() for f in t.values()), default=0)
    title = f"Init Duration of real applications (start to first `GET /next`; {runs} starts each)"
    return [grid(title, "figure", runtimes, rows), _gc(results)]


def _gc(results: dict[str, Any]) -> list[str]:
    lines = [
        "Garbage collector during init (`gc.callbacks` under `benchmarks/gc_probe.py`; diagnosis)",
        "",
        "| application | runtime | init, ms | in collections, ms | share | collections gen 0/1/2 "
        "| objects freed |",
        "|---|---|---|---|---|---|---|",
    ]
    for app, table in results.get("gc", {}).items():
        for name, f in table.items():
            counts = "/".join(f"{c:g}" for c in f["collections"])
            lines.append(
                f"| {app} | {name} | {f['init_ms']:,.1f} | {f['gc_ms']:,.1f} "
                f"| {f['gc_share']:.1%} | {counts} | {f['collected']:,.0f} |"
            )
    return lines


def _rss(results: dict[str, Any], names: list[str]) -> list[list[str]]:
    lines = [
        "RSS over a long run (echo handler, a new `Lambda-Runtime-Trace-Id` per invocation)",
        "",
        "| runtime | invocations | RSS first, KiB | RSS last, KiB | growth after warm-up, "
        "KiB per 100k | bytes per invocation |",
        "|---|---|---|---|---|---|",
    ]
    samples = ["RSS samples (invocations: KiB)", ""]
    for name, f in results["rss"].items():
        growth = f["growth_kib_per_100k"]
        first, last = f["samples"][0][1], f["samples"][-1][1]
        per_invocation = "n/a" if growth is None else f"{growth * 1024 / 100_000:,.1f}"
        shown = "n/a" if growth is None else f"{growth:,.1f}"
        lines.append(
            f"| {name} | {f['invocations']:,} | {first:,} | {last:,} | {shown} | {per_invocation} |"
        )
        points = ", ".join(f"{count_label(n)}: {kib:,}" for n, kib in f["samples"])
        samples.append(f"- {name}: {points}")
    return [lines, samples]


def _emulator(results: dict[str, Any], names: list[str]) -> list[list[str]]:
    table = results["end_to_end"]
    keys = list(next(iter(table.values()), {}))
    rows = [(key.replace("_", " "), column(table, key)) for key in keys]
    return [
        grid(
            "End to end through the emulator (echo, `{}` event; as runtime)", "figure", names, rows
        )
    ]


def _goals(goals: list[dict[str, Any]]) -> list[str]:
    lines = ["| goal | measured | met |", "|---|---|---|"]
    for goal in goals:
        measured = "n/a" if goal["measured"] is None else f"{goal['measured']:,.3f}"
        lines.append(f"| {goal['goal']} | {measured} | {'yes' if goal['met'] else 'no'} |")
    return lines


def _run_line(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    line = (
        f"Run of {meta.get('started', '?')}, {meta.get('seconds', 0):.0f} s, load average "
        f"{meta.get('load_before', 0):.2f} before, {meta.get('load_after', 0):.2f} after."
    )
    if meta.get("quick"):
        line += " **Quick run: a check of the harness, not a measurement.**"
    return line


RENDERERS: dict[str, Callable[[dict[str, Any], list[str]], list[list[str]]]] = {
    "hot": _hot,
    "cold": _cold,
    "apps": _apps,
    "rss": _rss,
    "emulator": _emulator,
    "stream": stream_tables,
    "async": async_tables,
    "queue": queue_tables,
}


def suite_markdown(results: dict[str, Any], goals: bool = True) -> str:
    """One suite's tables, the line telling when and how quietly it ran, and its goals."""
    sections = [
        [_run_line(results)],
        *RENDERERS[results["suite"]](results, list(results["clients"])),
    ]
    if goals and results.get("goals"):
        sections.append(_goals(results["goals"]))
    return "\n\n".join("\n".join(section) for section in sections if section) + "\n"


def _suites(folder: Path) -> list[dict[str, Any]]:
    found = [folder / f"{suite}.json" for suite in ORDER]
    return [json.loads(path.read_text()) for path in found if path.is_file()]


def write_latest(folder: Path) -> bool:
    """``latest.md`` from every suite in ``folder``; False when no chart could be drawn."""
    suites = _suites(folder)
    parts = [suite_markdown(results, goals=False) for results in suites]
    goals = [goal for results in suites for goal in results.get("goals", [])]
    if goals:
        parts.append("\n".join(_goals(goals)) + "\n")
    (folder / "latest.md").write_text("\n".join(parts))
    by_suite = {results["suite"]: results for results in suites}
    if "hot" not in by_suite or "cold" not in by_suite:
        return True
    return write_chart(by_suite["hot"], by_suite["cold"], folder / "latest.png")


def write_chart(hot: dict[str, Any], cold: dict[str, Any], path: Path) -> bool:
    """Draw warm CPU and cold start; False when matplotlib (the benchmark extra) is missing."""
    try:
        import matplotlib
    except ImportError:
        return False

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in hot["clients"] if n in cold["cold"]]
    figure, (warm_axis, cold_axis) = plt.subplots(1, 2, figsize=(11, 4))
    sizes = list(hot["warm"])
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [hot["warm"][size][name]["cpu_us"] for size in sizes]
        warm_axis.bar([x + i * width for x in range(len(sizes))], values, width, label=name)
        start = cold["cold"][name]
        cold_axis.bar(
            [x + i * width for x in range(2)],
            [start["first_next_ms"], start["first_response_ms"]],
            width,
            label=name,
        )
    warm_axis.set_yscale("log")
    warm_axis.set_xticks(
        [x + 0.4 - width / 2 for x in range(len(sizes))], [size_label(s) for s in sizes]
    )
    warm_axis.set_title("Warm: client CPU per invocation (µs, log)")
    cold_axis.set_xticks([x + 0.4 - width / 2 for x in range(2)], ["first /next", "first response"])
    cold_axis.set_title("Cold start (ms)")
    for axis in (warm_axis, cold_axis):
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


if __name__ == "__main__":
    write_latest(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results")
