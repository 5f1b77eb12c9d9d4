"""The ``stream`` suite's tables: against the fake Runtime API, then through the emulator."""

from __future__ import annotations

from typing import Any

from streaming import BUFFERED, STREAMING
from tables import column, grid, size_label

__all__ = ["stream_tables"]

_STREAM_ROWS = {
    "first_byte": [
        ("first yield to first byte, µs", "first_byte_us", 1.0),
        ("first yield to last byte, µs", "last_byte_us", 1.0),
        ("client CPU per invocation, µs", "cpu_us_per_invocation", 1.0),
        ("chunks received per stream", "chunks", 1.0),
    ],
    "throughput": [
        ("MB/s, first yield to last byte", "mb_per_s", 1.0),
        ("client CPU per MB, µs", "cpu_us_per_mb", 1.0),
        ("fake API's own CPU per MB, µs", "server_cpu_us_per_mb", 1.0),
        ("first yield to first byte, µs", "first_byte_us", 1.0),
        ("peak RSS, MiB", "peak_rss_kib", 1 / 1024),
        ("chunks received per stream", "chunks", 1.0),
    ],
}


def stream_tables(results: dict[str, Any], names: list[str]) -> list[list[str]]:
    """The fake Runtime API's tables, then the emulator's (when the run has them)."""
    reference = results["reference"]
    sections = []
    for scenario, rows in _STREAM_ROWS.items():
        found = results[scenario]
        table = found["figures"]
        size = size_label(str(found["size"]))
        title = (
            f"Streaming to the fake Runtime API: {found['chunks']:,} chunks of {size} "
            f"({found['invocations']} streams a run, median of {found['reps']} runs; "
            f"ratios to {reference})"
        )
        cells = [(label, column(table, key, scale)) for label, key, scale in rows]
        sections.append(grid(title, "figure", names, cells, reference=reference))
    sections.append([f"Node's client: {results.get('node_ric', 'n/a')}."])
    if "emulator" in results:
        sections += _through_emulator(results["emulator"], results["first_byte"], names)
    return sections


# Rows of the first-byte table through the emulator: (label, path, figure).
# "raw": raw HTTP on InvokeWithResponseStream; "URL": raw HTTP to the function URL.
_FIRST_BYTE_ROWS = [
    ("raw: arrived", "invoke", "first_byte_us"),
    ("raw: read by the caller", "invoke", "first_read_us"),
    ("URL: arrived", "url", "first_byte_us"),
    ("URL: read by the caller", "url", "first_read_us"),
    ("boto3: first `PayloadChunk` handed over", "boto3", "first_byte_us"),
    ("raw: first yield to last byte", "invoke", "last_byte_us"),
    ("raw: caller CPU per invocation", "invoke", "caller_cpu_us_per_invocation"),
    ("boto3: caller CPU per invocation", "boto3", "caller_cpu_us_per_invocation"),
    ("raw: emulator CPU per invocation", "invoke", "emulator_cpu_us_per_invocation"),
    ("raw: payload chunks per stream", "invoke", "chunks"),
]
_THROUGHPUT_ROWS = [
    ("MB/s, first yield to last byte", "mb_per_s"),
    ("caller CPU per MB, µs", "caller_cpu_us_per_mb"),
    ("emulator CPU per MB, µs", "emulator_cpu_us_per_mb"),
    ("first yield to first byte (arrived), µs", "first_byte_us"),
    ("payload chunks per stream", "chunks"),
]


def _through_emulator(
    found: dict[str, Any], fake: dict[str, Any], names: list[str]
) -> list[list[str]]:
    reference, pair = found["reference"], (STREAMING, BUFFERED)
    paths = found["first_byte"]["paths"]
    rows = [("fake Runtime API, no emulator: arrived", column(fake["figures"], "first_byte_us"))]
    rows += [
        (label, column(paths[path]["figures"], key))
        for label, path, key in _FIRST_BYTE_ROWS
        if path in paths
    ]
    for path, shown in (("invoke", "raw"), ("url", "URL")):
        added = column(found["overhead"].get(path, {}), "added_us")
        rows.append((f"the emulator's part: {shown} arrived minus fake API", added))
    title = _title(found, "first_byte", "first yield to first byte at the caller, µs")
    sections = [grid(title, "figure", names, rows, reference=reference, pair=pair)]
    for scenario in ("whole", "long"):
        table = found[scenario]["paths"]["invoke"]["figures"]
        cells = [(label, column(table, key)) for label, key in _THROUGHPUT_ROWS]
        title = _title(found, scenario, "throughput, raw HTTP on InvokeWithResponseStream")
        sections.append(grid(title, "figure", names, cells, reference=reference, pair=pair))
    skipped = "; ".join(found["skipped"])
    note = (
        f"The emulator ran with `{' '.join(found['flags'])}` (`--stream-rate 0`: Lambda's "
        "2 MiB/s past the first 6 MiB lifted). raw: raw HTTP on InvokeWithResponseStream; "
        "URL: raw HTTP to the function URL (`RESPONSE_STREAM`). Arrived: the kernel's receive "
        "stamp, as the fake API's; read: when the caller's read returned. Caller CPU: the "
        "benchmark's calling thread; emulator CPU: the emulator process's."
    )
    sections.append([note + (f" Skipped: {skipped}." if skipped else "")])
    return sections


def _title(found: dict[str, Any], scenario: str, what: str) -> str:
    spec = found[scenario]
    return (
        f"Through the emulator, {what}: {spec['chunks']:,} chunks of "
        f"{size_label(str(spec['size']))} ({spec['invocations']} streams a run, median of "
        f"{spec['reps']} runs; ratios to {found['reference']})"
    )
