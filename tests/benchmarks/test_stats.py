"""The harness's arithmetic and parsing: medians, ratios, RSS growth, probe records."""

from __future__ import annotations

import pytest
from stats import (
    GcRecord,
    growth_per_100k,
    median,
    parse_gc_record,
    parse_importtime,
    percentile,
    ratio,
    rotated,
    slope,
)


def test_median_and_percentile() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([]) == 0.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.99) == 100.0
    assert percentile(values, 0.5) == 50.5
    assert percentile([], 0.99) == 0.0


def test_ratio_is_none_without_a_base() -> None:
    assert ratio(1.0, 4.0) == 0.25
    assert ratio(None, 4.0) is None
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0.0) is None


def test_slope_fits_a_line_and_needs_two_points() -> None:
    assert slope([(0, 1), (1, 3), (2, 5)]) == pytest.approx(2.0)
    assert slope([(0, 0), (1, 1), (2, 0), (3, 1)]) == pytest.approx(0.2)
    assert slope([(5, 1), (5, 2)]) is None
    assert slope([]) is None


def test_growth_leaves_out_the_warm_up() -> None:
    # 10,000 KiB of start-up, then 150 B per invocation: 14,648 KiB per 100k.
    samples = [(0, 10_000), (50_000, 20_000)] + [
        (n, 20_000 + (n - 50_000) * 150 // 1024) for n in (100_000, 150_000, 200_000)
    ]
    assert growth_per_100k(samples, warmup=50_000) == pytest.approx(14_648, rel=1e-3)
    assert growth_per_100k([(0, 10_000), (50_000, 10_000), (100_000, 10_000)], 50_000) == 0.0
    assert growth_per_100k([(0, 10_000), (50_000, 12_000)], warmup=50_000) is None


def test_gc_record_parses() -> None:
    record = parse_gc_record("   87   8   0   19100000   490\n")
    assert record == GcRecord((87, 8, 0), 19_100_000, 490)
    assert record.gc_ms == pytest.approx(19.1)
    assert parse_gc_record("") == GcRecord((0, 0, 0), 0, 0)


@pytest.mark.parametrize("text", ["1 2 3", "1 2 3 4 x", "1 2 3 4 ²", "1 2 3 4 5 6"])
def test_a_bad_gc_record_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="gc probe record"):
        parse_gc_record(text)


def test_importtime_rows_by_cumulative_time() -> None:
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       120 |        120 |   _io\n"
        "import time:        80 |       2000 | encodings\n"
        "import time:       300 |        900 |   ric.protocol\n"
        "Traceback: something else | a | b\n"
    )
    assert parse_importtime(stderr, top=2) == [
        {"module": "encodings", "self_us": 80, "cumulative_us": 2000},
        {"module": "ric.protocol", "self_us": 300, "cumulative_us": 900},
    ]


def test_rotated_starts_each_round_with_the_next_client() -> None:
    names = ["ric", "ric@baseline", "awslambdaric"]
    assert [rotated(names, i)[0] for i in range(4)] == [
        "ric",
        "ric@baseline",
        "awslambdaric",
        "ric",
    ]
    assert sorted(rotated(names, 2)) == sorted(names)
    assert rotated([], 3) == []
