"""The queue suite's harness drives a real emulator: counts and shapes, never speeds."""

from __future__ import annotations

import pytest
from async_queue import EVENT, SYNC, measure_mapping, measure_queue, queue_tables
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


def test_sqs_to_the_handler_is_measured_through_a_mapping() -> None:
    mapping = measure_mapping(default_clients()[0], 2)
    assert mapping["messages"] == 2
    assert mapping["send_to_start_p90_ms"] >= mapping["send_to_start_p50_ms"] > 0
    table = queue_tables({"events": 1, "rounds": 1, "figures": FIGURES, "mapping": mapping}, [])[1]
    assert table[-1].startswith("| RequestResponse round trip, p50 |")
    assert table[-1].endswith("| 1.00x |")


FIGURES = {
    SYNC: {"per_second": 1.0, "p50_ms": 1.0},
    EVENT: {"per_second": 1.0, "p50_ms": 1.0, "run_per_second": 1.0},
}
