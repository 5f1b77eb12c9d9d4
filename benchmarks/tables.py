"""Markdown tables of clients' figures, side by side with their ratios: without I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clients import BASELINE, REFERENCE
from stats import ratio

__all__ = ["cell", "column", "count_label", "grid", "size_label"]


def size_label(size: str) -> str:
    value = int(size)
    if value >= 1024 * 1024:
        return f"{value // (1024 * 1024)} MB"
    return f"{value // 1024} KB" if value >= 1024 else f"{value} B"


def count_label(count: int) -> str:
    """An invocation count, short: 500, 1.5k, 50k, 1M."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:g}M"
    return f"{count / 1000:g}k" if count >= 1000 else str(count)


def cell(value: float | None, base: float | None) -> str:
    if value is None:
        return "n/a"
    share = ratio(value, base)
    return f"{value:,.1f}" + ("" if share is None else f" ({share:.2f}x)")


def grid(
    title: str,
    first: str,
    names: Sequence[str],
    rows: Sequence[tuple[str, dict[str, Any]]],
    *,
    reference: str = REFERENCE,
    pair: tuple[str, str] | None = None,
) -> list[str]:
    """A table of clients' figures, each with its ratio to ``reference`` in parentheses.

    ``rows`` are (label, {client: figure}). A last column gives one client's
    figure over another's: ``pair``'s, else ric's over ric@baseline's when
    ``names`` has both.
    """
    if pair is None and "ric" in names and BASELINE in names:
        pair = ("ric", BASELINE)
    header = [first, *names, *([f"{pair[0]} / {pair[1]}"] if pair else [])]
    lines = [title, "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for label, values in rows:
        cells = [cell(values.get(name), values.get(reference)) for name in names]
        if pair:
            share = ratio(values.get(pair[0]), values.get(pair[1]))
            cells.append("n/a" if share is None else f"{share:.2f}x")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def column(table: dict[str, Any], key: str, scale: float = 1.0) -> dict[str, Any]:
    """One figure of each client's in ``table`` (scaled), for a row of a ``grid``."""
    return {name: figures[key] * scale for name, figures in table.items() if key in figures}
