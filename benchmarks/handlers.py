"""Handlers the benchmarks serve."""

from typing import Any


def echo(event: Any, context: Any) -> Any:
    return event
