"""The results as a markdown table (for the README) and a chart (PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_chart", "write_table"]

REFERENCE = "awslambdaric"


def _size(size: str) -> str:
    value = int(size)
    if value >= 1024 * 1024:
        return f"{value // (1024 * 1024)} MB"
    return f"{value // 1024} KB" if value >= 1024 else f"{value} B"


def _cell(value: float, base: float | None) -> str:
    ratio = f" ({value / base:.2f}x)" if base else ""
    return f"{value:,.1f}{ratio}"


def _warm_table(results: dict[str, Any], names: list[str]) -> list[str]:
    lines = [
        "Warm: client CPU per invocation, µs (echo handler; ratio to awslambdaric)",
        "",
        "| event | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for size, table in results["warm"].items():
        base = table.get(REFERENCE, {}).get("cpu_us")
        cells = [_cell(table[n]["cpu_us"], base) for n in names]
        lines.append(f"| {_size(size)} | " + " | ".join(cells) + " |")
    return lines


def _cold_table(results: dict[str, Any], names: list[str]) -> list[str]:
    cold = results["cold"]
    rows = [
        ("start to first `GET /next`, ms", "first_next_ms", 1.0),
        ("start to first posted response, ms", "first_response_ms", 1.0),
        ("RSS at first `GET /next`, MiB", "rss_first_next_kib", 1 / 1024),
    ]
    lines = [
        f"Cold start (bare `python -c pass`: {cold['python -c pass']['process_ms']:.1f} ms)",
        "",
        "| figure | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for label, key, scale in rows:
        base = cold.get(REFERENCE, {}).get(key)
        cells = [_cell(cold[n][key] * scale, base * scale if base else None) for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _end_to_end_table(results: dict[str, Any]) -> list[str]:
    table = results.get("end_to_end")
    if not table:
        return []
    keys = list(next(iter(table.values())))
    lines = ["End to end through the emulator (echo, `{}` event; as runtime)", ""]
    lines.append("| runtime | " + " | ".join(k.replace("_", " ") for k in keys) + " |")
    lines.append("|---" * (len(keys) + 1) + "|")
    for name, figures in table.items():
        base = table.get(REFERENCE, {})
        cells = [_cell(figures[k], base.get(k)) for k in keys]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _warm_detail(results: dict[str, Any], names: list[str]) -> list[str]:
    keys = [
        ("per_second", "invocations/s"),
        ("cycle_p50_us", "next-to-next p50, µs"),
        ("cycle_p99_us", "next-to-next p99, µs"),
        ("rss_kib", "RSS, KiB"),
        ("server_cpu_us", "fake API's own CPU, µs"),
    ]
    lines = [
        "Warm detail, 64 B events (the fake Runtime API's CPU stays well below the clients')",
        "",
        "| figure | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    table = results["warm"].get("64")
    if not table:
        return []
    for key, label in keys:
        base = table.get(REFERENCE, {}).get(key)
        lines.append(f"| {label} | " + " | ".join(_cell(table[n][key], base) for n in names) + " |")
    return lines


def _imports_table(results: dict[str, Any]) -> list[str]:
    rows = results.get("ric_imports")
    if not rows:
        return []
    lines = [
        "ric's costliest imports before the first `GET /next` (`-X importtime`, µs)",
        "",
        "| module | self | cumulative |",
        "|---|---|---|",
    ]
    lines += [
        f"| `{r['module'].strip()}` | {r['self_us']} | {r['cumulative_us']} |" for r in rows[:10]
    ]
    return lines


def _goals_table(results: dict[str, Any]) -> list[str]:
    lines = ["| goal | measured | met |", "|---|---|---|"]
    for goal in results["goals"]:
        ratio = "n/a" if goal["ratio"] is None else f"{goal['ratio']:.2f}"
        lines.append(f"| {goal['goal']} | {ratio} | {'yes' if goal['met'] else 'no'} |")
    return lines


def write_table(results: dict[str, Any], path: Path) -> str:
    names = list(results["clients"])
    sections = [
        _warm_table(results, names),
        _warm_detail(results, names),
        _cold_table(results, names),
        _imports_table(results),
        _end_to_end_table(results),
        _goals_table(results),
    ]
    text = "\n\n".join("\n".join(section) for section in sections if section) + "\n"
    path.write_text(text)
    return text


def write_chart(results: dict[str, Any], path: Path) -> bool:
    """Draw the chart; False when matplotlib (the benchmark extra) is not installed."""
    try:
        import matplotlib
    except ImportError:
        return False

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["clients"])
    figure, (warm_axis, cold_axis) = plt.subplots(1, 2, figsize=(11, 4))
    sizes = list(results["warm"])
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [results["warm"][size][name]["cpu_us"] for size in sizes]
        warm_axis.bar([x + i * width for x in range(len(sizes))], values, width, label=name)
        cold = results["cold"][name]
        cold_axis.bar(
            [x + i * width for x in range(2)],
            [cold["first_next_ms"], cold["first_response_ms"]],
            width,
            label=name,
        )
    warm_axis.set_yscale("log")
    warm_axis.set_xticks(
        [x + 0.4 - width / 2 for x in range(len(sizes))], [_size(s) for s in sizes]
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
