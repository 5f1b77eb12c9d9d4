"""The queue suite's harness drives a real emulator: counts and shapes, never speeds."""

from __future__ import annotations

import pytest
from async_queue import EVENT, SYNC, measure_queue, queue_tables
from clients import default_clients

pytestmark = pytest.mark.integration


def test_both_kinds_are_measured_and_tabled() -> None:
    results = measure_queue(default_clients()[0], 5, 1)
    figures = results["figures"]
    assert set(figures) == {SYNC, EVENT}
    assert figures[EVENT]["run_per_second"] > 0 and figures[SYNC]["per_second"] > 0
    (table,) = queue_tables(results, [])
    assert table[2] == "| figure | RequestResponse | Event |"
    assert table[-1].startswith("| queued events run per second | n/a | ")
