"""The harness's arithmetic and parsing, without I/O: medians, ratios, growth, probe records."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from stream_timing import StreamRecord

T = TypeVar("T")

__all__ = [
    "GcRecord",
    "growth_per_100k",
    "median",
    "median_figures",
    "parse_gc_record",
    "parse_importtime",
    "percentile",
    "ratio",
    "ratios",
    "rotated",
    "slope",
    "stream_figures",
]


def median(values: Sequence[float]) -> float:
    """The median, or 0.0 for no values (a client that never answered)."""
    return float(statistics.median(values)) if values else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The value at fraction ``q`` of the sorted values (nearest rank, no interpolation)."""
    if not values:
        return 0.0
    if q == 0.5:
        return median(values)
    ordered = sorted(values)
    return float(ordered[min(int(q * len(ordered)), len(ordered) - 1)])


def rotated(items: Sequence[T], shift: int) -> list[T]:
    """``items`` starting at ``shift`` (mod their number): round ``i`` of an interleaved
    series starts with a different client, so none always runs first (or right after
    the same other one)."""
    if not items:
        return []
    start = shift % len(items)
    return [*items[start:], *items[:start]]


def ratio(value: float | None, base: float | None) -> float | None:
    """``value / base``, or None when either is missing or the base is zero."""
    if value is None or not base:
        return None
    return value / base


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of y over x; None for fewer than two distinct x."""
    if len({x for x, _ in points}) < 2:
        return None
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in points)
    variance = sum((x - mean_x) ** 2 for x, _ in points)
    return covariance / variance


def growth_per_100k(samples: Sequence[tuple[int, int]], warmup: int) -> float | None:
    """KiB of RSS gained per 100,000 invocations, fitted over the samples from ``warmup`` on.

    ``samples`` are (invocations served, RSS KiB). The first invocations fill
    caches and free lists, so they are left out of the fit.
    """
    fitted = slope([(n, kib) for n, kib in samples if n >= warmup])
    return None if fitted is None else fitted * 100_000


@dataclass(frozen=True)
class GcRecord:
    """What ``gc_probe.py`` wrote: the collector's work so far in the probed process."""

    collections: tuple[int, int, int]  # by generation
    gc_ns: int  # wall time inside collections
    collected: int  # objects freed

    @property
    def gc_ms(self) -> float:
        return self.gc_ns / 1e6


def parse_gc_record(text: str) -> GcRecord:
    """A record line: ``gen0 gen1 gen2 nanoseconds collected``; an empty file is no work."""
    fields = text.split()
    if not fields:
        return GcRecord((0, 0, 0), 0, 0)
    if len(fields) != 5 or not all(f.isdigit() and f.isascii() for f in fields):
        raise ValueError(f"not a gc probe record: {text!r}")
    gen0, gen1, gen2, gc_ns, collected = map(int, fields)
    return GcRecord((gen0, gen1, gen2), gc_ns, collected)


def parse_importtime(stderr: str, top: int) -> list[dict[str, object]]:
    """The ``top`` costliest imports in ``-X importtime`` output, by cumulative time."""
    rows: list[tuple[int, int, str]] = []
    for line in stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[0].startswith("import time:"):
            continue
        self_us, cumulative = parts[0].split(":", 1)[1].strip(), parts[1].strip()
        if self_us.isdigit() and cumulative.isdigit():
            rows.append((int(cumulative), int(self_us), parts[2].strip()))
    rows.sort(key=lambda row: -row[0])
    return [
        {"module": module, "self_us": self_us, "cumulative_us": cumulative}
        for cumulative, self_us, module in rows[:top]
    ]


def stream_figures(
    records: Sequence[StreamRecord], cpu_ns: int, server_cpu_ns: int, peak_rss_kib: int
) -> dict[str, float]:
    """One run's figures: medians over its streams; CPU over all of them, per MB and each.

    MB are 10^6 bytes. ``streamed`` is 1.0 when every stream came chunked
    (streaming), 0.0 when none did.
    """
    megabytes = sum(r.data_bytes for r in records) / 1e6
    count = max(len(records), 1)
    return {
        "first_byte_us": median([r.first_byte_us for r in records]),
        "last_byte_us": median([r.seconds * 1e6 for r in records]),
        "mb_per_s": median([r.mb_per_s for r in records]),
        "cpu_us_per_invocation": cpu_ns / 1000 / count,
        "cpu_us_per_mb": cpu_ns / 1e3 / megabytes if megabytes else 0.0,
        "server_cpu_us_per_mb": server_cpu_ns / 1e3 / megabytes if megabytes else 0.0,
        "peak_rss_kib": float(peak_rss_kib),
        "chunks": median([r.chunks for r in records]),
        "streamed": sum(r.streamed for r in records) / count,
        "errors": float(sum(r.error_type is not None for r in records)),
    }


def median_figures(runs: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Each figure's median over runs (interleaved repetitions of one client)."""
    keys = list(runs[0]) if runs else []
    return {key: median([run[key] for run in runs]) for key in keys}


def ratios(
    table: Mapping[str, Mapping[str, float]], reference: str
) -> dict[str, dict[str, float | None]]:
    """Each client's figures over the reference's, figure by figure (None: no ratio)."""
    base = table.get(reference, {})
    return {
        name: {key: ratio(value, base.get(key)) for key, value in figures.items()}
        for name, figures in table.items()
    }
